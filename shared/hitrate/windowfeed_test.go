package hitrate

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/redistest"
)

// feedWindows returns Windows on a private redis-server whose minute is
// always windowStart's, and a reader of the window of dt in that minute.
func feedWindows(t *testing.T) (*Windows, func(dt string) Window) {
	t.Helper()
	c := redistest.StartServer(t).Client()
	w := NewWindows(c, WindowsOptions{Clock: market.ClockFunc(func() time.Time { return windowStart.Add(30 * time.Second) }), Timeout: time.Second})
	return w, func(dt string) Window {
		t.Helper()
		got, err := w.Recent(context.Background(), dt, 1, windowStart)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			return Window{}
		}
		return got[0]
	}
}

// waitIdle waits until no background flush runs.
func waitIdle(t *testing.T, f *WindowFeed) {
	t.Helper()
	f.mu.Lock()
	done := f.inflight
	f.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("background flush did not end")
	}
}

func pendingTypes(f *WindowFeed) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}

func TestWindowFeedFlushWritesEveryObservation(t *testing.T) {
	w, window := feedWindows(t)
	f := NewWindowFeed(w, WindowFeedOptions{Clock: market.ClockFunc(func() time.Time { return windowStart })})
	// The first Observe starts a background flush (none has run yet); the
	// rest stay pending until Flush, which waits for that flush first.
	f.Observe("stock_quote", true, 1500*time.Microsecond)
	f.Observe("stock_quote", true, 500*time.Microsecond)
	f.Observe("stock_quote", false, 250*time.Millisecond)
	f.Observe("option_quote", false, 100*time.Millisecond)
	f.Observe("option_quote", true, 2*time.Millisecond)
	if err := f.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]Window{
		"stock_quote":  {Minute: windowStart, Hits: 2, Misses: 1, Count: 3, LatencySumMs: 252},
		"option_quote": {Minute: windowStart, Hits: 1, Misses: 1, Count: 2, LatencySumMs: 102},
	}
	for dt, wv := range want {
		if got := window(dt); got != wv {
			t.Errorf("%s: %+v, want %+v", dt, got, wv)
		}
	}
	// Nothing is written twice: a second Flush adds nothing.
	if err := f.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := window("stock_quote"); got != want["stock_quote"] {
		t.Errorf("after a second Flush: %+v", got)
	}
}

func TestWindowFeedBackgroundFlushAtMostOncePerInterval(t *testing.T) {
	w, window := feedWindows(t)
	now := windowStart
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	at := func(d time.Duration) { mu.Lock(); now = windowStart.Add(d); mu.Unlock() }
	f := NewWindowFeed(w, WindowFeedOptions{Clock: market.ClockFunc(clock), Interval: time.Second})

	at(0)
	f.Observe("stock_quote", true, time.Millisecond)
	if n := pendingTypes(f); n != 0 {
		t.Fatalf("first Observe left %d tallies pending, want a background flush", n)
	}
	waitIdle(t, f)
	if got := window("stock_quote"); got.Hits != 1 || got.Count != 1 {
		t.Fatalf("background flush wrote %+v", got)
	}

	at(999 * time.Millisecond)
	f.Observe("stock_quote", false, time.Millisecond)
	if n := pendingTypes(f); n != 1 {
		t.Fatalf("Observe 999ms after a flush: %d tallies pending, want 1 (no flush yet)", n)
	}

	// While a flush is in flight, no second one starts, whatever the time.
	blocker := make(chan struct{})
	f.mu.Lock()
	f.inflight = blocker
	f.mu.Unlock()
	at(5 * time.Second)
	f.Observe("stock_quote", false, time.Millisecond)
	if n := pendingTypes(f); n != 1 {
		t.Fatalf("Observe during a flush: %d tallies pending, want 1", n)
	}
	f.mu.Lock()
	f.inflight = nil
	f.mu.Unlock()
	close(blocker)

	at(6 * time.Second)
	f.Observe("stock_quote", true, time.Millisecond)
	if n := pendingTypes(f); n != 0 {
		t.Fatalf("Observe after the interval: %d tallies pending, want a background flush", n)
	}
	waitIdle(t, f)
	if got := window("stock_quote"); got.Hits != 2 || got.Misses != 2 || got.Count != 4 || got.LatencySumMs != 4 {
		t.Errorf("window after two background flushes: %+v", got)
	}
}

func TestWindowFeedFlushWaitsForBackgroundFlushAndHonoursContext(t *testing.T) {
	w, _ := feedWindows(t)
	f := NewWindowFeed(w, WindowFeedOptions{})
	blocker := make(chan struct{})
	f.mu.Lock()
	f.inflight = blocker
	f.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush with a flush in flight and a cancelled context = %v, want context.Canceled", err)
	}
	f.mu.Lock()
	f.inflight = nil
	f.mu.Unlock()
	close(blocker)
}

func TestWindowFeedBoundsDataTypesAndReportsInvalidOnes(t *testing.T) {
	w, window := feedWindows(t)
	f := NewWindowFeed(w, WindowFeedOptions{Interval: time.Hour, Clock: market.ClockFunc(func() time.Time { return windowStart })})
	f.mu.Lock()
	f.last = windowStart // no background flush in this test
	f.mu.Unlock()
	types := []string{"Bad-Type"}
	for i := range maxFeedDataTypes + 4 {
		types = append(types, "type_"+string(rune('a'+i)))
	}
	for _, dt := range types {
		f.Observe(dt, true, time.Millisecond)
	}
	if n := pendingTypes(f); n != maxFeedDataTypes {
		t.Fatalf("%d data types pending, want the cap %d", n, maxFeedDataTypes)
	}
	err := f.Flush(context.Background())
	if !errors.Is(err, ErrInvalidDataType) {
		t.Fatalf("Flush = %v, want ErrInvalidDataType for Bad-Type", err)
	}
	// The valid ones within the cap were written despite the invalid one.
	if got := window("type_a"); got.Hits != 1 {
		t.Errorf("type_a: %+v", got)
	}
	if got := window(types[maxFeedDataTypes]); got.Hits != 0 {
		t.Errorf("%s beyond the cap was written: %+v", types[maxFeedDataTypes], got)
	}
}

func TestWindowFeedConcurrentObservationsAllCounted(t *testing.T) {
	w, window := feedWindows(t)
	f := NewWindowFeed(w, WindowFeedOptions{Interval: time.Millisecond})
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for j := range each {
				f.Observe("stock_quote", (i+j)%4 != 0, time.Millisecond)
			}
		})
	}
	wg.Wait()
	if err := f.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := window("stock_quote")
	if got.Count != workers*each || got.Hits+got.Misses != workers*each || got.Misses != workers*each/4 || got.LatencySumMs != workers*each {
		t.Errorf("window %+v, want %d requests, %d misses, %d ms", got, workers*each, workers*each/4, workers*each)
	}
}

func TestWindowFeedNilIsANoOp(t *testing.T) {
	var f *WindowFeed
	f.Observe("stock_quote", true, time.Millisecond)
}

func BenchmarkWindowFeedObserve(b *testing.B) {
	f := NewWindowFeed(NewWindows(nil, WindowsOptions{}), WindowFeedOptions{Interval: time.Hour})
	f.last = time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		hit := false
		for pb.Next() {
			hit = !hit
			f.Observe("stock_quote", hit, 3*time.Millisecond)
		}
	})
}
