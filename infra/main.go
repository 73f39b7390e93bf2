// Command infra is the CDK app: it synthesizes the OpitiosAlpaca stack into
// the cloud assembly directory (CDK_OUTDIR, set by the CDK CLI; cdk.out when
// run by hand with CDK_OUTDIR=cdk.out).
//
// Configuration comes from CDK context (cdk.json through the CLI, or -c
// key=value; CDK_CONTEXT_JSON without it). The cdk-nag AwsSolutions checks
// run on every synth; an unsuppressed finding makes this command exit
// non-zero, with or without the CLI.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/opitios/opitios-alpaca/infra/stack"
)

func main() {
	err := run(withMetadata(awscdk.NewApp(nil)))
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

// withMetadata turns on the resource metadata the CDK CLI turns on, unless
// the context already decides: a CLI-less synth then also carries each
// function's asset path, which `sam local` needs to find the code. It must
// be called before anything is added to app.
func withMetadata(app awscdk.App) awscdk.App {
	for _, key := range []string{"aws:cdk:enable-path-metadata", "aws:cdk:enable-asset-metadata"} {
		if app.Node().TryGetContext(jsii.String(key)) == nil {
			app.Node().SetContext(jsii.String(key), true)
		}
	}
	return app
}

// errNag reports unsuppressed cdk-nag findings.
var errNag = errors.New("cdk-nag AwsSolutions findings without a suppression")

// run declares the stack in app and synthesizes it. It fails when the
// configuration is invalid or cdk-nag reports unsuppressed findings; the
// assembly is written either way, so the report can be read.
func run(app awscdk.App) error {
	if _, err := stack.FromApp(app, stack.StackName); err != nil {
		return err
	}
	app.Synth(nil)
	errs, err := stack.NagFindings(*app.Outdir())
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w:\n  %s", errNag, strings.Join(errs, "\n  "))
	}
	return nil
}
