package prefetch_test

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"context"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/hotset"
	"github.com/opitios/opitios-alpaca/shared/prefetch"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// Traffic of the end-to-end test: a Zipf-like mix (s = 1.1) over 500
// symbols, 40 single-symbol requests every 5 s of clock, for 12 minutes of
// the regular session; prefetch (top 200 ∪ a 10-symbol watch list) runs at
// the start of every minute. The first 2 minutes are warm-up: the hot set is
// learned from the traffic itself.
const (
	e2eMinutes       = 12
	e2eWarmupMinutes = 2
	e2eStep          = 5 * time.Second
	e2ePerStep       = 40
	e2eTopN          = 200
)

// tally counts requests and cache hits (HIT-L1 or HIT-L2).
type tally struct{ requests, hits int }

func (t tally) rate() float64 {
	if t.requests == 0 {
		return 0
	}
	return float64(t.hits) / float64(t.requests)
}

type e2eResult struct {
	hot, all    tally
	originCalls int64
	runs        []prefetch.Report
}

// TestHotSetHitRateWithPrefetch measures the hit rate of requests for the
// hot set (the symbols the latest prefetch run covered) with prefetch runs
// interleaved with the traffic, and the same traffic without prefetch.
func TestHotSetHitRateWithPrefetch(t *testing.T) {
	with := simulate(t, true)
	without := simulate(t, false)
	t.Logf("with prefetch:    hot-set hit rate %.2f %% (%d/%d requests), all requests %.2f %% (%d/%d), origin requests %d",
		100*with.hot.rate(), with.hot.hits, with.hot.requests, 100*with.all.rate(), with.all.hits, with.all.requests, with.originCalls)
	t.Logf("without prefetch: hot-set hit rate %.2f %% (%d/%d requests), all requests %.2f %% (%d/%d), origin requests %d",
		100*without.hot.rate(), without.hot.hits, without.hot.requests, 100*without.all.rate(), without.all.hits, without.all.requests, without.originCalls)
	if with.hot.requests < 1000 {
		t.Fatalf("only %d hot-set requests measured", with.hot.requests)
	}
	if r := with.hot.rate(); r <= 0.95 {
		t.Errorf("hot-set hit rate with prefetch %.2f %%, want above 95 %%", 100*r)
	}
	for i, r := range with.runs {
		if r.Failed+r.NotFound+r.Deferred != 0 || r.Passes < 1 {
			t.Errorf("prefetch run %d: %+v", i, r)
		}
	}
}

func simulate(t *testing.T, withPrefetch bool) e2eResult {
	t.Helper()
	ctx := context.Background()
	clk := market.NewManualClock(regularSession)
	sim, simSrv := alpacasim.NewTestServer(t, alpacasim.Config{Clock: clk, Seed: 11})
	rs := redistest.StartServer(t)
	quiet := slog.New(slog.DiscardHandler)
	newService := func() *service.Service {
		s, err := service.New(service.Config{
			Redis:        cache.RedisConfig{URL: "redis://" + rs.Addr, Timeout: 2 * time.Second},
			Alpaca:       alpaca.Config{BaseURL: simSrv.URL, KeyID: "k", SecretKey: "s", MaxRetries: -1},
			BudgetPerMin: 1_000_000,
			Clock:        clk,
			Logger:       quiet,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	// The API and prefetch are separate functions: separate caches (and
	// L1s) over one Redis.
	apiSvc, pfSvc := newService(), newService()

	universe := alpacasim.Universe()[:500]
	rng := rand.New(rand.NewPCG(42, 7))
	rng.Shuffle(len(universe), func(i, j int) { universe[i], universe[j] = universe[j], universe[i] })
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(universe)-1))
	watch := universe[100:110] // watch-list symbols that are not among the most requested

	var res e2eResult
	hot := map[string]bool{}
	measureFrom := regularSession.Add(e2eWarmupMinutes * time.Minute)
	traffic := func(d time.Duration) {
		for end := clk.Now().Add(d); clk.Now().Before(end); {
			clk.Advance(min(e2eStep, end.Sub(clk.Now())))
			for range e2ePerStep {
				sym := universe[zipf.Uint64()]
				ev := events.APIGatewayV2HTTPRequest{RawPath: "/v2/stocks/" + sym + "/quotes/latest"}
				ev.RequestContext.HTTP.Method = "GET"
				resp, err := apiSvc.API.Handle(ctx, ev)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s: %d %v %s", sym, resp.StatusCode, err, resp.Body)
				}
				if clk.Now().Before(measureFrom) {
					continue
				}
				x := resp.Headers[api.HeaderCache]
				hit := x == api.CacheHitL1 || x == api.CacheHitL2
				count := func(t *tally) {
					t.requests++
					if hit {
						t.hits++
					}
				}
				count(&res.all)
				if hot[sym] {
					count(&res.hot)
				}
			}
		}
	}
	job := prefetch.New(prefetch.Deps{
		Cache: pfSvc.Cache, Redis: pfSvc.Redis, Origin: pfSvc.Origin, Logger: quiet, Clock: clk,
		Sleep: func(ctx context.Context, d time.Duration) error {
			traffic(d)
			return ctx.Err()
		},
	}, prefetch.Config{Watchlist: watch, TopN: e2eTopN})

	for m := range e2eMinutes {
		start := regularSession.Add(time.Duration(m) * time.Minute)
		clk.Set(start)
		// The hot set the run covers: the counts the API fed until now.
		if err := apiSvc.Hot.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		top, err := hotset.Top(ctx, apiSvc.Redis, e2eTopN)
		if err != nil {
			t.Fatal(err)
		}
		clear(hot)
		for _, s := range append(top, watch...) {
			hot[s] = true
		}
		if withPrefetch {
			rep, err := job.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res.runs = append(res.runs, rep)
		} else if err := hotset.Decay(ctx, apiSvc.Redis, prefetch.DefaultDecayFactor, prefetch.DefaultDecayMin, prefetch.DefaultDecayKeep); err != nil {
			t.Fatal(err) // the same hot set as with prefetch, which decays it
		}
		traffic(start.Add(time.Minute).Sub(clk.Now()))
	}
	res.originCalls = sim.Stats().TotalRequests
	return res
}
