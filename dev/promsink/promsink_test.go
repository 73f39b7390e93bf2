package promsink_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/opitios/opitios-alpaca/dev/promsink"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// TestPrometheusScripted drives a miss, a hit, a batch and an upstream error
// and checks every count exactly.
func TestPrometheusScripted(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	r := metrics.New(metrics.Options{Sink: promsink.New(reg)})

	// A miss at l1 and l2, filled from the origin.
	r.CacheResult(metrics.L1, metrics.ResultMiss, metrics.StockQuote)
	r.CacheResult(metrics.L2, metrics.ResultMiss, metrics.StockQuote)
	r.UpstreamRequest("stocks_quotes_latest", metrics.UpstreamOK, 80*time.Millisecond)
	r.CacheResult(metrics.Origin, metrics.ResultWrite, metrics.StockQuote)
	r.APIRequest("GET /v2/stocks/{symbol}/quotes/latest", 200, 82*time.Millisecond)
	// A hit at l1.
	r.CacheResult(metrics.L1, metrics.ResultHit, metrics.StockQuote)
	r.APIRequest("GET /v2/stocks/{symbol}/quotes/latest", 200, 20*time.Microsecond)
	r.DataAge(metrics.StockQuote, 3*time.Second)
	// A batch whose origin call fails twice.
	r.Batch(20, 400*time.Millisecond)
	r.UpstreamRequest("stocks_quotes_latest", metrics.UpstreamServerError, time.Second)
	r.UpstreamRequest("stocks_quotes_latest", metrics.UpstreamServerError, 2*time.Second)
	r.Coalesced(metrics.StockQuote)
	r.APIRequest("GET /v2/stocks/quotes/latest", 503, 3*time.Second)
	r.OriginBudgetLeft(120)
	r.OriginRateLimit(200, 199, time.Unix(1741617060, 500_000_000))
	r.Prefetched(metrics.PrefetchResultRefreshed, 40)
	r.Prefetched(metrics.PrefetchResultFailed, 2)
	r.PrefetchSkipped(metrics.ReasonMarketClosed)
	r.PrefetchSkipped(metrics.ReasonMarketClosed)

	expect := `
# HELP opitios_cache_requests_total Cache lookups and writes by layer (l1, l2, origin), result and data type.
# TYPE opitios_cache_requests_total counter
opitios_cache_requests_total{data_type="stock_quote",layer="l1",result="hit"} 1
opitios_cache_requests_total{data_type="stock_quote",layer="l1",result="miss"} 1
opitios_cache_requests_total{data_type="stock_quote",layer="l2",result="miss"} 1
opitios_cache_requests_total{data_type="stock_quote",layer="origin",result="write"} 1
# HELP opitios_upstream_requests_total Origin calls by endpoint and result.
# TYPE opitios_upstream_requests_total counter
opitios_upstream_requests_total{endpoint="stocks_quotes_latest",result="ok"} 1
opitios_upstream_requests_total{endpoint="stocks_quotes_latest",result="server_error"} 2
# HELP opitios_api_requests_total API responses by route pattern and HTTP status.
# TYPE opitios_api_requests_total counter
opitios_api_requests_total{route="GET /v2/stocks/quotes/latest",status="503"} 1
opitios_api_requests_total{route="GET /v2/stocks/{symbol}/quotes/latest",status="200"} 2
# HELP opitios_coalesced_total Callers served by another caller's fetch, by data type.
# TYPE opitios_coalesced_total counter
opitios_coalesced_total{data_type="stock_quote"} 1
# HELP opitios_prefetched_symbols_total Symbols handled by prefetch runs, by result.
# TYPE opitios_prefetched_symbols_total counter
opitios_prefetched_symbols_total{result="failed"} 2
opitios_prefetched_symbols_total{result="refreshed"} 40
# HELP opitios_prefetch_skipped_total Prefetch runs that did nothing, by reason.
# TYPE opitios_prefetch_skipped_total counter
opitios_prefetch_skipped_total{reason="market_closed"} 2
# HELP opitios_origin_budget_left Fleet-wide origin requests left in the current minute, as last seen.
# TYPE opitios_origin_budget_left gauge
opitios_origin_budget_left 120
# HELP opitios_origin_ratelimit_remaining The origin's X-RateLimit-Remaining, as last seen.
# TYPE opitios_origin_ratelimit_remaining gauge
opitios_origin_ratelimit_remaining 199
# HELP opitios_origin_ratelimit_limit The origin's X-RateLimit-Limit, as last seen.
# TYPE opitios_origin_ratelimit_limit gauge
opitios_origin_ratelimit_limit 200
# HELP opitios_origin_ratelimit_reset_timestamp_seconds The origin's X-RateLimit-Reset (Unix seconds), as last seen.
# TYPE opitios_origin_ratelimit_reset_timestamp_seconds gauge
opitios_origin_ratelimit_reset_timestamp_seconds 1.7416170605e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expect),
		"opitios_cache_requests_total", "opitios_upstream_requests_total", "opitios_api_requests_total",
		"opitios_coalesced_total", "opitios_prefetched_symbols_total", "opitios_prefetch_skipped_total",
		"opitios_origin_budget_left", "opitios_origin_ratelimit_remaining", "opitios_origin_ratelimit_limit",
		"opitios_origin_ratelimit_reset_timestamp_seconds"); err != nil {
		t.Error(err)
	}

	for _, h := range []struct {
		name   string
		labels map[string]string
		count  uint64
		sum    float64
	}{
		{"opitios_api_latency_seconds", map[string]string{"route": "GET /v2/stocks/{symbol}/quotes/latest", "status": "200"}, 2, 0.08202},
		{"opitios_api_latency_seconds", map[string]string{"route": "GET /v2/stocks/quotes/latest", "status": "503"}, 1, 3},
		{"opitios_upstream_latency_seconds", map[string]string{"endpoint": "stocks_quotes_latest"}, 3, 3.08},
		{"opitios_data_age_seconds", map[string]string{"data_type": "stock_quote"}, 1, 3},
		{"opitios_batch_size", nil, 1, 20},
		{"opitios_batch_duration_seconds", nil, 1, 0.4},
	} {
		got := histogram(t, reg, h.name, h.labels)
		if got.GetSampleCount() != h.count || !near(got.GetSampleSum(), h.sum) {
			t.Errorf("%s%v: count %d sum %v, want %d and %v", h.name, h.labels, got.GetSampleCount(), got.GetSampleSum(), h.count, h.sum)
		}
	}
	// The L1 hit's 20 µs lands in the first bucket (≤ 50 µs).
	api := histogram(t, reg, "opitios_api_latency_seconds", map[string]string{"route": "GET /v2/stocks/{symbol}/quotes/latest", "status": "200"})
	if b := api.GetBucket()[0]; b.GetUpperBound() != 50e-6 || b.GetCumulativeCount() != 1 {
		t.Errorf("first api latency bucket = ≤%v: %d, want ≤5e-05: 1", b.GetUpperBound(), b.GetCumulativeCount())
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// TestPrometheusSharedRegistry checks two Recorders on one registry share
// their collectors instead of failing to register.
func TestPrometheusSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	sa, sb := promsink.New(reg), promsink.New(reg)
	a, b := metrics.New(metrics.Options{Sink: sa}), metrics.New(metrics.Options{Sink: sb, EMF: true, Function: "f"})
	a.CacheResult(metrics.L1, metrics.ResultHit, metrics.StockQuote)
	b.CacheResult(metrics.L1, metrics.ResultHit, metrics.StockQuote)
	a.OriginBudgetLeft(5)
	b.OriginBudgetLeft(7)
	if n := value(sb.Counter(metrics.InstCacheRequests, "l1", "hit", "stock_quote")); n != 2 {
		t.Errorf("shared cache_requests_total = %v, want 2", n)
	}
	if n := value(sa.Gauge(metrics.InstBudgetLeft)); n != 7 {
		t.Errorf("shared origin_budget_left = %v, want 7 (the last set)", n)
	}
}

// TestPrometheusOther checks labels past their limit become "other" in
// Prometheus too, with valid UTF-8 (WithLabelValues panics otherwise).
func TestPrometheusOther(t *testing.T) {
	sink := promsink.New(prometheus.NewRegistry())
	r := metrics.New(metrics.Options{Sink: sink})
	r.CacheResult(metrics.L1, metrics.ResultHit, 0)
	r.APIRequest("", 0, time.Millisecond)
	if n := value(sink.Counter(metrics.InstCacheRequests, "l1", "hit", metrics.Other)); n != 1 {
		t.Errorf("cache_requests_total{data_type=other} = %v, want 1", n)
	}
	if n := value(sink.Counter(metrics.InstAPIRequests, metrics.Other, metrics.Other)); n != 1 {
		t.Errorf("api_requests_total{other,other} = %v, want 1", n)
	}
}

func histogram(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) *dto.Histogram {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return m.GetHistogram()
		}
	}
	t.Fatalf("no histogram %s%v", name, labels)
	return nil
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

func TestOriginRateLimitZeroReset(t *testing.T) {
	sink := promsink.New(prometheus.NewRegistry())
	r := metrics.New(metrics.Options{Sink: sink})
	r.OriginRateLimit(200, 10, time.Unix(1741617060, 0))
	r.OriginRateLimit(200, 9, time.Time{})
	if got := value(sink.Gauge(metrics.InstRateLimitReset)); got != 1741617060 {
		t.Errorf("reset gauge = %v, want the last non-zero reset 1741617060", got)
	}
	if got := value(sink.Gauge(metrics.InstRateLimitRemaining)); got != 9 {
		t.Errorf("remaining gauge = %v, want 9", got)
	}
}

// value reads the current value of one of the sink's instruments.
func value(instrument any) float64 {
	return testutil.ToFloat64(instrument.(prometheus.Collector))
}
