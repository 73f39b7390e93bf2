package prefetch_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/logtest"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/hotset"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/prefetch"
)

// Instants the tests run at (New York time).
var (
	thanksgivingNoon = time.Date(2026, 11, 26, 12, 0, 0, 0, market.NewYork)
	preMarket        = time.Date(2026, 11, 27, 8, 0, 0, 0, market.NewYork)
	regularSession   = time.Date(2026, 11, 24, 10, 0, 0, 0, market.NewYork)
)

// recorder is a prefetch.Recorder keeping its counts.
type recorder struct {
	mu       sync.Mutex
	prefetch map[metrics.PrefetchResult]int
	skipped  map[metrics.Reason]int
}

func newRecorder() *recorder {
	return &recorder{prefetch: map[metrics.PrefetchResult]int{}, skipped: map[metrics.Reason]int{}}
}

func (r *recorder) Prefetched(result metrics.PrefetchResult, n int) {
	r.mu.Lock()
	r.prefetch[result] += n
	r.mu.Unlock()
}

func (r *recorder) PrefetchSkipped(reason metrics.Reason) {
	r.mu.Lock()
	r.skipped[reason]++
	r.mu.Unlock()
}

// lines returns the log lines containing sub.
func logLines(s *logtest.Buffer, sub string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// env is a prefetch test bed: an injected clock, the simulator on it, a
// private redis-server (the hot set and state keys are fixed names), a
// cache and an origin client counting its requests.
type env struct {
	t      *testing.T
	clk    *market.ManualClock
	sim    *alpacasim.Server
	simURL string
	rs     *redistest.Server
	rdb    redis.UniversalClient
	cache  *cache.Cache
	origin *alpaca.Client
	calls  *prefetch.CallCounter
	rec    *recorder
	logs   *logtest.Buffer
	log    *slog.Logger
}

// sleep is a Deps.Sleep that moves the clock instead of waiting.
func (e *env) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.clk.Advance(d)
	return nil
}

func newEnv(t *testing.T, at time.Time) *env {
	t.Helper()
	e := &env{t: t, clk: market.NewManualClock(at), rec: newRecorder(), logs: &logtest.Buffer{}}
	e.log = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sim, hs := alpacasim.NewTestServer(t, alpacasim.Config{Clock: e.clk, Seed: 7})
	e.sim, e.simURL = sim, hs.URL
	e.rs = redistest.StartServer(t)
	rdb, err := cache.NewRedis(cache.RedisConfig{URL: "redis://" + e.rs.Addr, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	e.rdb = rdb
	e.cache = cache.New(cache.Options{Redis: rdb, Clock: e.clk, Logger: e.log, NoCrossInstance: true, L2: cache.L2Options{Timeout: 2 * time.Second}})
	e.calls = prefetch.CountCalls(nil)
	e.origin = e.newOrigin(e.calls, 0)
	return e
}

// newOrigin returns a client of the simulator, on the bed's clock, whose
// requests wait on l; urlLen > 0 bounds a stock request's symbol list (to
// force chunks).
func (e *env) newOrigin(l alpaca.Limiter, urlLen int) *alpaca.Client {
	return alpaca.New(alpaca.Config{BaseURL: e.simURL, KeyID: "k", SecretKey: "s", MaxRetries: -1,
		Limiter: l, MaxStockURLSymbolsLen: urlLen, Clock: e.clk})
}

// deps returns the job's dependencies on this bed.
func (e *env) deps() prefetch.Deps {
	return prefetch.Deps{
		Cache: e.cache, Redis: e.rdb, Origin: e.origin, Calls: e.calls, Recorder: e.rec,
		Logger: e.log, Clock: e.clk, Sleep: e.sleep,
	}
}

// bump adds score to each symbol's request count.
func (e *env) bump(score float64, symbols ...string) {
	e.t.Helper()
	for _, s := range symbols {
		if err := e.rdb.ZIncrBy(context.Background(), hotset.Key, score, s).Err(); err != nil {
			e.t.Fatal(err)
		}
	}
}

// run runs j and fails the test on error.
func (e *env) run(j *prefetch.Job) prefetch.Report {
	e.t.Helper()
	rep, err := j.Run(context.Background())
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	return rep
}

// fresh returns the ids with a fresh L2 entry of dt now.
func (e *env) fresh(dt cache.DataType, ids []string) map[string]*cache.Entry {
	e.t.Helper()
	got, err := e.cache.Peek(context.Background(), dt, ids)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// path returns the simulator's request count for an endpoint.
func (e *env) path(endpoint string) int64 { return e.sim.Stats().ByPath[endpoint] }

// symbols returns n symbols of the simulated universe from index from.
func symbols(from, n int) []string {
	u := alpacasim.Universe()
	return append([]string(nil), u[from:from+n]...)
}
