package alpacasim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// discard is a ResponseWriter that keeps only the status, so benchmarks
// measure the simulator rather than a recorder.
type discard struct {
	h      http.Header
	status int
	n      int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) Write(b []byte) (int, error) {
	d.n += len(b)
	return len(b), nil
}
func (d *discard) WriteHeader(s int) { d.status = s }

func benchServe(b *testing.B, path string) {
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	s := New(Config{Clock: at(now)})
	path = strings.ReplaceAll(path, "{opt}", strings.Join(s.OptionSymbols("SPY")[:100], ","))
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("APCA-API-KEY-ID", "k")
	req.Header.Set("APCA-API-SECRET-KEY", "s")
	w := &discard{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.status = 0
		s.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.ReportMetric(float64(w.n)/float64(b.N), "bytes/op")
}

func BenchmarkStockQuote(b *testing.B) { benchServe(b, "/v2/stocks/AAPL/quotes/latest") }

func BenchmarkStockQuotes20(b *testing.B) {
	benchServe(b, "/v2/stocks/quotes/latest?symbols="+strings.Join(Universe()[:20], ","))
}

func BenchmarkMinuteBars1000(b *testing.B) {
	benchServe(b, "/v2/stocks/bars?symbols=AAPL,MSFT&timeframe=1Min&start=2026-11-20&limit=1000")
}

func BenchmarkDailyBarsYear(b *testing.B) {
	benchServe(b, "/v2/stocks/AAPL/bars?timeframe=1Day&start=2025-11-27")
}

func BenchmarkOptionQuotes100(b *testing.B) {
	benchServe(b, "/v1beta1/options/quotes/latest?symbols={opt}")
}

func BenchmarkOptionChainPage(b *testing.B) {
	benchServe(b, "/v1beta1/options/snapshots/SPY?limit=100")
}
