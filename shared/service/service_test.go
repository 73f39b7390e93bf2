package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/emftest"
	"github.com/opitios/opitios-alpaca/dev/promsink"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/hitrate"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/service"
)

var regular = time.Date(2026, 11, 25, 14, 0, 0, 0, market.NewYork)

// TestMetricsOfAScriptedSequence runs a miss, a hit, a batch and an origin
// error through the Lambda handler and checks the counts in both outputs:
// the EMF documents written per invocation and the Prometheus registry.
func TestMetricsOfAScriptedSequence(t *testing.T) {
	clk := market.ClockFunc(func() time.Time { return regular })
	sim, simSrv := alpacasim.NewTestServer(t, alpacasim.Config{Clock: clk})
	rs := redistest.StartServer(t)
	reg := prometheus.NewRegistry()
	rec := metrics.New(metrics.Options{EMF: true, Function: "api", Sink: promsink.New(reg)})
	svc, err := service.New(service.Config{
		Redis:   cache.RedisConfig{URL: "redis://" + rs.Addr, Timeout: time.Second},
		Alpaca:  alpaca.Config{BaseURL: simSrv.URL, KeyID: "k", SecretKey: "s", MaxRetries: -1},
		Clock:   clk,
		Metrics: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	var out bytes.Buffer
	h := svc.APIHandler(&out)
	call := func(path, query string, want int) {
		t.Helper()
		ev := events.APIGatewayV2HTTPRequest{RawPath: path, RawQueryString: query}
		ev.RequestContext.HTTP.Method = "GET"
		resp, err := h(context.Background(), ev)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("%s?%s: %d %v %s", path, query, resp.StatusCode, err, resp.Body)
		}
	}
	lines := 0
	invocation := func() {
		t.Helper()
		n := strings.Count(out.String(), "\n")
		if n == lines {
			t.Fatal("an invocation flushed no EMF")
		}
		lines = n
	}
	call("/v2/stocks/AAPL/quotes/latest", "", 200) // miss
	invocation()
	call("/v2/stocks/AAPL/quotes/latest", "", 200) // L1 hit
	invocation()
	call("/v2/stocks/quotes/latest", "symbols=AAPL,MSFT", 200) // L1 hit + miss
	invocation()
	sim.SetFault(alpacasim.HTML500)
	call("/v2/stocks/NVDA/quotes/latest", "", 503) // origin error
	invocation()

	want := map[string]float64{
		"l1/hit/stock_quote":       2,
		"l1/miss/stock_quote":      3,
		"l2/miss/stock_quote":      3,
		"l2/write/stock_quote":     2,
		"origin/hit/stock_quote":   2,
		"origin/error/stock_quote": 1,
	}
	// EMF: sum CacheRequests over the documents, by their dimension values.
	emf := map[string]float64{}
	api := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if err := emftest.ValidateEMF([]byte(line)); err != nil {
			t.Fatalf("invalid EMF %v: %s", err, line)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatal(err)
		}
		if v, ok := doc["CacheRequests"].(float64); ok {
			emf[fmt.Sprintf("%s/%s/%s", doc["Layer"], doc["Result"], doc["DataType"])] += v
		}
		if v, ok := doc["ApiLatency"]; ok {
			n := 1.0
			if a, isArr := v.([]any); isArr {
				n = float64(len(a))
			}
			api[fmt.Sprintf("%s %s", doc["Route"], doc["Status"])] += n
		}
	}
	for k, v := range want {
		if emf[k] != v {
			t.Errorf("EMF CacheRequests %s = %v, want %v (all: %v)", k, emf[k], v, emf)
		}
	}
	if len(emf) != len(want) {
		t.Errorf("EMF CacheRequests has extra series: %v", emf)
	}
	wantAPI := map[string]float64{
		"/v2/stocks/{symbol}/quotes/latest 200": 2,
		"/v2/stocks/{symbol}/quotes/latest 503": 1,
		"/v2/stocks/quotes/latest 200":          1,
	}
	for k, v := range wantAPI {
		if api[k] != v {
			t.Errorf("EMF ApiLatency samples %s = %v, want %v (all: %v)", k, api[k], v, api)
		}
	}
	// Prometheus: the same counts.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	prom := map[string]float64{}
	promAPI := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			switch mf.GetName() {
			case "opitios_cache_requests_total":
				prom[l["layer"]+"/"+l["result"]+"/"+l["data_type"]] = m.GetCounter().GetValue()
			case "opitios_api_requests_total":
				promAPI[l["route"]+" "+l["status"]] = m.GetCounter().GetValue()
			}
		}
	}
	for k, v := range want {
		if prom[k] != v {
			t.Errorf("Prometheus cache %s = %v, want %v (all: %v)", k, prom[k], v, prom)
		}
	}
	for k, v := range wantAPI {
		if promAPI[k] != v {
			t.Errorf("Prometheus api %s = %v, want %v (all: %v)", k, promAPI[k], v, promAPI)
		}
	}
}

// TestPartsReadTheServiceClock runs the service and the simulator on one
// manual clock: the origin client reads the simulator's rate-limit reset
// against it, and the API's hits and misses land in its minute's window,
// where the prefetch optimizer, on the same clock, looks for them.
func TestPartsReadTheServiceClock(t *testing.T) {
	clk := market.NewManualClock(regular) // 14:00:00 New York time
	sim, simSrv := alpacasim.NewTestServer(t, alpacasim.Config{Clock: clk, RateLimitPerMinute: 1})
	rs := redistest.StartServer(t)
	svc, err := service.New(service.Config{
		Redis:  cache.RedisConfig{URL: "redis://" + rs.Addr, Timeout: time.Second},
		Alpaca: alpaca.Config{BaseURL: simSrv.URL, KeyID: "k", SecretKey: "s", MaxRetries: -1},
		Clock:  clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()

	ev := events.APIGatewayV2HTTPRequest{RawPath: "/v2/stocks/AAPL/quotes/latest"}
	ev.RequestContext.HTTP.Method = "GET"
	if resp, err := svc.API.Handle(ctx, ev); err != nil || resp.StatusCode != 200 {
		t.Fatalf("quote: %d %v %s", resp.StatusCode, err, resp.Body)
	}
	if err := svc.Windows.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ws, err := hitrate.NewWindows(rs.Client(), hitrate.WindowsOptions{}).Recent(ctx, "stock_quote", 1, clk.Now())
	if err != nil || len(ws) != 1 || ws[0].Misses != 1 || ws[0].Hits != 0 {
		t.Fatalf("the window of %s: %+v, %v; want the one miss", clk.Now().UTC(), ws, err)
	}

	// The simulator's budget of one request in the minute of 14:00 is
	// spent: 15 s later it resets in 45 s, on the clock both sides read.
	clk.Advance(15 * time.Second)
	_, err = svc.Origin.LatestStockQuotes(ctx, []string{"MSFT"}, "")
	var ae *alpaca.Error
	if !errors.Is(err, alpaca.ErrRateLimited) || !errors.As(err, &ae) ||
		ae.RetryAfter != 45*time.Second || !ae.Reset.Equal(regular.Add(time.Minute)) {
		t.Fatalf("429: %v, want a wait of 45s until %s", err, regular.Add(time.Minute).UTC())
	}
	if n := sim.Stats().TotalRequests; n != 2 {
		t.Fatalf("%d origin requests, want 2", n)
	}
}

// TestFromEnv reads the stack's environment.
func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"REDIS_URL":                       "rediss://cache.example:6379",
		"REDIS_CLUSTER":                   "true",
		"ALPACA_API_KEY_ID":               "id",
		"ALPACA_API_SECRET_KEY":           "secret",
		"ALPACA_FEED":                     "sip",
		"ORIGIN_BUDGET_PER_MINUTE":        "150",
		"TTL_STOCK_QUOTE_SECONDS":         "45", // clamped to the 30 s SLO
		"TTL_OPTION_QUOTE_SECONDS":        "20",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
	}
	var mu sync.Mutex
	getenv := func(k string) string { mu.Lock(); defer mu.Unlock(); return env[k] }
	cfg, err := service.FromEnv(context.Background(), getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Redis.URL != env["REDIS_URL"] || !cfg.Redis.Cluster || cfg.Redis.Timeout != 50*time.Millisecond {
		t.Errorf("redis %+v", cfg.Redis)
	}
	if cfg.Alpaca.KeyID != "id" || cfg.Alpaca.SecretKey != "secret" || cfg.Alpaca.StockFeed != "sip" || cfg.BudgetPerMin != 150 {
		t.Errorf("alpaca %+v budget %d", cfg.Alpaca.StockFeed, cfg.BudgetPerMin)
	}
	if cfg.Policy.Base(cache.StockQuote) != 30*time.Second || cfg.Policy.Base(cache.OptionQuote) != 20*time.Second {
		t.Errorf("policy %v %v", cfg.Policy.Base(cache.StockQuote), cfg.Policy.Base(cache.OptionQuote))
	}
	if cfg.MemoryLimitMB != 1024 || cfg.Clock != nil {
		t.Errorf("memory %d, clock %v (want the system clock)", cfg.MemoryLimitMB, cfg.Clock)
	}

	// A simulated clock, for a simulator on this machine only.
	env[service.EnvSimAt] = "2026-11-25T14:00:00-05:00"
	if _, err := service.FromEnv(context.Background(), getenv, nil); err == nil || !strings.Contains(err.Error(), service.EnvSimAt) {
		t.Fatalf("%s with Alpaca as the origin: %v", service.EnvSimAt, err)
	}
	env["ALPACA_DATA_URL"] = "http://127.0.0.1:9100"
	if cfg, err = service.FromEnv(context.Background(), getenv, nil); err != nil || cfg.Clock == nil {
		t.Fatalf("%s with the simulator: clock %v, %v", service.EnvSimAt, cfg.Clock, err)
	}
	if d := cfg.Clock.Now().Sub(regular); d < 0 || d > time.Minute {
		t.Errorf("the simulated clock reads %s, want %s and running", cfg.Clock.Now(), regular)
	}
	env[service.EnvSimAt] = "2026-11-25 14:00"
	if _, err := service.FromEnv(context.Background(), getenv, nil); err == nil || !strings.Contains(err.Error(), service.EnvSimAt) {
		t.Fatalf("%s not RFC 3339: %v", service.EnvSimAt, err)
	}
	delete(env, service.EnvSimAt)
	delete(env, "ALPACA_DATA_URL")

	env["ORIGIN_BUDGET_PER_MINUTE"] = "lots"
	if _, err := service.FromEnv(context.Background(), getenv, nil); err == nil || !strings.Contains(err.Error(), "ORIGIN_BUDGET_PER_MINUTE") {
		t.Fatalf("bad budget: %v", err)
	}
	delete(env, "ALPACA_API_KEY_ID")
	env["ORIGIN_BUDGET_PER_MINUTE"] = "150"
	if _, err := service.FromEnv(context.Background(), getenv, nil); err == nil {
		t.Fatal("missing credentials accepted")
	}
}

// The fallback budget follows the instance count the stack configures:
// every instance in fallback at once stays within the fleet budget.
func TestFallbackBudgetFollowsTheConfiguredInstances(t *testing.T) {
	for _, tc := range []struct {
		instances string
		want      int
	}{{"", config.DefaultOriginInstances}, {"1020", 1020}, {"4", 4}} {
		env := map[string]string{
			"ALPACA_API_KEY_ID": "id", "ALPACA_API_SECRET_KEY": "secret",
			"REDIS_URL":               "redis://127.0.0.1:1",
			config.EnvOriginInstances: tc.instances,
		}
		cfg, err := service.FromEnv(context.Background(), func(k string) string { return env[k] }, nil)
		if err != nil || cfg.OriginInstances != tc.want {
			t.Fatalf("%s=%q: instances %d, %v; want %d", config.EnvOriginInstances, tc.instances, cfg.OriginInstances, err, tc.want)
		}
		svc, err := service.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		burst, rate := svc.Budget.Fallback()
		budgetPerMin := float64(cfg.BudgetPerMin) + 1e-9
		if float64(tc.want)*rate > budgetPerMin {
			t.Errorf("%d instances × %g/min exceeds the budget %d/min", tc.want, rate, cfg.BudgetPerMin)
		}
		// With more budget than instances, bursts included too.
		if tc.want < cfg.BudgetPerMin && float64(tc.want)*(float64(burst)+rate) > budgetPerMin {
			t.Errorf("%d instances × (burst %d + %g/min) exceeds the budget %d/min", tc.want, burst, rate, cfg.BudgetPerMin)
		}
		_ = svc.Close()
	}
	env := map[string]string{"ALPACA_API_KEY_ID": "id", "ALPACA_API_SECRET_KEY": "secret", config.EnvOriginInstances: "0"}
	if _, err := service.FromEnv(context.Background(), func(k string) string { return env[k] }, nil); err == nil {
		t.Fatal("0 instances accepted")
	}
}

// A malformed REDIS_URL is reported without the URL: its password never
// reaches an error (and so a log line), whichever way the URL arrives.
func TestMalformedRedisURLIsRedacted(t *testing.T) {
	for _, u := range []string{
		"rediss://default:Sup3r%zzSecret@cache.example:6379",
		"rediss://default:Sup3r/Secret@cache.example:6379",
		"redis://default:Sup3r Secret@cache.example:6379",
	} {
		env := map[string]string{"ALPACA_API_KEY_ID": "id", "ALPACA_API_SECRET_KEY": "secret", config.EnvRedisURL: u}
		_, err := service.FromEnv(context.Background(), func(k string) string { return env[k] }, nil)
		if err == nil || !strings.Contains(err.Error(), config.EnvRedisURL) || strings.Contains(err.Error(), "Sup3r") {
			t.Errorf("FromEnv with %q: %v", u, err)
		}
		for _, cluster := range []bool{false, true} {
			_, err = service.New(service.Config{Redis: cache.RedisConfig{URL: u, Cluster: cluster}})
			if err == nil || strings.Contains(err.Error(), "Sup3r") || strings.Contains(err.Error(), "Secret") {
				t.Errorf("New with %q (cluster %v): %v", u, cluster, err)
			}
		}
	}
	cfg := service.Config{Redis: cache.RedisConfig{URL: "rediss://default:p@ss@cache.example:6379"}}
	if got := cfg.DescribeL2(); got != "rediss://***@cache.example:6379 (standalone)" {
		t.Errorf("DescribeL2 = %q", got)
	}
}
