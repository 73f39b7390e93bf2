package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/shared/cache"
)

// BenchmarkPairMissUnderLoad runs misses through the handler from several
// goroutines at once (2 per GOMAXPROCS and more), each alternating a miss (a new symbol: L2 read, lock
// step with the budget's take, origin call, write and unlock) with a bare
// GET of the same stub origin, and reports both p95 latencies and the
// difference: what a miss adds to the origin call under load. It also
// reports the Redis round trips per miss.
func BenchmarkPairMissUnderLoad(b *testing.B) {
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("par%d", par), func(b *testing.B) { benchMissUnderLoad(b, par) })
	}
}

func benchMissUnderLoad(b *testing.B, par int) {
	f := newFixture(b, fixedClock, cache.L1Options{})
	_, srv := newStubOrigin(b)
	client := srv.Client()
	var mu sync.Mutex
	var miss, bare []time.Duration
	f.rtt.reset()
	b.SetParallelism(par)
	b.RunParallel(func(pb *testing.PB) {
		var m, o []time.Duration
		for i := 0; pb.Next(); i++ {
			ev := quoteEvent(b, freshSymbol())
			steps := []func(){
				func() {
					t0 := time.Now()
					f.serve(b, ev, "MISS")
					m = append(m, time.Since(t0))
				},
				func() {
					t0 := time.Now()
					bareOriginGet(b, client, srv.URL+"/v2/stocks/quotes/latest?feed=iex&symbols="+freshSymbol())
					o = append(o, time.Since(t0))
				},
			}
			if i%2 == 1 {
				steps[0], steps[1] = steps[1], steps[0]
			}
			steps[0]()
			steps[1]()
		}
		mu.Lock()
		miss, bare = append(miss, m...), append(bare, o...)
		mu.Unlock()
	})
	pm, po := p95(miss), p95(bare)
	b.ReportMetric(float64(pm)/1e6, "miss-p95-ms")
	b.ReportMetric(float64(po)/1e6, "origin-p95-ms")
	b.ReportMetric(float64(pm-po)/1e6, "added-p95-ms")
	b.ReportMetric(float64(f.rtt.all.Load())/float64(len(miss)), "redis-rtt/miss")
}

func bareOriginGet(b *testing.B, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatal(resp.StatusCode, err)
	}
	resp.Body.Close()
}

// p95 is the 95th percentile of ds (reordered).
func p95(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[(len(ds)*95+99)/100-1]
}
