package stack

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lookup(ctx map[string]any) func(string) any {
	return func(key string) any { return ctx[key] }
}

func TestFromContextOverridesDefaults(t *testing.T) {
	cfg, err := FromContext(lookup(map[string]any{
		"assetsDir":                 assetsDir,
		"apiMemoryMB":               float64(2048), // JSON number, as from cdk.json
		"apiReservedConcurrency":    "50",          // string, as from -c key=value
		"apiProvisionedConcurrency": "5",
		"redisMode":                 RedisReplicationGroup,
		"numNodeGroups":             float64(3),
		"corsOrigins":               "https://a.example",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.AssetsDir = assetsDir
	want.API.MemoryMB = 2048
	want.API.ReservedConcurrency = 50
	want.APIProvisionedConcurrency = 5
	want.RedisMode = RedisReplicationGroup
	want.RedisNumNodeGroups = 3
	want.CORSOrigins = "https://a.example"
	if cfg != want {
		t.Errorf("FromContext = %+v\nwant %+v", cfg, want)
	}
}

func TestFromContextRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  map[string]any
		want string // substring of the error
	}{
		{"fractional int", map[string]any{"apiMemoryMB": 1024.5}, "apiMemoryMB"},
		{"non-numeric int", map[string]any{"apiTimeoutSeconds": "ten"}, "apiTimeoutSeconds"},
		{"number for a string", map[string]any{"redisMode": float64(1)}, "redisMode"},
		{"memory too small", map[string]any{"authorizerMemoryMB": 64}, "authorizer memory"},
		{"timeout too long", map[string]any{"apiTimeoutSeconds": 901}, "api timeout"},
		{"negative reservation", map[string]any{"prefetchReservedConcurrency": -1}, "prefetch reserved"},
		{"prefetch past its minute", map[string]any{"prefetchTimeoutSeconds": 60}, "one-minute schedule"},
		{"provisioned above reserved", map[string]any{"apiProvisionedConcurrency": 101}, "exceeds its reserved"},
		{"unknown redis mode", map[string]any{"redisMode": "cluster"}, "redisMode"},
		{"no node groups", map[string]any{"redisMode": RedisReplicationGroup, "numNodeGroups": 0}, "numNodeGroups"},
		{"too many replicas", map[string]any{"redisMode": RedisReplicationGroup, "replicasPerNodeGroup": 6}, "replicasPerNodeGroup"},
		{"bad node type", map[string]any{"redisMode": RedisReplicationGroup, "redisNodeType": "t4g.small"}, "redisNodeType"},
		{"upper-case cache name", map[string]any{"cacheName": "Opitios"}, "cacheName"},
		{"no NAT", map[string]any{"natGateways": 0}, "natGateways"},
		{"odd retention", map[string]any{"logRetentionDays": 31}, "logRetentionDays"},
		{"zero TTL", map[string]any{"ttlStockQuoteSeconds": 0}, "TTLs"},
		{"budget share above one", map[string]any{"prefetchBudgetShare": "1.5"}, "prefetchBudgetShare"},
		{"zero throttle", map[string]any{"throttleRateLimit": 0}, "throttle"},
		{"no revocation window", map[string]any{"revocationWindowSeconds": 0}, "revocationWindowSeconds"},
		{"revocation window over an hour", map[string]any{"revocationWindowSeconds": 3601}, "revocationWindowSeconds"},
		{"missing assets", map[string]any{"assetsDir": filepath.Join(t.TempDir(), "nowhere")}, "api/bootstrap is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := map[string]any{"assetsDir": assetsDir}
			for k, v := range tc.ctx {
				if n, ok := v.(int); ok {
					v = float64(n)
				}
				ctx[k] = v
			}
			_, err := FromContext(lookup(ctx))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("FromContext(%v) = %v, want an error mentioning %q", tc.ctx, err, tc.want)
			}
			if strings.HasPrefix(tc.name, "fractional") || strings.HasPrefix(tc.name, "non-numeric") || strings.HasPrefix(tc.name, "number for") {
				return // parse errors, not validation errors
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
		})
	}
}

func TestMissingOneBootstrapIsReported(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"api", "prefetch"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err := FromContext(lookup(map[string]any{"assetsDir": dir}))
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), filepath.Join(dir, "authorizer", "bootstrap")) {
		t.Fatalf("err = %v, want the missing authorizer bootstrap named", err)
	}
}

// The CLI reads cdk.json; `go run ./infra` does not. Both must synthesize
// the same stack, so cdk.json must hold exactly the code's defaults.
func TestCDKJSONHoldsTheDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.App != "go run ./infra" {
		t.Errorf(`cdk.json app = %q, want "go run ./infra"`, doc.App)
	}
	want := map[string]any{}
	b, _ := json.Marshal(DefaultContext())
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got, ok := doc.Context[k]; !ok || !same(got, v) {
			t.Errorf("cdk.json context %q = %v, want the default %v", k, got, v)
		}
	}
	for k := range doc.Context {
		if _, ok := want[k]; !ok {
			t.Errorf("cdk.json context %q is not a key the stack reads", k)
		}
	}
	if len(ContextKeys()) != len(want) {
		t.Errorf("ContextKeys has %d keys, DefaultContext %d: a key is listed twice", len(ContextKeys()), len(want))
	}
}
