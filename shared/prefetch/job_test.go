package prefetch_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/budget"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/hitrate"
	"github.com/opitios/opitios-alpaca/shared/hotset"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/prefetch"
)

// onePass is a Config whose runs make a single pass (no pass starts after
// RunFor − PassTime), for the tests of what one pass does.
func onePass(c prefetch.Config) prefetch.Config {
	c.RunFor, c.PassTime = 10*time.Second, 10*time.Second
	return c
}

func TestClosedMarketMakesNoCallAndTouchesNothing(t *testing.T) {
	e := newEnv(t, thanksgivingNoon)
	e.bump(4, symbols(0, 5)...)
	j := prefetch.New(e.deps(), prefetch.Config{Watchlist: []string{"AAPL"}})
	rep := e.run(j)

	if rep.SkippedReason != metrics.ReasonMarketClosed.String() || rep.Session != market.Closed {
		t.Errorf("report %+v, want skipped as market_closed", rep)
	}
	if rep.Passes != 0 || rep.Considered != 0 || rep.OriginCalls != 0 {
		t.Errorf("a closed-market run did work: %+v", rep)
	}
	if st := e.sim.Stats(); st.TotalRequests != 0 {
		t.Errorf("origin requests on a holiday: %+v", st)
	}
	if got := e.rec.skipped[metrics.ReasonMarketClosed]; got != 1 {
		t.Errorf("PrefetchSkipped(market_closed) recorded %d times, want 1", got)
	}
	if n := len(logLines(e.logs, "")) - 1; n != 1 || len(logLines(e.logs, "market closed")) != 1 {
		t.Errorf("want exactly one log line saying the market is closed, got:\n%s", e.logs)
	}
	// No decay, no state: the run exits before any Redis work.
	if s := e.rdb.ZScore(context.Background(), hotset.Key, symbols(0, 1)[0]).Val(); s != 4 {
		t.Errorf("hot-set score %v after a closed-market run, want 4 (untouched)", s)
	}
	if n := e.rdb.Exists(context.Background(), prefetch.StateKey).Val(); n != 0 {
		t.Error("a closed-market run wrote optimizer state")
	}
}

func TestPreMarketRefreshesFiftyHotSymbolsInFewCalls(t *testing.T) {
	e := newEnv(t, preMarket)
	hot := symbols(10, 50)
	e.bump(3, hot...)
	j := prefetch.New(e.deps(), prefetch.Config{})
	rep := e.run(j)

	if rep.Session != market.PreMarket || rep.Considered != 50 || rep.Refreshed != 50 || rep.Skipped != 0 || rep.Failed+rep.NotFound+rep.Deferred != 0 {
		t.Fatalf("report %+v, want 50 considered and refreshed in pre-market", rep)
	}
	if n := e.path(alpaca.EndpointStockQuotes); n < 1 || n > 2 {
		t.Errorf("%d multi-symbol quote requests for 50 symbols, want 1 or 2", n)
	}
	if st := e.sim.Stats(); st.TotalRequests != e.path(alpaca.EndpointStockQuotes) {
		t.Errorf("requests other than multi-symbol quotes: %+v", st.ByPath)
	}
	if int64(rep.OriginCalls) != e.sim.Stats().TotalRequests {
		t.Errorf("report says %d origin calls, the simulator saw %d", rep.OriginCalls, e.sim.Stats().TotalRequests)
	}
	// Pre-market quotes live 90 s: one pass keeps them fresh past the next run.
	if rep.Passes != 1 {
		t.Errorf("%d passes in pre-market, want 1", rep.Passes)
	}
	got := e.fresh(cache.StockQuote, hot)
	if len(got) != 50 {
		t.Fatalf("%d of 50 entries fresh in L2 after the run", len(got))
	}
	for _, s := range hot {
		en := got[s]
		var q struct {
			AP, BP float64
		}
		if err := json.Unmarshal(en.Data, &q); err != nil || q.AP <= 0 {
			t.Fatalf("%s: entry data %s is not the origin's quote", s, en.Data)
		}
		if en.DataSource != alpaca.SourceSimulator || en.Session != market.PreMarket || en.TTL != 90*time.Second || !en.FetchedAt.Equal(preMarket) {
			t.Fatalf("%s: entry %+v, want simulator source, pre-market, 90 s TTL, fetched at the run", s, en)
		}
	}
	if e.rec.prefetch[metrics.PrefetchResultRefreshed] != 50 {
		t.Errorf("PrefetchedSymbols(refreshed) = %d, want 50", e.rec.prefetch[metrics.PrefetchResultRefreshed])
	}
}

func TestStillFreshEntriesAreSkipped(t *testing.T) {
	e := newEnv(t, preMarket)
	hot := symbols(10, 50)
	e.bump(3, hot...)
	j := prefetch.New(e.deps(), onePass(prefetch.Config{}))
	e.run(j)
	before := e.sim.Stats().TotalRequests

	e.clk.Advance(time.Second)
	rep := e.run(j)
	if rep.Skipped != 50 || rep.Refreshed != 0 || rep.OriginCalls != 0 {
		t.Errorf("second run right after: %+v, want 50 skipped and no origin call", rep)
	}
	if n := e.sim.Stats().TotalRequests - before; n != 0 {
		t.Errorf("second run made %d origin requests", n)
	}
	if e.rec.prefetch[metrics.PrefetchResultSkipped] != 50 {
		t.Errorf("PrefetchedSymbols(skipped) = %d, want 50", e.rec.prefetch[metrics.PrefetchResultSkipped])
	}

	// A minute later each has 30 s of its 90 s left, below half: refreshed.
	e.clk.Set(preMarket.Add(time.Minute))
	rep = e.run(j)
	if rep.Refreshed != 50 || rep.Skipped != 0 {
		t.Errorf("run a minute later: %+v, want all 50 refreshed (below half their TTL)", rep)
	}
}

func TestBudgetShareLeavesLiveTrafficItsSlots(t *testing.T) {
	e := newEnv(t, preMarket)
	// 20 requests a minute: a burst of 2, so a 0.5 share may hold 1.
	fleet := budget.New(e.rdb, budget.Options{PerMinute: 20})
	share := fleet.WithShare(0.5)
	calls := prefetch.CountCalls(share)
	d := e.deps()
	d.Origin, d.Calls, d.Budget = e.newOrigin(calls, 40), calls, share
	hot := symbols(0, 50)
	e.bump(1, hot...)
	j := prefetch.New(d, prefetch.Config{BudgetShare: 0.5, RunFor: 2 * time.Second, PassTime: time.Second})
	rep := e.run(j)

	if n := e.path(alpaca.EndpointStockQuotes); n != 1 || rep.OriginCalls != 1 {
		t.Errorf("prefetch made %d requests (report: %d), want the share's burst: 1", n, rep.OriginCalls)
	}
	if rep.Refreshed == 0 || rep.Refreshed >= 50 || rep.Deferred != 50-rep.Refreshed || rep.Failed != 0 {
		t.Errorf("report %+v, want one chunk refreshed and the rest deferred", rep)
	}
	if got := len(e.fresh(cache.StockQuote, hot)); got != rep.Refreshed {
		t.Errorf("%d fresh entries, report says %d refreshed", got, rep.Refreshed)
	}
	// Live traffic (the whole budget) still gets a slot at once.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := fleet.Wait(ctx); err != nil {
		t.Errorf("live traffic refused after prefetch: %v", err)
	}
	// The optimizer saw the deferrals and narrowed.
	if rep.Decision.Action != prefetch.ActionNarrow || rep.Decision.To.TopN != 100 {
		t.Errorf("decision %+v, want narrow to TopN 100", rep.Decision)
	}
}

// chunkyOrigin answers as a client whose second chunk failed: the first half
// of the symbols (less one the origin does not know) plus a symbol nobody
// asked for, and a ChunkError for the second half.
type chunkyOrigin struct {
	prefetch.Origin
	calls int
}

func (o *chunkyOrigin) LatestStockQuotes(_ context.Context, symbols []string, _ string) (alpaca.Multi, error) {
	o.calls++
	half := len(symbols) / 2
	m := alpaca.Multi{Values: map[string]json.RawMessage{}, Source: alpaca.SourceSimulator}
	for _, s := range symbols[1:half] {
		m.Values[s] = json.RawMessage(`{"ap":10.5,"bp":10.4}`)
	}
	m.Missing = symbols[:1]
	m.Values["NOTASKED"] = json.RawMessage(`{"ap":1,"bp":1}`)
	return m, &alpaca.ChunkError{Failed: symbols[half:], Err: &alpaca.Error{Kind: alpaca.ErrUnavailable, Status: 502}}
}

func TestFailingChunkDoesNotLoseTheOthers(t *testing.T) {
	e := newEnv(t, preMarket)
	hot := symbols(0, 20)
	d := e.deps()
	o := &chunkyOrigin{}
	d.Origin, d.Calls = o, nil
	j := prefetch.New(d, onePass(prefetch.Config{Watchlist: hot, TopN: -1}))
	rep := e.run(j)

	if rep.Refreshed != 9 || rep.NotFound != 1 || rep.Failed != 10 || rep.Deferred != 0 || rep.OriginCalls != 1 {
		t.Errorf("report %+v, want 9 refreshed, 1 not found, 10 failed, 1 call", rep)
	}
	got := e.fresh(cache.StockQuote, append(slices.Clone(hot), "NOTASKED"))
	for i, s := range hot {
		_, ok := got[s]
		if want := i >= 1 && i < 10; ok != want {
			t.Errorf("%s: in L2 %v, want %v", s, ok, want)
		}
	}
	if _, ok := got["NOTASKED"]; ok {
		t.Error("a symbol nobody asked for was written")
	}
	if n := e.rec.prefetch[metrics.PrefetchResultFailed]; n != 11 {
		t.Errorf("PrefetchedSymbols(failed) = %d, want 11", n)
	}
}

func TestWholeCallFailureWritesNothing(t *testing.T) {
	e := newEnv(t, preMarket)
	hot := symbols(0, 20)
	e.sim.SetFault(alpacasim.HTML500)
	j := prefetch.New(e.deps(), onePass(prefetch.Config{Watchlist: hot, TopN: -1}))
	rep := e.run(j)
	if rep.Failed != 20 || rep.Refreshed != 0 {
		t.Errorf("report %+v, want all 20 failed", rep)
	}
	if got := e.fresh(cache.StockQuote, hot); len(got) != 0 {
		t.Errorf("%d entries written although the origin failed", len(got))
	}
}

func TestHotSetIsWatchlistUnionTopNAndDecaysEachRun(t *testing.T) {
	e := newEnv(t, preMarket)
	u := symbols(0, 7)
	a, b, c, d, x, y, low := u[0], u[1], u[2], u[3], u[4], u[5], u[6]
	e.bump(10, a)
	e.bump(8, b)
	e.bump(6, c)
	e.bump(4, d)
	e.bump(0.15, low)
	j := prefetch.New(e.deps(), onePass(prefetch.Config{Watchlist: []string{strings.ToLower(x), a, "not a symbol"}, TopN: 3, Underlyings: nil}))
	rep := e.run(j)

	want := []string{x, a, b, c}
	if rep.Considered != len(want) || rep.Refreshed != len(want) {
		t.Errorf("report %+v, want the %d symbols of watchlist ∪ top 3", rep, len(want))
	}
	got := e.fresh(cache.StockQuote, []string{a, b, c, d, x, y, low})
	for _, s := range want {
		if got[s] == nil {
			t.Errorf("%s (watchlist ∪ top 3) not refreshed", s)
		}
	}
	for _, s := range []string{d, y, low} {
		if got[s] != nil {
			t.Errorf("%s (outside watchlist ∪ top 3) refreshed", s)
		}
	}
	scores := func() map[string]float64 {
		zs := e.rdb.ZRangeWithScores(context.Background(), hotset.Key, 0, -1).Val()
		m := map[string]float64{}
		for _, z := range zs {
			m[z.Member.(string)] = z.Score
		}
		return m
	}
	if s := scores(); s[a] != 5 || s[b] != 4 || s[c] != 3 || s[d] != 2 || len(s) != 4 {
		t.Errorf("after one run: scores %v, want halved and %s (0.075 < 0.1) dropped", s, low)
	}
	e.clk.Advance(time.Minute)
	e.run(j)
	if s := scores(); s[a] != 2.5 || s[d] != 1 {
		t.Errorf("after two runs: scores %v, want halved again", s)
	}
}

func TestRegularSessionPassesKeepEntriesFreshUntilTheNextRun(t *testing.T) {
	e := newEnv(t, regularSession)
	hot := symbols(100, 20)
	var passes []time.Duration
	d := e.deps()
	d.Sleep = func(ctx context.Context, dur time.Duration) error {
		e.clk.Advance(dur)
		passes = append(passes, e.clk.Now().Sub(regularSession))
		return ctx.Err()
	}
	j := prefetch.New(d, prefetch.Config{Watchlist: hot, TopN: -1})
	rep := e.run(j)

	// 30 s TTLs: a pass every 15 s up to 45 s, each refreshing all 20.
	if want := []time.Duration{15 * time.Second, 30 * time.Second, 45 * time.Second}; !slices.Equal(passes, want) {
		t.Errorf("passes after the first at %v, want %v", passes, want)
	}
	if rep.Passes != 4 || rep.Refreshed != 80 || rep.OriginCalls != 4 {
		t.Errorf("report %+v, want 4 passes refreshing 20 each in one call each", rep)
	}
	// Every entry stays fresh from the run's start to the next run (60 s)
	// plus the slack.
	for at := 45 * time.Second; at <= 62*time.Second; at += time.Second {
		e.clk.Set(regularSession.Add(at))
		if got := e.fresh(cache.StockQuote, hot); len(got) != 20 {
			t.Fatalf("at +%s only %d of 20 entries fresh", at, len(got))
		}
	}
}

func TestRunEndsInsideTheDeadline(t *testing.T) {
	e := newEnv(t, regularSession)
	hot := symbols(0, 30)
	j := prefetch.New(e.deps(), prefetch.Config{Watchlist: hot, TopN: -1, Margin: time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := j.Run(ctx); !errors.Is(err, prefetch.ErrNoTime) {
		t.Fatalf("Run with less than the margin left = %v, want ErrNoTime", err)
	}

	// The origin hangs: the run gives up at its deadline less the margin,
	// counting the symbols as deferred.
	e.sim.SetFault(alpacasim.Hang)
	ctx, cancel = context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	rep, err := j.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(deadline); left < 500*time.Millisecond {
		t.Errorf("run returned %s before its deadline, want about the 1 s margin", left)
	}
	if rep.Deferred != 30 || rep.Refreshed != 0 || rep.Passes != 1 {
		t.Errorf("report %+v, want one pass with all 30 deferred", rep)
	}
}

func TestOptionContractsNearTheMoneyRefreshed(t *testing.T) {
	e := newEnv(t, preMarket)
	j := prefetch.New(e.deps(), onePass(prefetch.Config{TopN: -1, Underlyings: []string{"spy"}, OptionContracts: 40}))
	rep := e.run(j)

	if e.path(alpaca.EndpointOptionChain) != 1 || e.path(alpaca.EndpointOptionQuotes) != 1 || e.path(alpaca.EndpointStockQuotes) != 1 {
		t.Errorf("requests %v, want one stock quote call (the underlying), one chain page, one option quote call", e.sim.Stats().ByPath)
	}
	if rep.Considered != 1 || rep.Refreshed != 1 {
		t.Errorf("stock part %+v, want the underlying SPY refreshed", rep.Counts)
	}
	o := rep.Options
	if o.Considered == 0 || o.Considered > 40 || o.Refreshed != o.Considered {
		t.Fatalf("options %+v, want up to 40 contracts, all refreshed", o)
	}
	contracts := e.rdb.Get(context.Background(), prefetch.ContractsKeyPrefix+"SPY").Val()
	var list []string
	if err := json.Unmarshal([]byte(contracts), &list); err != nil || len(list) != o.Considered {
		t.Fatalf("kept contracts %q (%v), want %d", contracts, err, o.Considered)
	}
	spy := e.fresh(cache.StockQuote, []string{"SPY"})["SPY"]
	var q struct{ AP, BP float64 }
	if err := json.Unmarshal(spy.Data, &q); err != nil {
		t.Fatal(err)
	}
	mid := (q.AP + q.BP) / 2
	fresh := e.fresh(cache.OptionQuote, list)
	for _, s := range list {
		if fresh[s] == nil {
			t.Errorf("%s not fresh in L2", s)
		}
		strike := float64(atoi(s[len(s)-8:])) / 1000
		if strike < mid*0.95-0.01 || strike > mid*1.05+0.01 {
			t.Errorf("%s: strike %.2f outside ±5 %% of SPY's mid %.2f", s, strike, mid)
		}
		if exp := s[len(s)-15 : len(s)-9]; exp < "261127" || exp > "261204" {
			t.Errorf("%s: expiration outside 2026-11-27 to 2026-12-04 (the next 7 days)", s)
		}
	}

	// Right after: the contracts are kept and their quotes fresh.
	before := e.sim.Stats().TotalRequests
	e.clk.Advance(time.Second)
	rep = e.run(j)
	if n := e.sim.Stats().TotalRequests - before; n != 0 || rep.Options.Skipped != o.Considered {
		t.Errorf("second run: %d requests, options %+v; want none and all skipped", n, rep.Options)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestOptimizerStateCarriesToTheNextRun(t *testing.T) {
	e := newEnv(t, preMarket)
	w := hitrate.NewWindows(e.rdb, hitrate.WindowsOptions{Clock: e.clk, Timeout: time.Second})
	// 1000 requests, 70 % hits: below the 80 % target.
	if err := w.Record(context.Background(), "stock_quote", 700, 300, 5000, 1000); err != nil {
		t.Fatal(err)
	}
	d := e.deps()
	d.Windows = w
	hot := symbols(0, 3)
	j := prefetch.New(d, onePass(prefetch.Config{Watchlist: hot}))
	rep := e.run(j)
	want := prefetch.Tuning{TopN: 300, RefreshBelow: 0.6, StockTTL: 30 * time.Second}
	if rep.Tuning != (prefetch.Tuning{TopN: 200, RefreshBelow: 0.5, StockTTL: 30 * time.Second}) {
		t.Errorf("first run's tuning %+v, want the configuration", rep.Tuning)
	}
	if rep.Decision.Action != prefetch.ActionWiden || rep.Decision.To != want {
		t.Errorf("decision %+v, want widen to %+v", rep.Decision, want)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(e.rdb.Get(context.Background(), prefetch.StateKey).Val()), &st); err != nil {
		t.Fatal(err)
	}
	if st["top_n"] != 300.0 || st["refresh_below"] != 0.6 || st["action"] != "widen" {
		t.Errorf("kept state %v", st)
	}
	if ttl := e.rdb.TTL(context.Background(), prefetch.StateKey).Val(); ttl <= 23*time.Hour {
		t.Errorf("state TTL %s, want about 24 h", ttl)
	}
	lines := logLines(e.logs, "optimizer decision")
	if len(lines) != 1 || !strings.Contains(lines[0], `"hit_rate":0.7`) || !strings.Contains(lines[0], `"requests":1000`) {
		t.Errorf("decision log %v, want one line with its inputs", lines)
	}

	e.clk.Advance(time.Minute)
	rep = e.run(j)
	if rep.Tuning != want {
		t.Errorf("next run's tuning %+v, want %+v", rep.Tuning, want)
	}
}

func TestOptimizerStretchesTTLOnlyWithinTheServiceLevel(t *testing.T) {
	e := newEnv(t, regularSession)
	pol, _ := cache.DefaultPolicy().WithBase(cache.StockQuote, 12*time.Second)
	e.cache.SetPolicy(pol)
	w := hitrate.NewWindows(e.rdb, hitrate.WindowsOptions{Clock: e.clk, Timeout: time.Second})
	if err := w.Record(context.Background(), "stock_quote", 10, 990, 100, 1000); err != nil {
		t.Fatal(err)
	}
	d := e.deps()
	d.Windows = w
	hot := symbols(0, 3)
	j := prefetch.New(d, onePass(prefetch.Config{Watchlist: hot, TopN: -1}))
	rep := e.run(j)
	if rep.Decision.To.StockTTL != 18*time.Second {
		t.Fatalf("decision %+v, want the 12 s TTL stretched to 18 s", rep.Decision)
	}
	// The stretch applies to the entries the next run writes.
	e.clk.Advance(time.Minute)
	e.run(j)
	if en := e.fresh(cache.StockQuote, hot[:1])[hot[0]]; en == nil || en.TTL != 18*time.Second {
		t.Fatalf("entry %+v, want an 18 s TTL", en)
	}

	// However long the state asks for, entries never outlive the SLO.
	if err := e.rdb.Set(context.Background(), prefetch.StateKey,
		`{"top_n":5,"refresh_below":0.5,"stock_ttl_seconds":3600}`, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	rep = e.run(j)
	if rep.Tuning.StockTTL != 18*time.Second {
		t.Errorf("tuning %+v from a state asking for an hour, want the 18 s ceiling", rep.Tuning)
	}
	for _, en := range e.fresh(cache.StockQuote, hot) {
		if en.TTL > cache.MaxAge(cache.StockQuote) {
			t.Errorf("entry TTL %s above the %s service level", en.TTL, cache.MaxAge(cache.StockQuote))
		}
	}
}

func TestCorruptStateFallsBackToTheConfiguration(t *testing.T) {
	e := newEnv(t, preMarket)
	if err := e.rdb.Set(context.Background(), prefetch.StateKey, "{not json", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	j := prefetch.New(e.deps(), onePass(prefetch.Config{Watchlist: symbols(0, 2), TopN: 50}))
	rep := e.run(j)
	if rep.Tuning.TopN != 50 || rep.Tuning.RefreshBelow != 0.5 {
		t.Errorf("tuning %+v, want the configuration", rep.Tuning)
	}
	if len(logLines(e.logs, "optimizer state unusable")) != 1 {
		t.Errorf("no warning about the corrupt state:\n%s", e.logs)
	}
}

func TestL2DownIsAnError(t *testing.T) {
	e := newEnv(t, preMarket)
	j := prefetch.New(e.deps(), onePass(prefetch.Config{Watchlist: symbols(0, 2)}))
	e.rs.Stop()
	rep, err := j.Run(context.Background())
	if err == nil {
		t.Fatalf("Run with L2 down succeeded: %+v", rep)
	}
	if e.sim.Stats().TotalRequests != 0 {
		t.Error("origin called although nothing could be stored")
	}
}

func TestHandleRunsOnTheSampleScheduledEvent(t *testing.T) {
	b, err := os.ReadFile("../../events/prefetch-scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || len(ev.Resources) != 1 ||
		!strings.HasPrefix(ev.Resources[0], "arn:aws:events:") || ev.Time.IsZero() || string(ev.Detail) != "{}" {
		t.Fatalf("sample event %+v is not an EventBridge scheduled event", ev)
	}
	e := newEnv(t, preMarket)
	j := prefetch.New(e.deps(), onePass(prefetch.Config{Watchlist: symbols(0, 5)}))
	rep, err := j.Handle(context.Background(), ev)
	if err != nil || rep.Refreshed != 5 {
		t.Errorf("Handle = %+v, %v; want 5 refreshed", rep, err)
	}
	if len(logLines(e.logs, ev.ID)) != 1 {
		t.Errorf("the event id is not logged:\n%s", e.logs)
	}
}

func TestWithoutRedisTheWatchlistIsRefreshed(t *testing.T) {
	e := newEnv(t, preMarket)
	d := e.deps()
	d.Redis = nil
	j := prefetch.New(d, onePass(prefetch.Config{Watchlist: symbols(0, 4)}))
	rep := e.run(j)
	if rep.Refreshed != 4 || rep.Decision.Action != prefetch.ActionHold {
		t.Errorf("report %+v, want the 4 watchlist symbols refreshed and the optimizer holding", rep)
	}
	if n := e.rdb.Exists(context.Background(), prefetch.StateKey).Val(); n != 0 {
		t.Error("state written without Redis")
	}
}
