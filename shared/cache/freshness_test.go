package cache

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// slowOrigin answers every id; a call that includes an id in slow moves the
// injected clock on by delay, as a slow origin would.
type slowOrigin struct {
	clk   *market.ManualClock
	slow  map[string]bool
	delay time.Duration
	mu    sync.Mutex
	calls [][]string
}

func (o *slowOrigin) fetch(_ context.Context, ids []string) (map[string]Item, error) {
	o.mu.Lock()
	o.calls = append(o.calls, append([]string(nil), ids...))
	o.mu.Unlock()
	out := make(map[string]Item, len(ids))
	advance := false
	for _, id := range ids {
		advance = advance || o.slow[id]
		data, _ := json.Marshal(map[string]string{"id": id})
		out[id] = Item{Data: data, Source: "alpaca/iex"}
	}
	if advance {
		o.clk.Advance(o.delay)
	}
	return out, nil
}

// checkFresh fails unless every result is fresh at now, stamped with now,
// and of the session at now.
func checkFresh(t *testing.T, c *Cache, res map[string]Result, now time.Time) {
	t.Helper()
	s := c.Calendar().SessionAt(now)
	for id, r := range res {
		if !r.At.Equal(now) {
			t.Fatalf("%s: At %v, want the instant of return %v", id, r.At, now)
		}
		if !r.Entry.Fresh(now, s) || r.Entry.Session != s {
			t.Fatalf("%s served at %v (%s) from %s: fetched %v in %s with ttl %v", id, now, s, r.Layer,
				r.Entry.FetchedAt, r.Entry.Session, r.Entry.TTL)
		}
	}
}

// A hit that expires while the batch waits for a slow origin is fetched
// again, and every result is reckoned at the instant the batch returns.
func TestBatchRefetchesWhatExpiredWhileWaiting(t *testing.T) {
	rdb := redistest.Client(t)
	t0 := ny(2026, 11, 25, 14, 0, 0)
	clk := market.NewManualClock(t0)
	rec := &countRecorder{}
	c := newTestCache(t, rdb, clk, rec)
	syms := ids(t, 2)
	aapl, slow := syms[0], syms[1]
	o := &slowOrigin{clk: clk, slow: map[string]bool{slow: true}, delay: 6 * time.Second}
	ctx := context.Background()
	if r, err := c.Get(ctx, StockQuote, aapl, o.fetch); err != nil || r.Entry.TTL != 30*time.Second {
		t.Fatalf("first get: %+v %v", r, err)
	}
	clk.Set(t0.Add(28 * time.Second))
	res, errs := c.GetMany(ctx, StockQuote, []string{aapl, slow}, o.fetch)
	if len(errs) != 0 || len(res) != 2 {
		t.Fatalf("res %v errs %v", res, errs)
	}
	end := t0.Add(34 * time.Second)
	if !clk.Now().Equal(end) {
		t.Fatalf("clock %v, want %v", clk.Now(), end)
	}
	checkFresh(t, c, res, end)
	if got := res[aapl]; got.Layer != LayerOrigin || !got.Entry.FetchedAt.Equal(end) {
		t.Fatalf("AAPL: %s fetched %v, want fetched again at %v", got.Layer, got.Entry.FetchedAt, end)
	}
	if n := rec.get("l2/expired/stock_quote"); n != 1 { // L1 let it go at 14:00:10
		t.Fatalf("expired count %d, want 1", n)
	}
}

// A session change during the wait makes every answer of the old session
// unservable; both are fetched again in the new one.
func TestBatchAcrossSessionChange(t *testing.T) {
	rdb := redistest.Client(t)
	t0 := ny(2026, 11, 25, 15, 59, 50)
	clk := market.NewManualClock(t0)
	c := newTestCache(t, rdb, clk, nil)
	syms := ids(t, 2)
	o := &slowOrigin{clk: clk, slow: map[string]bool{syms[1]: true}, delay: 10 * time.Second}
	ctx := context.Background()
	if _, err := c.Get(ctx, StockQuote, syms[0], o.fetch); err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(5 * time.Second))
	res, errs := c.GetMany(ctx, StockQuote, syms, o.fetch)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	now := clk.Now()
	if c.Calendar().SessionAt(now) != market.AfterHours {
		t.Fatalf("clock %v is not after hours", now)
	}
	checkFresh(t, c, res, now)
}

// When every fetch outlasts the TTL, nothing can be served fresh: after
// maxRounds the ids are ErrExpired, never a stale answer.
func TestBatchGivesUpWithErrExpired(t *testing.T) {
	rdb := redistest.Client(t)
	clk := market.NewManualClock(ny(2026, 11, 25, 14, 0, 0))
	c := newTestCache(t, rdb, clk, nil)
	syms := ids(t, 2)
	o := &slowOrigin{clk: clk, slow: map[string]bool{syms[0]: true, syms[1]: true}, delay: 31 * time.Second}
	res, errs := c.GetMany(context.Background(), StockQuote, syms, o.fetch)
	if len(res) != 0 || len(errs) != 2 || !errors.Is(errs[syms[0]], ErrExpired) {
		t.Fatalf("res %v errs %v", res, errs)
	}
	if len(o.calls) != maxRounds {
		t.Fatalf("origin calls %d, want %d", len(o.calls), maxRounds)
	}
	if _, err := c.Get(context.Background(), StockQuote, syms[0], o.fetch); !errors.Is(err, ErrExpired) {
		t.Fatalf("Get: %v, want ErrExpired", err)
	}
}

// TestBatchNeverServesStaleWithSlowOrigin drives random batches, single
// reads and prefetch writes through a cache whose origin moves the clock on
// by up to 20 s a call, across the sessions of an early-close day, and
// checks every answer at the instant it is returned.
func TestBatchNeverServesStaleWithSlowOrigin(t *testing.T) {
	rdb := redistest.Client(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	start, end := ny(2026, 11, 27, 3, 50, 0), ny(2026, 11, 27, 17, 10, 0)
	clk := market.NewManualClock(start)
	c := newTestCache(t, rdb, clk, nil)
	syms := ids(t, 10)
	o := &slowOrigin{clk: clk, slow: map[string]bool{}}
	ctx := context.Background()
	served := 0
	for step := 0; step < 1500; step++ {
		o.delay = time.Duration(rng.Int64N(int64(20 * time.Second)))
		clear(o.slow)
		for _, s := range syms {
			o.slow[s] = rng.IntN(3) == 0
		}
		dt := []DataType{StockQuote, OptionQuote}[rng.IntN(2)]
		switch op := rng.IntN(10); {
		case op < 6:
			res, errs := c.GetMany(ctx, dt, syms[:1+rng.IntN(len(syms))], o.fetch)
			for id, err := range errs {
				if !errors.Is(err, ErrExpired) {
					t.Fatalf("%s: %v", id, err)
				}
			}
			checkFresh(t, c, res, clk.Now())
			served += len(res)
		case op < 7:
			if r, err := c.Get(ctx, dt, syms[rng.IntN(len(syms))], o.fetch); err == nil {
				checkFresh(t, c, map[string]Result{"one": r}, clk.Now())
				served++
			}
		case op < 8:
			items := map[string]Item{}
			for _, s := range syms[:rng.IntN(len(syms))] {
				items[s] = Item{Data: []byte(`{"p":1}`), Source: "alpaca/iex"}
			}
			if _, err := c.Store(ctx, dt, items); err != nil {
				t.Fatal(err)
			}
		case op < 9:
			c.PurgeL1()
		default:
			clk.Advance(time.Duration(rng.Int64N(int64(2 * time.Minute))))
		}
		if clk.Now().After(end) {
			clk.Set(start.Add(time.Duration(rng.Int64N(int64(time.Hour)))))
			c.PurgeL1()
			syms = ids(t, 10)
		}
	}
	if served < 1000 {
		t.Fatalf("only %d answers checked", served)
	}
}

// The fleet lock lives as long as the fetch under it, however much longer
// than the lock's own lifetime that is: two instances, one origin call.
func TestLockOutlivesLongFetch(t *testing.T) {
	_ = redistest.Client(t)
	o := &origin{delay: 800 * time.Millisecond}
	id := ids(t, 1)[0]
	var caches []*Cache
	for range 2 {
		cl := redis.NewClient(&redis.Options{Addr: redistest.Addr(t)})
		t.Cleanup(func() { _ = cl.Close() })
		caches = append(caches, New(Options{Redis: cl, Clock: market.NewManualClock(regularNoon),
			LockTTL: 150 * time.Millisecond, L2: L2Options{Timeout: time.Second}}))
	}
	probe := redis.NewClient(&redis.Options{Addr: redistest.Addr(t)})
	t.Cleanup(func() { _ = probe.Close() })
	ctx := context.Background()
	first := make(chan error, 1)
	go func() {
		_, err := caches[0].Get(ctx, StockQuote, id, o.fetch)
		first <- err
	}()
	waitFor(t, func() bool { return probe.Exists(ctx, lockKey(Key(StockQuote, id))).Val() == 1 })
	r, err := caches[1].Get(ctx, StockQuote, id, o.fetch)
	if err != nil || !r.Coalesced || r.Layer != LayerL2 {
		t.Fatalf("second instance: %+v %v", r, err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := o.calls.Load(); n != 1 {
		t.Fatalf("origin calls %d, want 1", n)
	}
}
