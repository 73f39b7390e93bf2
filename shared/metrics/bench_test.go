package metrics_test

import (
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opitios/opitios-alpaca/dev/promsink"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// BenchmarkL1Hit measures the three calls the API makes on an L1 hit. EMF
// is flushed every 50 requests (outside the timer), as Lambda flushes per
// invocation, so samples keep being appended rather than capped.
func BenchmarkL1Hit(b *testing.B) {
	for _, bc := range []struct {
		name string
		r    *metrics.Recorder
	}{
		{"nil", nil},
		{"off", metrics.New(metrics.Options{})},
		{"emf", metrics.New(metrics.Options{EMF: true, Function: "opitios-api"})},
		{"prometheus", metrics.New(metrics.Options{Sink: promsink.New(prometheus.NewRegistry())})},
		{"emf+prometheus", metrics.New(metrics.Options{EMF: true, Function: "opitios-api", Sink: promsink.New(prometheus.NewRegistry())})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := bc.r
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r.CacheResult(metrics.L1, metrics.ResultHit, metrics.StockQuote)
				r.APIRequest("GET /v2/stocks/{symbol}/quotes/latest", 200, 3*time.Microsecond)
				r.DataAge(metrics.StockQuote, 2*time.Second)
				if i++; i%50 == 0 {
					b.StopTimer()
					_ = r.FlushEMF(io.Discard, time.Time{})
					b.StartTimer()
				}
			}
		})
	}
}

// BenchmarkL1HitParallel is BenchmarkL1Hit from all cores at once, as on
// the local server (Prometheus only).
func BenchmarkL1HitParallel(b *testing.B) {
	r := metrics.New(metrics.Options{Sink: promsink.New(prometheus.NewRegistry())})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.CacheResult(metrics.L1, metrics.ResultHit, metrics.StockQuote)
			r.APIRequest("GET /v2/stocks/{symbol}/quotes/latest", 200, 3*time.Microsecond)
			r.DataAge(metrics.StockQuote, 2*time.Second)
		}
	})
}

// BenchmarkFlushEMF measures the end of an invocation that served one L1 hit.
func BenchmarkFlushEMF(b *testing.B) {
	r := metrics.New(metrics.Options{EMF: true, Function: "opitios-api"})
	b.ReportAllocs()
	for b.Loop() {
		r.CacheResult(metrics.L1, metrics.ResultHit, metrics.StockQuote)
		r.APIRequest("GET /v2/stocks/{symbol}/quotes/latest", 200, 3*time.Microsecond)
		r.DataAge(metrics.StockQuote, 2*time.Second)
		if err := r.FlushEMF(io.Discard, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}
