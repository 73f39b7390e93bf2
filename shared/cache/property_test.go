package cache

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/redistest"
)

// TestNeverServesStale drives random reads, writes, L1 purges and clock
// jumps (across the early close of 2026-11-27 and the sessions around it)
// through L1 and L2, and checks every answer against the freshness
// invariant at the instant it was served.
func TestNeverServesStale(t *testing.T) {
	rdb := redistest.Client(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	start := ny(2026, 11, 27, 3, 58, 0)
	end := ny(2026, 11, 27, 17, 2, 0)
	clk := market.NewManualClock(start)
	c := newTestCache(t, rdb, clk, nil)
	cal := c.Calendar()
	o := &origin{}
	syms := ids(t, 8)
	dts := []DataType{StockQuote, OptionQuote}
	// Instants worth landing on: each session change of the day, and just
	// either side of it.
	var edges []time.Time
	for _, b := range []time.Time{ny(2026, 11, 27, 4, 0, 0), ny(2026, 11, 27, 9, 30, 0), ny(2026, 11, 27, 13, 0, 0), ny(2026, 11, 27, 17, 0, 0)} {
		edges = append(edges, b.Add(-time.Millisecond), b, b.Add(time.Millisecond))
	}
	ctx := context.Background()
	served := 0
	check := func(r Result, now time.Time) {
		t.Helper()
		s := cal.SessionAt(now)
		if !r.Entry.Fresh(now, s) {
			t.Fatalf("served a stale entry at %v (%s) from %s: fetched %v in %s, ttl %v", now, s, r.Layer, r.Entry.FetchedAt, r.Entry.Session, r.Entry.TTL)
		}
		if r.Entry.Session != s {
			t.Fatalf("served an entry of session %s in session %s", r.Entry.Session, s)
		}
		served++
	}
	for step := 0; step < 3000; step++ {
		switch op := rng.IntN(10); {
		case op < 5: // read one
			now := clk.Now()
			r, err := c.Get(ctx, dts[rng.IntN(2)], syms[rng.IntN(len(syms))], o.fetch)
			if err != nil {
				t.Fatal(err)
			}
			check(r, now)
		case op < 6: // read a batch
			now := clk.Now()
			res, errs := c.GetMany(ctx, dts[rng.IntN(2)], syms[:1+rng.IntN(len(syms))], o.fetch)
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			for _, r := range res {
				check(r, now)
			}
		case op < 7: // a prefetch-style write
			items := map[string]Item{}
			for _, s := range syms[:rng.IntN(len(syms))] {
				items[s] = Item{Data: []byte(`{"p":1}`), Source: "alpaca/iex"}
			}
			if _, err := c.Store(ctx, dts[rng.IntN(2)], items); err != nil {
				t.Fatal(err)
			}
		case op < 8:
			c.PurgeL1()
		case op < 9: // land on or beside a session change
			clk.Set(edges[rng.IntN(len(edges))])
		default: // move on by up to 3 minutes
			clk.Advance(time.Duration(rng.Int64N(int64(3 * time.Minute))))
		}
		if clk.Now().After(end) {
			clk.Set(start.Add(time.Duration(rng.Int64N(int64(time.Hour)))))
			// Going back in time is not something a real clock does: start
			// over with empty layers so old "future" entries do not linger.
			c.PurgeL1()
			syms = ids(t, 8)
		}
	}
	if served < 1000 {
		t.Fatalf("only %d answers checked", served)
	}
}
