package cache

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/budget"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// tripCounter records each round trip (its add is a redistest.TripHook): a
// command, or a pipeline, by the names of its commands.
type tripCounter struct {
	mu    sync.Mutex
	trips [][]string
}

func (c *tripCounter) add(cmds []redis.Cmder) {
	names := make([]string, len(cmds))
	for i, cmd := range cmds {
		names[i] = cmd.Name()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips = append(c.trips, slices.Compact(names))
}

// take returns the round trips recorded since the last call, and forgets them.
func (c *tripCounter) take() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.trips
	c.trips = nil
	return t
}

// budgetFetch is an origin that waits on lim before each call, as the
// Alpaca client does.
func budgetFetch(lim *budget.Limiter, o *origin) FetchFunc {
	return func(ctx context.Context, ids []string) (map[string]Item, error) {
		if err := lim.Wait(ctx); err != nil {
			return nil, err
		}
		return o.fetch(ctx, ids)
	}
}

// roundTripCache is a cache over rdb, with cross-instance coalescing and a
// budget in the same Redis, counting the round trips of both.
func roundTripCache(t *testing.T, rdb redis.UniversalClient) (*Cache, FetchFunc, *tripCounter) {
	lim := budget.New(rdb, budget.Options{PerMinute: 100_000, Key: redistest.Prefix(t) + "budget", RedisTimeout: time.Second})
	c := New(Options{Redis: rdb, Clock: market.NewManualClock(regularNoon), Budget: lim, L2: L2Options{Timeout: time.Second}})
	tc := &tripCounter{}
	rdb.AddHook(redistest.TripHook(tc.add))
	fetch := budgetFetch(lim, &origin{})
	// Warm up: the scripts are loaded on first use (NOSCRIPT, then EVAL).
	if _, err := c.Get(context.Background(), StockQuote, ids(t, 1)[0]+"W", fetch); err != nil {
		t.Fatal(err)
	}
	tc.take()
	return c, fetch, tc
}

// A miss, single or batch, costs at most 3 Redis round trips beside the
// origin call on a standalone server: the read, the lock step (with the
// budget's take), and the write with the unlock. A hit costs one.
func TestMissRoundTrips(t *testing.T) {
	c, fetch, tc := roundTripCache(t, redistest.Client(t))
	ctx := context.Background()
	id := ids(t, 1)[0]
	if r, err := c.Get(ctx, StockQuote, id, fetch); err != nil || r.Layer != LayerOrigin {
		t.Fatal(r.Layer, err)
	}
	trips := tc.take()
	t.Logf("a single miss: %v", trips)
	if len(trips) != 3 {
		t.Fatalf("a single miss made %d round trips, want 3: %v", len(trips), trips)
	}
	batch := ids(t, 20)
	if res, errs := c.GetMany(ctx, StockQuote, batch, fetch); len(errs) > 0 || res[batch[0]].Layer != LayerOrigin {
		t.Fatal(errs)
	}
	if trips := tc.take(); len(trips) != 3 {
		t.Fatalf("a batch miss of 20 made %d round trips, want 3: %v", len(trips), trips)
	}
	c.PurgeL1()
	if r, err := c.Get(ctx, StockQuote, id, fetch); err != nil || r.Layer != LayerL2 {
		t.Fatal(r.Layer, err)
	}
	if res, _ := c.GetMany(ctx, StockQuote, batch, fetch); res[batch[0]].Layer != LayerL2 {
		t.Fatal(res[batch[0]].Layer)
	}
	if trips := tc.take(); len(trips) != 2 {
		t.Fatalf("a hit and a batch hit made %d round trips, want 2: %v", len(trips), trips)
	}
}

// On a cluster the budget's key and the locks are in different slots: the
// budget is asked in a round trip of its own, 4 in all.
func TestMissRoundTripsCluster(t *testing.T) {
	c, fetch, tc := roundTripCache(t, redistest.ClusterClient(t))
	ctx := context.Background()
	if r, err := c.Get(ctx, StockQuote, ids(t, 1)[0], fetch); err != nil || r.Layer != LayerOrigin {
		t.Fatal(r.Layer, err)
	}
	trips := tc.take()
	t.Logf("a single miss on a cluster: %v", trips)
	if len(trips) > 4 {
		t.Fatalf("a single miss on a cluster made %d round trips, want at most 4: %v", len(trips), trips)
	}
	batch := ids(t, 20)
	if _, errs := c.GetMany(ctx, StockQuote, batch, fetch); len(errs) > 0 {
		t.Fatal(errs)
	}
	if trips := tc.take(); len(trips) > 4 {
		t.Fatalf("a batch miss of 20 on a cluster made %d round trips, want at most 4: %v", len(trips), trips)
	}
}

// Slots taken by lock steps and by Wait come from one budget: misses never
// reach the origin more often than the GCRA admits.
func TestLockStepSlotsKeepTheBudget(t *testing.T) {
	rdb := redistest.Client(t)
	lim := budget.New(rdb, budget.Options{PerMinute: 60, Key: redistest.Prefix(t) + "budget", RedisTimeout: time.Second}) // B = 6
	c := New(Options{Redis: rdb, Clock: market.NewManualClock(regularNoon), Budget: lim, L2: L2Options{Timeout: time.Second},
		FetchTimeout: 300 * time.Millisecond})
	o := &origin{}
	fetch := budgetFetch(lim, o)
	start := time.Now()
	var wg sync.WaitGroup
	for _, id := range ids(t, 20) {
		wg.Go(func() {
			_, err := c.Get(context.Background(), StockQuote, id, fetch)
			if err != nil && !errors.Is(err, budget.ErrExhausted) {
				t.Errorf("%s: %v", id, err)
			}
		})
	}
	wg.Wait()
	limit := 6 + int(time.Since(start)/(time.Minute/54))
	if n := int(o.calls.Load()); n < 6 || n > limit {
		t.Fatalf("%d origin calls; the budget admits between 6 and %d", n, limit)
	}
}
