package hitrate

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
)

// windowStart is a minute boundary; the clock below steps through instants
// inside and across minutes.
var windowStart = time.Date(2025, 3, 10, 14, 30, 0, 0, time.UTC)

// testDataType returns a data type no other test run uses, and removes its
// windows at cleanup.
func testDataType(t *testing.T, c redis.UniversalClient) string {
	dt := "test_" + strconv.FormatInt(time.Now().UnixNano(), 10)
	t.Cleanup(func() {
		for m := range int64(MaxWindowMinutes) {
			c.Del(context.Background(), windowKey(dt, windowStart.Unix()/60+m-60))
		}
	})
	return dt
}

func TestWindows(t *testing.T) {
	for name, c := range map[string]redis.UniversalClient{
		"standalone": redistest.Client(t),
		"cluster":    redistest.ClusterClient(t),
	} {
		t.Run(name, func(t *testing.T) { testWindows(t, c) })
	}
}

func testWindows(t *testing.T, c redis.UniversalClient) {
	ctx := context.Background()
	dt := testDataType(t, c)
	now := windowStart
	w := NewWindows(c, WindowsOptions{Clock: market.ClockFunc(func() time.Time { return now }), Timeout: time.Second})

	record := func(at time.Time, hits, misses int, latency float64, count int) {
		t.Helper()
		now = at
		if err := w.Record(ctx, dt, hits, misses, latency, count); err != nil {
			t.Fatal(err)
		}
	}
	// Minute 0: two records, summed. Minute 1: nothing. Minutes 2 and 3: one each.
	record(windowStart, 9, 1, 12.5, 10)
	record(windowStart.Add(59*time.Second+999*time.Millisecond), 10, 0, 0.25, 10)
	record(windowStart.Add(2*time.Minute), 0, 4, 400, 4)
	record(windowStart.Add(3*time.Minute+30*time.Second), 3, 0, 1.5, 3)

	got, err := w.Recent(ctx, dt, 5, windowStart.Add(3*time.Minute+59*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []Window{
		{Minute: windowStart, Hits: 19, Misses: 1, Count: 20, LatencySumMs: 12.75},
		{Minute: windowStart.Add(2 * time.Minute), Hits: 0, Misses: 4, Count: 4, LatencySumMs: 400},
		{Minute: windowStart.Add(3 * time.Minute), Hits: 3, Misses: 0, Count: 3, LatencySumMs: 1.5},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Recent = %v\nwant     %v", got, want)
	}
	if len(got) > 0 {
		if r, l := got[0].HitRate(), got[0].MeanLatency(); r != 0.95 || l != 637500*time.Nanosecond {
			t.Errorf("minute 0: HitRate %v MeanLatency %v, want 0.95 and 637.5µs", r, l)
		}
	}

	// Only the minutes asked for: the last two end at minute 3.
	got, err = w.Recent(ctx, dt, 2, windowStart.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Minute.Equal(windowStart.Add(2*time.Minute)) {
		t.Errorf("Recent(2) = %v, want minutes 2 and 3", got)
	}

	for m := range 4 {
		key := windowKey(dt, windowStart.Unix()/60+int64(m))
		ttl, err := c.TTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if m == 1 {
			if ttl != -2*time.Nanosecond {
				t.Errorf("minute 1 has TTL %v, want no key", ttl)
			}
			continue
		}
		if ttl <= 0 || ttl > WindowTTL {
			t.Errorf("%s TTL = %v, want in (0, %v]", key, ttl, WindowTTL)
		}
	}
	if w.Failures() != 0 {
		t.Errorf("Failures = %d, want 0", w.Failures())
	}
}

func TestWindowsRecentEdges(t *testing.T) {
	c := redistest.Client(t)
	ctx := context.Background()
	dt := testDataType(t, c)
	w := NewWindows(c, WindowsOptions{})
	for _, n := range []int{0, -3} {
		if got, err := w.Recent(ctx, dt, n, windowStart); got != nil || err != nil {
			t.Errorf("Recent(%d) = %v, %v; want nil, nil", n, got, err)
		}
	}
	if got, err := w.Recent(ctx, dt, 10, windowStart); len(got) != 0 || err != nil {
		t.Errorf("Recent of an unused data type = %v, %v; want none", got, err)
	}
	// More minutes than windows live is clamped, not an error.
	if _, err := w.Recent(ctx, dt, 10*MaxWindowMinutes, windowStart); err != nil {
		t.Errorf("Recent(%d) = %v", 10*MaxWindowMinutes, err)
	}
}

func TestWindowsCorrupt(t *testing.T) {
	c := redistest.Client(t)
	ctx := context.Background()
	dt := testDataType(t, c)
	if err := c.HSet(ctx, windowKey(dt, windowStart.Unix()/60), fieldHits, "many").Err(); err != nil {
		t.Fatal(err)
	}
	_, err := NewWindows(c, WindowsOptions{}).Recent(ctx, dt, 1, windowStart)
	if !errors.Is(err, ErrCorruptWindow) {
		t.Errorf("Recent over a corrupt window = %v, want ErrCorruptWindow", err)
	}
}

func TestWindowsInvalidDataType(t *testing.T) {
	c := redistest.Client(t)
	w := NewWindows(c, WindowsOptions{})
	for _, dt := range []string{"", "Stock", "a:b", "x y", "{tag}", string(make([]byte, 65))} {
		if err := w.Record(context.Background(), dt, 1, 0, 1, 1); !errors.Is(err, ErrInvalidDataType) {
			t.Errorf("Record(%q) = %v, want ErrInvalidDataType", dt, err)
		}
		if _, err := w.Recent(context.Background(), dt, 1, windowStart); !errors.Is(err, ErrInvalidDataType) {
			t.Errorf("Recent(%q) = %v, want ErrInvalidDataType", dt, err)
		}
	}
	if w.Failures() != 6 {
		t.Errorf("Failures = %d, want 6", w.Failures())
	}
}

// TestWindowsRedisDown checks Record reports and counts a failure when Redis
// is unreachable.
func TestWindowsRedisDown(t *testing.T) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(redistest.FreePort(t)))
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	w := NewWindows(c, WindowsOptions{Clock: market.ClockFunc(func() time.Time { return windowStart })})
	if err := w.Record(context.Background(), "stock_quote", 1, 0, 1, 1); err == nil {
		t.Fatal("Record with Redis down returned nil")
	}
	if w.Failures() != 1 {
		t.Errorf("Failures = %d, want 1", w.Failures())
	}
}

func TestWindowRatesEmpty(t *testing.T) {
	var w Window
	if w.HitRate() != 0 || w.MeanLatency() != 0 {
		t.Errorf("empty window: HitRate %v MeanLatency %v, want 0 and 0", w.HitRate(), w.MeanLatency())
	}
}
