package budget

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/config"
)

// logBuf collects log lines.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuf) Count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// short is the deadline of a Wait that must not wait for the GCRA.
const short = 20 * time.Millisecond

func shortCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// take calls Wait n times with a deadline d and counts admissions; every
// refusal must be an *ExhaustedError with RetryAfter > 0.
func take(t *testing.T, l *Limiter, n int, d time.Duration) int {
	t.Helper()
	allowed := 0
	for range n {
		err := l.Wait(shortCtx(t, d))
		if err == nil {
			allowed++
			continue
		}
		var ee *ExhaustedError
		if !errors.As(err, &ee) || !errors.Is(err, ErrExhausted) || ee.RetryAfter <= 0 {
			t.Fatalf("Wait: %v, want *ExhaustedError with RetryAfter > 0", err)
		}
	}
	return allowed
}

func TestBurstAndRate(t *testing.T) {
	tests := []struct{ perMinute, burst, wantBurst, wantRate int }{
		{200, 0, 20, 180},
		{60, 0, 6, 54},
		{9, 0, 1, 8},
		{1, 0, 1, 1},
		{2, 5, 1, 1},
		{100, 30, 30, 70},
		{100, 100, 99, 1},
	}
	for _, tt := range tests {
		b, r := burstAndRate(tt.perMinute, tt.burst)
		if b != tt.wantBurst || r != tt.wantRate {
			t.Errorf("burstAndRate(%d, %d) = %d, %d; want %d, %d", tt.perMinute, tt.burst, b, r, tt.wantBurst, tt.wantRate)
		}
	}
}

func TestConcurrentWaitersNeverExceedTheGCRA(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Addr(t), PoolSize: 64, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	// 60/min: B = 6, rate 54/min, one slot every 60s/54 = 1.111s.
	l := New(rdb, Options{PerMinute: 60, Key: redistest.Prefix(t) + "budget", RedisTimeout: 2 * time.Second})
	const interval = time.Minute / 54
	const callers = 500
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		allowed   int
		exhausted int
		other     []error
	)
	start := time.Now()
	for range callers {
		// Deadlines from 300ms to 2.3s: some fit a wait, most do not.
		d := 300*time.Millisecond + time.Duration(rand.Int64N(int64(2*time.Second)))
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			err := l.Wait(ctx)
			mu.Lock()
			defer mu.Unlock()
			var ee *ExhaustedError
			switch {
			case err == nil:
				allowed++
			case errors.As(err, &ee) && errors.Is(err, ErrExhausted) && ee.RetryAfter > 0 && ee.RetryAfter <= interval:
				exhausted++
			case errors.Is(err, context.DeadlineExceeded):
				// On a loaded machine the caller's deadline can pass during
				// the Redis round trip itself: refused all the same.
				exhausted++
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// GCRA from a fresh key admits B at once and the k-th more at k·T:
	// at most B + ⌊elapsed/T⌋ in all.
	limit := 6 + int(elapsed/interval)
	if allowed > limit || allowed < 6 {
		t.Errorf("%d admitted in %s; GCRA permits between 6 and %d", allowed, elapsed, limit)
	}
	if allowed+exhausted != callers || len(other) > 0 {
		t.Errorf("%d admitted + %d exhausted != %d; other errors: %v", allowed, exhausted, callers, other)
	}
}

func TestWaitWithinDeadline(t *testing.T) {
	rdb := redistest.Client(t)
	// 120/min with B = 20: rate 100/min, T = 600ms.
	l := New(rdb, Options{PerMinute: 120, Burst: 20, Key: redistest.Prefix(t) + "budget", RedisTimeout: 2 * time.Second})
	if got := l.Remaining(); got != 20 {
		t.Errorf("Remaining() before any call = %d, want B = 20", got)
	}
	if n := take(t, l, 20, short); n != 20 {
		t.Fatalf("%d of the burst of 20 admitted", n)
	}
	err := l.Wait(shortCtx(t, 20*time.Millisecond))
	var ee *ExhaustedError
	if !errors.As(err, &ee) || ee.RetryAfter <= 0 || ee.RetryAfter > 600*time.Millisecond {
		t.Fatalf("Wait past the burst with 20ms: %v, want ExhaustedError with 0 < RetryAfter <= 600ms", err)
	}
	start := time.Now()
	if err := l.Wait(shortCtx(t, 2*time.Second)); err != nil {
		t.Fatalf("Wait with room to wait: %v", err)
	}
	if waited := time.Since(start); waited < ee.RetryAfter-20*time.Millisecond {
		t.Errorf("admitted after %s, before a slot could have freed (%s)", waited, ee.RetryAfter)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context: %v", err)
	}
}

func TestShareLeavesHeadroom(t *testing.T) {
	rdb := redistest.Client(t)
	// 30/min with B = 10: rate 20/min, one slot every 3s, so nothing frees up
	// during the test. Share 0.5: B' = 5.
	l := New(rdb, Options{PerMinute: 30, Burst: 10, Key: redistest.Prefix(t) + "budget", RedisTimeout: 2 * time.Second})
	prefetch := l.WithShare(0.5)
	if n := take(t, prefetch, 8, short); n != 5 {
		t.Errorf("share view admitted %d, want 5 (B' = ⌊0.5·10⌋)", n)
	}
	if got := l.Remaining(); got != 5 {
		t.Errorf("Remaining() = %d after the share view took 5 of 10", got)
	}
	if n := take(t, l, 8, short); n != 5 {
		t.Errorf("base view admitted %d after the share view, want the 5 left", n)
	}
	if n := take(t, prefetch, 1, short); n != 0 {
		t.Errorf("share view admitted %d on an empty budget", n)
	}
	for _, tt := range []struct {
		share float64
		want  int
	}{{0, 1}, {-1, 1}, {0.05, 1}, {0.55, 5}, {1, 10}, {3, 10}} {
		if got := l.WithShare(tt.share).limit.Burst; got != tt.want {
			t.Errorf("WithShare(%v) burst %d, want %d", tt.share, got, tt.want)
		}
	}
	if got := prefetch.WithShare(1).limit.Burst; got != 10 {
		t.Errorf("share of a share view: burst %d, want the whole 10", got)
	}
}

func TestRedisDownFallsBackToAFiniteLimitAndRecovers(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	clk := market.NewManualClock(time.Now())
	logs := &logBuf{}
	// 120/min over 4 instances: fallback 30/min each, burst 3, rate 27/min.
	l := New(rdb, Options{PerMinute: 120, Instances: 4, Clock: clk, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		RedisTimeout: 100 * time.Millisecond})
	// Waits get a second: longer than the Redis timeout (go-redis keeps
	// redialling a refused address for ~400ms), shorter than any fallback wait.
	const slow = time.Second
	prefetch := l.WithShare(0.5)
	if err := l.Wait(shortCtx(t, time.Second)); err != nil {
		t.Fatalf("Wait with Redis up: %v", err)
	}

	srv.Stop()
	// Frozen clock: the fallback admits its burst of 3 and nothing more;
	// the share view (fallback burst ⌊0.5·3⌋ = 1) only while 3 are free.
	if n := take(t, prefetch, 1, slow); n != 1 {
		t.Errorf("share view admitted %d in fallback, want 1", n)
	}
	if n := take(t, prefetch, 1, slow); n != 0 {
		t.Errorf("share view admitted %d with 2 fallback tokens left, want 0", n)
	}
	if n := take(t, l, 50, slow); n != 2 {
		t.Errorf("fallback admitted %d of 50, want the 2 tokens left", n)
	}
	err := l.Wait(shortCtx(t, slow))
	var ee *ExhaustedError
	if !errors.As(err, &ee) || ee.RetryAfter < time.Minute/27 || ee.RetryAfter > time.Minute/27+1 {
		t.Fatalf("fallback refusal: %v, want RetryAfter 60s/27", err)
	}
	clk.Advance(ee.RetryAfter)
	if n := take(t, l, 5, slow); n != 1 {
		t.Errorf("fallback admitted %d one interval later, want 1", n)
	}
	if got := logs.Count("redis unreachable"); got != 1 {
		t.Errorf("outage logged %d times, want once", got)
	}

	srv.Start()
	// Not probed before probeInterval has passed: still the fallback.
	if n := take(t, l, 1, slow); n != 0 {
		t.Errorf("admitted %d before the probe interval: Redis should not be asked yet", n)
	}
	clk.Advance(probeInterval)
	if n := take(t, l, 1, slow); n != 1 {
		t.Fatalf("admitted %d after Redis came back", n)
	}
	if got := logs.Count("redis answers again"); got != 1 {
		t.Errorf("recovery logged %d times, want once", got)
	}
	if ttl := srv.Client().TTL(context.Background(), "rate:"+DefaultKey).Val(); ttl <= 0 {
		t.Errorf("budget key TTL %s after recovery: Redis was not used", ttl)
	}
	if got := l.Remaining(); got != 11 {
		t.Errorf("Remaining() = %d from a fresh Redis key with B = 12, one taken; want 11", got)
	}

	srv.Stop()
	take(t, l, 1, slow)
	if got := logs.Count("redis unreachable"); got != 2 {
		t.Errorf("second outage: logged %d outages in all, want 2", got)
	}
}

func TestClusterClient(t *testing.T) {
	rdb := redistest.ClusterClient(t)
	key := redistest.Prefix(t) + "budget"
	// 100/min: B = 10, rate 90/min, T = 667ms.
	l := New(rdb, Options{PerMinute: 100, Key: key, RedisTimeout: 2 * time.Second})
	if n := take(t, l, 15, short); n != 10 {
		t.Errorf("admitted %d of 15 on the cluster, want the burst of 10", n)
	}
	if ttl := rdb.TTL(context.Background(), "rate:"+key).Val(); ttl <= 0 {
		t.Errorf("budget key TTL %s on the cluster", ttl)
	}
	if got := l.WithShare(0.5).Remaining(); got != 0 {
		t.Errorf("Remaining() = %d after the burst", got)
	}
}

func TestExhaustedError(t *testing.T) {
	var err error = &ExhaustedError{RetryAfter: 1500 * time.Millisecond}
	if !errors.Is(err, ErrExhausted) || err.Error() != "budget: origin budget exhausted (retry after 1.5s)" {
		t.Errorf("%v", err)
	}
	if errors.Is(errors.New("other"), ErrExhausted) {
		t.Error("an unrelated error matches ErrExhausted")
	}
}

// Limiter satisfies alpaca.Limiter, which is structural.
var _ interface{ Wait(context.Context) error } = (*Limiter)(nil)

func TestLocalBudgetNeverUnlimited(t *testing.T) {
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	l := Local(Options{PerMinute: 60, Clock: market.ClockFunc(func() time.Time { return now })})
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	allowed := 0
	for range 100 {
		if err := l.Wait(ctx); err == nil {
			allowed++
		} else if !errors.Is(err, ErrExhausted) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	}
	// With a frozen clock only the burst (60/10 = 6) is admitted.
	if allowed != 6 {
		t.Fatalf("admitted %d of 100 at once, want the burst of 6", allowed)
	}
}

// fleetInFallback admits, second by second for minutes, every request that
// each of instances limiters (all in fallback, all hammering) allows, and
// returns the admissions per second.
func fleetInFallback(perMinute, instances, minutes int) []int {
	clk := market.NewManualClock(time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC))
	fleet := make([]*Limiter, instances)
	for i := range fleet {
		fleet[i] = New(nil, Options{PerMinute: perMinute, Instances: instances, Clock: clk})
	}
	perSecond := make([]int, minutes*60)
	for s := range perSecond {
		for _, l := range fleet {
			for {
				if ok, _ := l.core.fallbackTry(0); !ok {
					break
				}
				perSecond[s]++
			}
		}
		clk.Advance(time.Second)
	}
	return perSecond
}

// With every instance the configuration allows in fallback at once, the
// fleet stays within the budget: instances × rate ≤ budget always, and in
// every 60-second window when each instance's share exceeds one request.
func TestFallbackKeepsTheFleetWithinTheBudget(t *testing.T) {
	tests := []struct{ perMinute, instances int }{
		{config.DefaultOriginBudgetPerMin, config.DefaultOriginInstances},
		{10_000, config.DefaultOriginInstances},
		{config.DefaultOriginBudgetPerMin, config.OriginInstances(100, 0)},
		{200, 4},
		{200, 199},
		{60, 7},
		{1, 1},
	}
	for _, tt := range tests {
		burst, rate := FallbackShape(tt.perMinute, tt.instances)
		if fleet := float64(tt.instances) * rate; fleet > float64(tt.perMinute)*(1+1e-12) || rate <= 0 {
			t.Errorf("%d/min over %d instances: %d × %g/min = %g/min, want ≤ the budget", tt.perMinute, tt.instances, tt.instances, rate, fleet)
		}
		perSecond := fleetInFallback(tt.perMinute, tt.instances, 5)
		share := float64(tt.perMinute) / float64(tt.instances)
		total := 0
		for s := range perSecond {
			total += perSecond[s]
			if s+60 > len(perSecond) || share <= 1 {
				continue
			}
			window := 0
			for _, n := range perSecond[s : s+60] {
				window += n
			}
			if window > tt.perMinute {
				t.Fatalf("%d/min over %d instances (burst %d, %g/min each): %d admitted in the minute from second %d",
					tt.perMinute, tt.instances, burst, rate, window, s)
			}
		}
		// Over the whole run: the budget's rate, plus at most one first
		// call per instance when the share is below one.
		if limit := tt.perMinute*5 + tt.instances; total > limit {
			t.Errorf("%d/min over %d instances: %d admitted in 5 minutes, want ≤ %d", tt.perMinute, tt.instances, total, limit)
		}
	}
}

func TestFallbackDefaultsToTheConfiguredInstances(t *testing.T) {
	b, r := New(nil, Options{PerMinute: 200}).Fallback()
	wb, wr := FallbackShape(200, config.DefaultOriginInstances)
	if b != wb || math.Abs(r-wr) > 1e-9 {
		t.Errorf("default fallback %d + %g/min, want FallbackShape(200, %d) = %d + %g/min", b, r, config.DefaultOriginInstances, wb, wr)
	}
	if b, r := New(nil, Options{PerMinute: 200, Instances: 101}).Fallback(); b != 1 || math.Abs(r-(200.0/101-1)) > 1e-9 {
		t.Errorf("200/min over 101 instances: burst %d rate %g, want 1 and %g", b, r, 200.0/101-1)
	}
	if b, r := Local(Options{PerMinute: 200}).Fallback(); b != 20 || r != 180 {
		t.Errorf("Local(200) fallback %d + %g/min, want the whole budget: 20 + 180", b, r)
	}
}
