package stack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// nagErrors matches cdk-nag's AwsSolutions annotations. (A function: a
// package-level jsii call would start the runtime before TestMain.)
func nagErrors() assertions.Matcher {
	return assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
}

// Every configuration synthesizes with no unsuppressed AwsSolutions finding.
func TestAwsSolutionsChecksPass(t *testing.T) {
	for _, ctx := range []map[string]any{nil, replicationCtx, variantCtx} {
		x := synth(t, ctx)
		found := assertions.Annotations_FromStack(x.s.Stack).FindError(jsii.String("*"), nagErrors())
		errs := nagFindings(t, x)
		if len(*found) != 0 || len(errs) != 0 {
			t.Errorf("context %v: %d cdk-nag error annotations:\n%s", ctx, len(*found), strings.Join(errs, "\n"))
		}
	}
}

// The checks really run: a queue without SSL enforcement is reported, both
// as an error annotation and by NagFindings.
func TestAwsSolutionsChecksCatchAViolation(t *testing.T) {
	x := synthWith(t, map[string]any{"assetsDir": assetsDir}, func(scope constructs.Construct) {
		awssqs.NewQueue(scope, jsii.String("Careless"), &awssqs.QueueProps{})
	})
	found := assertions.Annotations_FromStack(x.s.Stack).FindError(jsii.String("/OpitiosAlpaca/Careless/Resource"), nagErrors())
	if len(*found) == 0 {
		t.Error("no error annotation for a queue without SSL enforcement or a DLQ")
	}
	errs := nagFindings(t, x)
	if !slices.ContainsFunc(errs, func(e string) bool {
		return strings.Contains(e, "OpitiosAlpaca/Careless/Resource") && strings.Contains(e, "AwsSolutions-SQS4")
	}) {
		t.Errorf("NagFindings = %v, want AwsSolutions-SQS4 on the careless queue", errs)
	}
}

// Suppressions are few, named, scoped to resources and explained.
func TestSuppressionsAreScopedAndExplained(t *testing.T) {
	allowed := map[string]bool{
		"AwsSolutions-IAM5": true, "AwsSolutions-SMG4": true, "AwsSolutions-SQS3": true, "AwsSolutions-APIG4": true,
		// The stream hub's (nag.go, hubSuppressions).
		"AwsSolutions-ECS2": true, "AwsSolutions-EC23": true, "AwsSolutions-ELB2": true,
	}
	for _, ctx := range []map[string]any{nil, replicationCtx} {
		x := synth(t, ctx)
		if md, ok := x.json["Metadata"].(map[string]any); ok && md["cdk_nag"] != nil {
			t.Errorf("stack-wide cdk-nag suppressions: %v", md["cdk_nag"])
		}
		n := 0
		for id, r := range x.json["Resources"].(map[string]any) {
			md, _ := r.(map[string]any)["Metadata"].(map[string]any)
			nag, _ := md["cdk_nag"].(map[string]any)
			for _, s := range asList(nag["rules_to_suppress"]) {
				s := s.(map[string]any)
				n++
				if !allowed[s["id"].(string)] {
					t.Errorf("%s suppresses %v, which no reason here covers", id, s["id"])
				}
				if reason, _ := s["reason"].(string); len(reason) < 60 {
					t.Errorf("%s suppresses %v with too thin a reason: %q", id, s["id"], reason)
				}
				if s["id"] == "AwsSolutions-IAM5" && !same(s["applies_to"], []any{"Resource::*"}) {
					t.Errorf("%s: IAM5 suppression applies to %v, want only Resource::*", id, s["applies_to"])
				}
			}
		}
		if n == 0 {
			t.Errorf("context %v: no suppression metadata found; the walk is looking in the wrong place", ctx)
		}
	}
}

func nagFindings(t *testing.T, x *synthesized) []string {
	t.Helper()
	errs, err := NagFindings(x.dir)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// NagFindings keeps error annotations and rules cdk-nag could not evaluate,
// from every artifact, inline or in its metadata file, and nothing else.
func TestNagFindingsReadsTheAssembly(t *testing.T) {
	dir := t.TempDir()
	manifest := `{"version":"48.0.0","artifacts":{
		"A":{"type":"aws:cloudformation:stack","metadata":{
			"/A/Queue/Resource":[
				{"type":"aws:cdk:error","data":"AwsSolutions-SQS4: no SSL\n"},
				{"type":"aws:cdk:warning","data":"AwsSolutions-SQS3: no DLQ\n"},
				{"type":"aws:cdk:info","data":"CdkNagSuppression: reasoned\n"}],
			"/A/Fn/Resource":[
				{"type":"aws:cdk:warning","data":"CdkNagValidationFailure[AwsSolutions-L1]: threw\n"},
				{"type":"aws:cdk:logicalId","data":"FnABC"}]}},
		"B":{"type":"aws:cloudformation:stack","additionalMetadataFile":"B.metadata.json"},
		"Tree":{"type":"cdk:tree"}}}`
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "B.metadata.json"), []byte(`{
		"/B/Topic/Resource":[{"type":"aws:cdk:error","data":"AwsSolutions-SNS3: no SSL"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := NagFindings(dir)
	want := []string{
		"/A/Fn/Resource CdkNagValidationFailure[AwsSolutions-L1]: threw",
		"/A/Queue/Resource AwsSolutions-SQS4: no SSL",
		"/B/Topic/Resource AwsSolutions-SNS3: no SSL",
	}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("NagFindings = %q, %v; want %q", got, err, want)
	}
	if _, err := NagFindings(t.TempDir()); err == nil {
		t.Error("NagFindings of a directory without a manifest: no error")
	}
}
