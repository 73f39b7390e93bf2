// Command infra is the CDK app: it synthesizes the OpitiosAlpaca stack into
// the cloud assembly directory (CDK_OUTDIR, set by the CDK CLI; cdk.out when
// run by hand with CDK_OUTDIR=cdk.out).
//
// Configuration comes from CDK context (cdk.json, or -c key=value). The
// cdk-nag AwsSolutions checks run on every synth; an unsuppressed finding,
// or any other error annotation, makes this command exit non-zero even
// without the CLI.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/opitios/opitios-alpaca/infra/stack"
)

func main() {
	err := run(awscdk.NewApp(nil))
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

// errAnnotations reports error annotations (cdk-nag findings among them)
// found in the synthesized assembly.
var errAnnotations = errors.New("synthesis produced error annotations")

// run declares the stack in app, synthesizes it, and fails when the
// configuration is invalid or the assembly carries error annotations.
func run(app awscdk.App) error {
	if _, err := stack.FromApp(app, stack.StackName); err != nil {
		return err
	}
	assembly := app.Synth(nil)
	var problems []string
	for _, st := range *assembly.Stacks() {
		for _, m := range *st.Messages() {
			if m.Level == cxapi.SynthesisMessageLevel_ERROR {
				problems = append(problems, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w:\n  %s", errAnnotations, strings.Join(problems, "\n  "))
	}
	return nil
}
