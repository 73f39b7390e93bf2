package cache

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/market"
)

var regularNoon = ny(2026, 11, 25, 12, 0, 0) // a Wednesday, regular session

// ids returns n identifiers unique to this test (keys live on a shared server).
func ids(t *testing.T, n int) []string {
	p := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	out := make([]string, n)
	for i := range out {
		out[i] = p + "_" + key(i) + "_" + time.Now().Format("150405.000000000")
	}
	return out
}

func newTestCache(t *testing.T, rdb redis.UniversalClient, clk *market.ManualClock, rec Recorder) *Cache {
	t.Helper()
	return New(Options{Redis: rdb, Clock: clk, Recorder: rec, L2: L2Options{Timeout: 200 * time.Millisecond}})
}

func TestGetMissThenL1ThenL2(t *testing.T) {
	rdb := redistest.Client(t)
	clk := market.NewManualClock(regularNoon)
	rec := &countRecorder{}
	c := newTestCache(t, rdb, clk, rec)
	o := &origin{}
	id := ids(t, 1)[0]
	ctx := context.Background()

	r, err := c.Get(ctx, StockQuote, id, o.fetch)
	if err != nil || r.Layer != LayerOrigin {
		t.Fatalf("first get: %v %v", r.Layer, err)
	}
	if r.Entry.TTL != 30*time.Second || r.Entry.Session != market.Regular || !r.Entry.FetchedAt.Equal(regularNoon) || r.Entry.DataSource != "alpaca/iex" {
		t.Fatalf("entry: %+v", r.Entry)
	}
	r2, err := c.Get(ctx, StockQuote, id, o.fetch)
	if err != nil || r2.Layer != LayerL1 || !bytes.Equal(r2.Entry.Data, r.Entry.Data) {
		t.Fatalf("second get: %v %v", r2.Layer, err)
	}
	c.PurgeL1()
	r3, err := c.Get(ctx, StockQuote, id, o.fetch)
	if err != nil || r3.Layer != LayerL2 || !bytes.Equal(r3.Entry.Data, r.Entry.Data) {
		t.Fatalf("third get: %v %v", r3.Layer, err)
	}
	if n := o.calls.Load(); n != 1 {
		t.Fatalf("origin calls = %d, want 1", n)
	}
	// The key holds the envelope byte for byte with the TTL as its expiry.
	k := Key(StockQuote, id)
	raw, err := rdb.Get(ctx, k).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if want := AppendEnvelope(nil, r.Entry); !bytes.Equal(raw, want) {
		t.Fatalf("stored\n%s\nwant\n%s", raw, want)
	}
	if ttl := rdb.TTL(ctx, k).Val(); ttl <= 25*time.Second || ttl > 30*time.Second {
		t.Fatalf("redis TTL = %v, want ~30s", ttl)
	}
	for k, want := range map[string]int{
		"l1/hit/stock_quote": 1, "l1/miss/stock_quote": 2, "l2/miss/stock_quote": 1,
		"l2/hit/stock_quote": 1, "l2/write/stock_quote": 1, "origin/hit/stock_quote": 1,
	} {
		if got := rec.get(k); got != want {
			t.Errorf("%s = %d, want %d", k, got, want)
		}
	}
}

func TestExpiryAndSessionChange(t *testing.T) {
	rdb := redistest.Client(t)
	clk := market.NewManualClock(ny(2026, 11, 25, 15, 59, 40)) // 20 s before the close
	rec := &countRecorder{}
	c := newTestCache(t, rdb, clk, rec)
	o := &origin{}
	id := ids(t, 1)[0]
	ctx := context.Background()
	r, _ := c.Get(ctx, StockQuote, id, o.fetch)
	if r.Entry.TTL != 20*time.Second {
		t.Fatalf("TTL = %v, want 20s (cut at the close)", r.Entry.TTL)
	}
	clk.Set(ny(2026, 11, 25, 15, 59, 49)) // within L1's 10 s
	if r, _ := c.Get(ctx, StockQuote, id, o.fetch); r.Layer != LayerL1 {
		t.Fatalf("layer %s, want l1", r.Layer)
	}
	clk.Set(ny(2026, 11, 25, 15, 59, 59)) // past L1's 10 s, still fresh in L2
	if r, _ := c.Get(ctx, StockQuote, id, o.fetch); r.Layer != LayerL2 {
		t.Fatalf("layer %s, want l2", r.Layer)
	}
	clk.Set(ny(2026, 11, 25, 16, 0, 0)) // after hours: the session changed
	c.PurgeL1()
	// Redis still holds the key (its expiry is real time); the cache must
	// see it as stale, delete it and fetch.
	if r, _ := c.Get(ctx, StockQuote, id, o.fetch); r.Layer != LayerOrigin || r.Entry.Session != market.AfterHours || r.Entry.TTL != 90*time.Second {
		t.Fatalf("after the close: layer %s entry %+v", r.Layer, r.Entry)
	}
	if rec.get("l2/stale/stock_quote") != 1 {
		t.Fatalf("stale count = %d", rec.get("l2/stale/stock_quote"))
	}
	clk.Advance(90 * time.Second) // expired by time
	if r, _ := c.Get(ctx, StockQuote, id, o.fetch); r.Layer != LayerOrigin {
		t.Fatalf("after expiry: layer %s", r.Layer)
	}
	if o.calls.Load() != 3 {
		t.Fatalf("origin calls = %d, want 3", o.calls.Load())
	}
}

func TestL1LifetimeNeverOutlivesEntry(t *testing.T) {
	clk := market.NewManualClock(regularNoon)
	c := New(Options{Clock: clk}) // L1 only
	o := &origin{}
	ctx := context.Background()
	if _, err := c.Get(ctx, StockQuote, "AAPL", o.fetch); err != nil {
		t.Fatal(err)
	}
	clk.Advance(9*time.Second + 999*time.Millisecond)
	if r, _ := c.Get(ctx, StockQuote, "AAPL", o.fetch); r.Layer != LayerL1 {
		t.Fatalf("at 9.999s: %s", r.Layer)
	}
	clk.Advance(time.Millisecond) // L1 ceiling of 10 s reached
	if r, _ := c.Get(ctx, StockQuote, "AAPL", o.fetch); r.Layer != LayerOrigin {
		t.Fatalf("at 10s: %s", r.Layer)
	}
	// An entry with 5 s left lives 5 s in L1, not 10.
	clk.Set(ny(2026, 11, 25, 15, 59, 55))
	if r, _ := c.Get(ctx, StockQuote, "MSFT", o.fetch); r.Entry.TTL != 5*time.Second {
		t.Fatalf("TTL %v", r.Entry.TTL)
	}
	clk.Advance(5 * time.Second)
	if r, _ := c.Get(ctx, StockQuote, "MSFT", o.fetch); r.Layer != LayerOrigin {
		t.Fatalf("L1 outlived its entry: %s", r.Layer)
	}
}

// L1 reclaims an expired entry when it is read: the read misses and the
// entry is gone, even when nothing replaces it.
func TestExpiredL1EntryIsDroppedWhenRead(t *testing.T) {
	clk := market.NewManualClock(regularNoon)
	c := New(Options{Clock: clk}) // L1 only
	ctx := context.Background()
	if _, err := c.Get(ctx, StockQuote, "AAPL", (&origin{}).fetch); err != nil || c.L1Len() != 1 {
		t.Fatalf("first get: %v, L1 holds %d", err, c.L1Len())
	}
	clk.Advance(10 * time.Second)
	down := errors.New("origin down")
	failing := func(context.Context, []string) (map[string]Item, error) { return nil, down }
	if _, err := c.Get(ctx, StockQuote, "AAPL", failing); !errors.Is(err, down) {
		t.Fatalf("expired entry served: err %v", err)
	}
	if n := c.L1Len(); n != 0 {
		t.Fatalf("L1 still holds %d entries after reading an expired one", n)
	}
}

func TestGetManyMixedLayers(t *testing.T) {
	rdb := redistest.Client(t)
	clk := market.NewManualClock(regularNoon)
	rec := &countRecorder{}
	c := newTestCache(t, rdb, clk, rec)
	o := &origin{}
	all := ids(t, 6)
	o.missing = map[string]bool{all[5]: true}
	ctx := context.Background()
	// 0,1 in L1; 2,3 only in L2; 4 at the origin; 5 unknown to the origin.
	if _, errs := c.GetMany(ctx, StockQuote, all[:4], o.fetch); len(errs) != 0 {
		t.Fatal(errs)
	}
	c.PurgeL1()
	if _, errs := c.GetMany(ctx, StockQuote, all[:2], o.fetch); len(errs) != 0 {
		t.Fatal(errs)
	}
	before := o.calls.Load()
	res, errs := c.GetMany(ctx, StockQuote, append(all, all[0], all[4]), o.fetch) // duplicates count once
	if o.calls.Load() != before+1 || o.ids.Load() != 4+2 {
		t.Fatalf("origin calls %d ids %d: want one call for the 2 missing", o.calls.Load()-before, o.ids.Load()-4)
	}
	want := map[string]Layer{all[0]: LayerL1, all[1]: LayerL1, all[2]: LayerL2, all[3]: LayerL2, all[4]: LayerOrigin}
	if len(res) != len(want) {
		t.Fatalf("results %v", res)
	}
	for id, l := range want {
		if res[id].Layer != l {
			t.Errorf("%s: layer %s, want %s", id, res[id].Layer, l)
		}
	}
	if len(errs) != 1 || !errors.Is(errs[all[5]], ErrNotFound) {
		t.Fatalf("errors %v, want only %s not found", errs, all[5])
	}
	// A not-found answer is never cached.
	if n, _ := rdb.Exists(ctx, Key(StockQuote, all[5])).Result(); n != 0 {
		t.Fatal("a not-found id was cached")
	}
}

func TestFetchErrorIsNotCached(t *testing.T) {
	rdb := redistest.Client(t)
	c := newTestCache(t, rdb, market.NewManualClock(regularNoon), nil)
	boom := errors.New("origin down")
	o := &origin{err: boom}
	id := ids(t, 1)[0]
	ctx := context.Background()
	if _, err := c.Get(ctx, StockQuote, id, o.fetch); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n, _ := rdb.Exists(ctx, Key(StockQuote, id)).Result(); n != 0 {
		t.Fatal("an error was cached")
	}
	o.err = nil
	if r, err := c.Get(ctx, StockQuote, id, o.fetch); err != nil || r.Layer != LayerOrigin {
		t.Fatalf("after recovery: %v %v", r.Layer, err)
	}
	// Per-item errors fail only their id.
	per := func(ctx context.Context, ids []string) (map[string]Item, error) {
		return map[string]Item{ids[0]: {Err: boom}, ids[1]: {Data: []byte(`{"x":1}`), Source: "alpaca/iex"}}, nil
	}
	two := ids(t, 2)
	res, errs := c.GetMany(ctx, StockQuote, two, per)
	if !errors.Is(errs[two[0]], boom) || res[two[1]].Layer != LayerOrigin {
		t.Fatalf("per-item: %v %v", res, errs)
	}
}

func TestCorruptValueIsAMissAndDeleted(t *testing.T) {
	rdb := redistest.Client(t)
	rec := &countRecorder{}
	c := newTestCache(t, rdb, market.NewManualClock(regularNoon), rec)
	o := &origin{}
	id := ids(t, 1)[0]
	ctx := context.Background()
	k := Key(StockQuote, id)
	if err := rdb.Set(ctx, k, `{"symbol":"X","data":{"ap":`, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	r, err := c.Get(ctx, StockQuote, id, o.fetch)
	if err != nil || r.Layer != LayerOrigin {
		t.Fatalf("%v %v", r.Layer, err)
	}
	if rec.get("l2/error/stock_quote") != 1 {
		t.Fatalf("l2 error count = %d", rec.get("l2/error/stock_quote"))
	}
	raw, _ := rdb.Get(ctx, k).Bytes()
	if _, err := DecodeEnvelope(raw); err != nil {
		t.Fatalf("the corrupt value was not replaced: %s", raw)
	}
}

func TestClusterBatch(t *testing.T) {
	rdb := redistest.ClusterClient(t)
	clk := market.NewManualClock(regularNoon)
	c := newTestCache(t, rdb, clk, nil)
	o := &origin{}
	all := ids(t, 40) // spread over many slots and all three masters
	ctx := context.Background()
	if _, errs := c.GetMany(ctx, StockQuote, all, o.fetch); len(errs) != 0 {
		t.Fatal(errs)
	}
	c.PurgeL1()
	res, errs := c.GetMany(ctx, StockQuote, all, o.fetch)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	for _, id := range all {
		if res[id].Layer != LayerL2 {
			t.Fatalf("%s from %s, want l2", id, res[id].Layer)
		}
	}
	if o.calls.Load() != 1 {
		t.Fatalf("origin calls = %d", o.calls.Load())
	}
}

func TestCoalescesInstanceStorm(t *testing.T) {
	rdb := redistest.Client(t)
	rec := &countRecorder{}
	c := newTestCache(t, rdb, market.NewManualClock(regularNoon), rec)
	o := &origin{gate: make(chan struct{})}
	id := ids(t, 1)[0]
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Get(context.Background(), StockQuote, id, o.fetch)
			if err == nil && r.Entry == nil {
				err = errors.New("no entry")
			}
			errs <- err
		}()
	}
	waitFor(t, func() bool { return o.calls.Load() >= 1 })
	time.Sleep(50 * time.Millisecond) // let stragglers join the flight
	close(o.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := o.calls.Load(); got != 1 {
		t.Fatalf("origin calls = %d, want 1", got)
	}
	// Every caller but the owner was served by the one fetch: waiting on it,
	// or from L1 or L2 once it had landed.
	if got := rec.get("coalesced//stock_quote") + rec.get("l1/hit/stock_quote") + rec.get("l2/hit/stock_quote"); got != n-1 {
		t.Fatalf("coalesced + L1 hits + L2 hits = %d, want %d", got, n-1)
	}
}

func TestCancelledOwnerDoesNotFailOthers(t *testing.T) {
	rdb := redistest.Client(t)
	c := newTestCache(t, rdb, market.NewManualClock(regularNoon), nil)
	o := &origin{gate: make(chan struct{})}
	id := ids(t, 1)[0]
	ownerCtx, cancel := context.WithCancel(context.Background())
	ownerErr := make(chan error, 1)
	go func() {
		_, err := c.Get(ownerCtx, StockQuote, id, o.fetch)
		ownerErr <- err
	}()
	waitFor(t, func() bool { return o.calls.Load() == 1 })
	const n = 20
	var wg sync.WaitGroup
	got := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Get(context.Background(), StockQuote, id, o.fetch)
			got <- err
		}()
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-ownerErr:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("owner err = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the cancelled owner did not return at once")
	}
	close(o.gate)
	wg.Wait()
	close(got)
	for err := range got {
		if err != nil {
			t.Fatalf("a waiter failed: %v", err)
		}
	}
	if o.calls.Load() != 1 {
		t.Fatalf("origin calls = %d", o.calls.Load())
	}
}

func TestCrossInstanceCoalescing(t *testing.T) {
	rdb := redistest.Client(t)
	o := &origin{delay: 100 * time.Millisecond}
	id := ids(t, 1)[0]
	var caches []*Cache
	for range 4 { // four Lambda instances: separate L1s, one Redis
		opt := redis.Options{Addr: redistest.Addr(t)}
		cl := redis.NewClient(&opt)
		t.Cleanup(func() { _ = cl.Close() })
		caches = append(caches, New(Options{Redis: cl, Clock: market.NewManualClock(regularNoon), L2: L2Options{Timeout: time.Second}}))
	}
	_ = rdb
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	layers := make(chan Layer, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := caches[i%4].Get(context.Background(), StockQuote, id, o.fetch)
			errs <- err
			layers <- r.Layer
		}()
	}
	wg.Wait()
	close(errs)
	close(layers)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := o.calls.Load(); got != 1 {
		t.Fatalf("origin calls across 4 instances = %d, want 1", got)
	}
}

func TestRedisDownStillAnswers(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb := srv.Client()
	rec := &countRecorder{}
	clk := market.NewManualClock(regularNoon)
	c := New(Options{Redis: rdb, Clock: clk, Recorder: rec, L2: L2Options{Timeout: 50 * time.Millisecond, FailuresTrip: 3, OpenFor: 200 * time.Millisecond}})
	o := &origin{}
	ctx := context.Background()
	if _, err := c.Get(ctx, StockQuote, "AAPL", o.fetch); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	for i := range 20 {
		c.PurgeL1()
		start := time.Now()
		r, err := c.Get(ctx, StockQuote, key(i), o.fetch)
		if err != nil || r.Layer != LayerOrigin {
			t.Fatalf("with Redis down: %v %v", r.Layer, err)
		}
		// Bounded by the Redis timeout (a read and a lock step at most), far
		// below any origin deadline; generous for a loaded machine.
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("request %d took %v with Redis down", i, el)
		}
	}
	if c.l2.cb.State().String() != "open" {
		t.Fatalf("breaker %s, want open", c.l2.cb.State())
	}
	srv.Start()
	waitFor(t, func() bool {
		c.PurgeL1()
		_, _ = c.Get(ctx, StockQuote, "BACK", o.fetch)
		n, _ := rdb.Exists(ctx, Key(StockQuote, "BACK")).Result()
		return n == 1
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRelieveMemory(t *testing.T) {
	c := New(Options{Clock: market.NewManualClock(regularNoon)})
	o := &origin{}
	if _, errs := c.GetMany(context.Background(), StockQuote, ids(t, 10), o.fetch); len(errs) != 0 {
		t.Fatal(errs)
	}
	if c.RelieveMemory(1 << 50) {
		t.Fatal("dropped L1 far below the limit")
	}
	if c.L1Len() != 10 {
		t.Fatalf("L1 holds %d entries, want 10", c.L1Len())
	}
	if !c.RelieveMemory(1) || c.L1Len() != 0 {
		t.Fatalf("over the limit L1 was not dropped: %d entries left", c.L1Len())
	}
}

func TestL1BoundedByEntries(t *testing.T) {
	c := New(Options{Clock: market.NewManualClock(regularNoon), L1: L1Options{MaxEntries: 100, MaxBytes: 1 << 20}})
	o := &origin{}
	if _, errs := c.GetMany(context.Background(), StockQuote, ids(t, 1000), o.fetch); len(errs) != 0 {
		t.Fatal(errs)
	}
	c.l1.c.CleanUp()
	if n := c.L1Len(); n > 100 {
		t.Fatalf("L1 holds %d entries, bound 100", n)
	}
}
