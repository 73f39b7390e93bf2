package cache

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// benchClock is a fixed instant, so benchmarks measure the cache and not a
// clock.
var benchClock = market.ClockFunc(func() time.Time { return regularNoon })

func benchCache(b *testing.B, rdb redis.UniversalClient) *Cache {
	return New(Options{Redis: rdb, Clock: benchClock, L2: L2Options{Timeout: time.Second}})
}

func benchIDs(b *testing.B, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("BENCH%d_%d", time.Now().UnixNano()%1e6, i)
	}
	return out
}

// BenchmarkL1Hit is a Get answered by L1.
func BenchmarkL1Hit(b *testing.B) {
	c := New(Options{Clock: benchClock})
	o := &origin{}
	ctx := context.Background()
	if _, err := c.Get(ctx, StockQuote, "AAPL", o.fetch); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r, _ := c.Get(ctx, StockQuote, "AAPL", o.fetch); r.Layer != LayerL1 {
			b.Fatal(r.Layer)
		}
	}
}

// BenchmarkL2Hit is a Get answered by L2 (L1 purged each time), beside
// BenchmarkRawGet, a go-redis GET of the same value on the same server.
func BenchmarkL2Hit(b *testing.B) {
	c := benchCache(b, redistest.Client(b))
	o := &origin{}
	ctx := context.Background()
	id := benchIDs(b, 1)[0]
	if _, err := c.Get(ctx, StockQuote, id, o.fetch); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.PurgeL1()
		if r, _ := c.Get(ctx, StockQuote, id, o.fetch); r.Layer != LayerL2 {
			b.Fatal(r.Layer)
		}
	}
}

func BenchmarkRawGet(b *testing.B) {
	rdb := redistest.Client(b)
	ctx := context.Background()
	k := "bench:raw:" + benchIDs(b, 1)[0]
	val := AppendEnvelope(nil, sampleEntry())
	rdb.Set(ctx, k, val, time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := rdb.Get(ctx, k).Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatch20L2 is a GetMany of 20 ids all in L2, beside
// BenchmarkRawPipeline20 (one pipeline of 20 GETs) and BenchmarkRawMGet20.
func BenchmarkBatch20L2(b *testing.B) {
	c := benchCache(b, redistest.Client(b))
	o := &origin{}
	ctx := context.Background()
	all := benchIDs(b, 20)
	if _, errs := c.GetMany(ctx, StockQuote, all, o.fetch); len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.PurgeL1()
		if res, _ := c.GetMany(ctx, StockQuote, all, o.fetch); len(res) != 20 {
			b.Fatal(len(res))
		}
	}
}

func rawKeys(b *testing.B, rdb *redis.Client) []string {
	ctx := context.Background()
	val := AppendEnvelope(nil, sampleEntry())
	keys := make([]string, 20)
	for i, id := range benchIDs(b, 20) {
		keys[i] = "bench:raw:" + id
		rdb.Set(ctx, keys[i], val, time.Minute)
	}
	return keys
}

func BenchmarkRawPipeline20(b *testing.B) {
	rdb := redistest.Client(b)
	keys := rawKeys(b, rdb)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Get(ctx, k)
			}
			return nil
		})
		if err != nil || len(cmds) != 20 {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawMGet20(b *testing.B) {
	rdb := redistest.Client(b)
	keys := rawKeys(b, rdb)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if v, err := rdb.MGet(ctx, keys...).Result(); err != nil || len(v) != 20 {
			b.Fatal(err)
		}
	}
}

// BenchmarkCoalescedStorm is 1,000 goroutines missing one new key at once;
// each op is a whole storm, and the origin must see one call per storm.
func BenchmarkCoalescedStorm(b *testing.B) {
	c := benchCache(b, redistest.Client(b))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		o := &origin{}
		id := fmt.Sprintf("STORM%d_%d", time.Now().UnixNano(), n)
		n++
		var wg sync.WaitGroup
		for range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Get(ctx, StockQuote, id, o.fetch); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		if o.calls.Load() != 1 {
			b.Fatalf("origin calls %d", o.calls.Load())
		}
	}
}
