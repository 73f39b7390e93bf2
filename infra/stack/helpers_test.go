package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// assetsDir holds a fake bootstrap per function for every synth in this
// package; the stack only packages the files, so their content is free.
var assetsDir string

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	dir, err := os.MkdirTemp("", "infra-assets-")
	if err != nil {
		panic(err)
	}
	for _, name := range FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte("binary of "+name), 0o755); err != nil {
			panic(err)
		}
	}
	assetsDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	jsii.Close()
	os.Exit(code)
}

// check runs one assertion. A failing CDK assertion panics; check turns the
// panic into one t.Error naming what was checked, so every check reports.
func check(t *testing.T, what string, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assertion()
}

// synthesized is a stack synthesized with some context, with its template
// both as an assertions.Template and as plain JSON for walking.
type synthesized struct {
	s    *Stack
	tmpl assertions.Template
	json map[string]any
	dir  string // the cloud assembly directory
}

var synthCache = map[string]*synthesized{}

// The contexts the tests synthesize besides the defaults; each is
// synthesized once (a synth takes seconds) and shared.
var (
	// replicationCtx switches the cache to a cluster-mode replication group.
	replicationCtx = map[string]any{"redisMode": RedisReplicationGroup, "numNodeGroups": 3, "replicasPerNodeGroup": 2}
	// variantCtx turns on every optional feature and unreserves prefetch.
	variantCtx = map[string]any{
		"apiProvisionedConcurrency":   5,
		"corsOrigins":                 "https://app.example, https://b.example",
		"alarmEmail":                  "ops@example.com",
		"natGateways":                 2,
		"prefetchReservedConcurrency": 0,
	}
)

// synth declares the stack through FromApp (cdk-nag included) with the
// default assets dir plus ctx, and synthesizes it. Results are shared
// between tests by context.
func synth(t *testing.T, ctx map[string]any) *synthesized {
	t.Helper()
	full := map[string]any{"assetsDir": assetsDir}
	for k, v := range ctx {
		full[k] = v
	}
	key, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := synthCache[string(key)]; ok {
		return got
	}
	// A shared result outlives the test that made it: its assembly goes
	// to the package's directory, not the test's.
	dir, err := os.MkdirTemp(assetsDir, "synth-")
	if err != nil {
		t.Fatal(err)
	}
	out := synthAt(t, dir, full, nil)
	synthCache[string(key)] = out
	return out
}

// synthWith synthesizes with exactly ctx; extra, if set, adds constructs to
// the stack before synthesis.
func synthWith(t *testing.T, ctx map[string]any, extra func(scope constructs.Construct)) *synthesized {
	t.Helper()
	return synthAt(t, t.TempDir(), ctx, extra)
}

// synthAt is synthWith into the cloud assembly directory dir.
func synthAt(t *testing.T, dir string, ctx map[string]any, extra func(scope constructs.Construct)) *synthesized {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir), Context: &ctx})
	s, err := FromApp(app, StackName)
	if err != nil {
		t.Fatalf("FromApp(%v): %v", ctx, err)
	}
	if extra != nil {
		extra(s.Stack)
	}
	app.Synth(nil)
	tmpl := assertions.Template_FromStack(s.Stack, nil)
	return &synthesized{s: s, tmpl: tmpl, json: *tmpl.ToJSON(), dir: dir}
}

// logicalID is the CloudFormation logical ID of an L2 construct's resource.
func (x *synthesized) logicalID(c constructs.IConstruct) string {
	return *x.s.Stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

// resources returns the template's resources of one type, by logical ID.
func (x *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range x.json["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// props returns the Properties of the resource with this logical ID.
func (x *synthesized) props(t *testing.T, logicalID string) map[string]any {
	t.Helper()
	r, ok := x.json["Resources"].(map[string]any)[logicalID]
	if !ok {
		t.Fatalf("no resource %s in the template", logicalID)
	}
	p, _ := r.(map[string]any)["Properties"].(map[string]any)
	return p
}

// ref and getAtt build the intrinsic functions the template uses.
func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

// same compares two JSON-like values structurally.
func same(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// asList returns v as a list, wrapping a single value.
func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// literal concatenates the literal strings of a value that may be an
// Fn::Join, so tests can search a dashboard body or an expression.
func literal(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			s := ""
			for _, part := range asList(j[1]) {
				s += literal(part)
			}
			return s
		}
		return "<token>"
	}
	return fmt.Sprint(v)
}

func obj(m map[string]any) *map[string]any { return &m }

func list(v ...any) *[]any { return &v }

func str(s string) *string { return &s }

func num(n float64) *float64 { return &n }
