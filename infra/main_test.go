package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/opitios/opitios-alpaca/infra/stack"
)

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// fakeAssets writes a bootstrap per function under a temp dir.
func fakeAssets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range stack.FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte(name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newApp(t *testing.T, ctx map[string]any) (awscdk.App, string) {
	t.Helper()
	out := t.TempDir()
	return awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out), Context: &ctx}), out
}

func TestRunWritesTheTemplate(t *testing.T) {
	app, out := newApp(t, map[string]any{"assetsDir": fakeAssets(t)})
	if err := run(withMetadata(app)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, stack.StackName+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type     string
			Metadata map[string]any
		}
		Outputs map[string]any
	}
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	functions := 0
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		functions++
		// sam local start-api -t cdk.out/<stack>.template.json finds the code here.
		path, _ := r.Metadata["aws:asset:path"].(string)
		if _, err := os.Stat(filepath.Join(out, path, "bootstrap")); path == "" || err != nil {
			t.Errorf("function %s: aws:asset:path %q does not lead to its bootstrap (%v)", id, path, err)
		}
	}
	if functions != 3 || tmpl.Outputs["ApiUrl"] == nil {
		t.Errorf("template has %d functions and outputs %v, want 3 and an ApiUrl", functions, tmpl.Outputs)
	}
}

func TestRunRejectsAnInvalidConfiguration(t *testing.T) {
	app, _ := newApp(t, map[string]any{"assetsDir": filepath.Join(t.TempDir(), "not-built")})
	if err := run(app); !errors.Is(err, stack.ErrInvalidConfig) {
		t.Fatalf("run = %v, want ErrInvalidConfig", err)
	}
}

// A cdk-nag finding anywhere in the app fails the run, with the rule named.
func TestRunFailsOnAnUnsuppressedNagFinding(t *testing.T) {
	app, _ := newApp(t, map[string]any{"assetsDir": fakeAssets(t)})
	other := awscdk.NewStack(app, jsii.String("Other"), nil)
	awssqs.NewQueue(other, jsii.String("Careless"), nil)
	err := run(app)
	if !errors.Is(err, errNag) || !strings.Contains(err.Error(), "AwsSolutions-SQS4") {
		t.Fatalf("run = %v, want errNag naming AwsSolutions-SQS4", err)
	}
}
