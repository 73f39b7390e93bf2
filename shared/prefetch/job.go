package prefetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/budget"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/hitrate"
	"github.com/opitios/opitios-alpaca/shared/hotset"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// Origin is the part of the Alpaca client prefetch calls (*alpaca.Client).
type Origin interface {
	LatestStockQuotes(ctx context.Context, symbols []string, feed string) (alpaca.Multi, error)
	LatestOptionQuotes(ctx context.Context, symbols []string, feed string) (alpaca.Multi, error)
	OptionChain(ctx context.Context, underlying string, p alpaca.ChainParams, allPages bool) (alpaca.Chain, error)
}

// Recorder receives the job's metrics (*metrics.Recorder).
type Recorder interface {
	Prefetched(result metrics.PrefetchResult, n int)
	PrefetchSkipped(reason metrics.Reason)
}

// Windows reads the API's minute windows (*hitrate.Windows).
type Windows interface {
	Recent(ctx context.Context, dataType string, minutes int, now time.Time) ([]hitrate.Window, error)
}

// Budget tells how much of the origin budget is free (*budget.Limiter).
type Budget interface {
	Remaining() int
}

// CallCount reports how many HTTP requests the origin client has made
// (*CallCounter).
type CallCount interface {
	Calls() int64
}

// Deps are the job's collaborators.
type Deps struct {
	// Cache is the two-level cache the API reads; it must have an L2. Each
	// run sets the stock-quote base TTL of its policy (Cache.SetPolicy) to
	// the optimizer's, within the service-level clamp, so a cache shared
	// with the API shares that TTL.
	Cache *cache.Cache
	// Redis holds the hot set, the chosen option contracts and the
	// optimizer's state. Nil: the hot set is the watch list and the
	// underlyings, nothing is decayed and nothing is kept between runs.
	Redis redis.UniversalClient
	// Origin is the origin client. Its Limiter must be a share view of the
	// origin budget (budget.Limiter.WithShare), so that prefetch leaves
	// head-room to live traffic.
	Origin Origin
	// Calls counts the origin's HTTP requests (a CallCounter installed as
	// the origin client's Limiter). Nil: Report.OriginCalls counts the
	// Origin method calls instead, which undercounts chunked calls.
	Calls    CallCount
	Budget   Budget       // nil: the optimizer does not know the budget's free slots
	Recorder Recorder     // nil: no metrics
	Windows  Windows      // nil: the optimizer sees no requests and holds
	Logger   *slog.Logger // nil: slog.Default()
	Clock    market.Clock // nil: the cache's clock
	// Sleep waits d between passes, returning early with ctx's error.
	// Nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Counts tallies one kind of entry over a run's passes. Each pass adds each
// entry it looks at to exactly one of Refreshed, Skipped, Failed, NotFound
// or Deferred.
type Counts struct {
	Considered int `json:"considered"` // distinct symbols (or contracts) in the run's set
	Refreshed  int `json:"refreshed"`  // entries written to L2
	Skipped    int `json:"skipped"`    // entries left alone: still fresh enough
	Failed     int `json:"failed"`     // the origin failed for them (a failed chunk, an error) or L2 refused the write
	NotFound   int `json:"not_found"`  // the origin returned nothing for them; never written, not asked again in the run
	Deferred   int `json:"deferred"`   // not asked: the budget share had no slot in time, or the run's time ran out
}

func (c *Counts) add(o Counts) {
	c.Refreshed += o.Refreshed
	c.Skipped += o.Skipped
	c.Failed += o.Failed
	c.NotFound += o.NotFound
	c.Deferred += o.Deferred
}

// Report describes one run.
type Report struct {
	Session       market.Session `json:"session"` // at the run's start
	Counts                       // stock quotes of the hot set
	Options       Counts         `json:"options"` // option quotes of the chosen contracts
	Passes        int            `json:"passes"`
	OriginCalls   int            `json:"origin_calls"`   // HTTP requests to the origin (see Deps.Calls)
	Duration      time.Duration  `json:"duration_ns"`    // wall-clock time of the run
	SkippedReason string         `json:"skipped_reason"` // why the run did nothing (metrics.ReasonMarketClosed), or ""
	Tuning        Tuning         `json:"tuning"`         // in force during the run
	Decision      Decision       `json:"decision"`       // the optimizer's decision for the next runs; zero when skipped
}

// ErrNoTime is returned by Run when the context's deadline leaves less than
// Config.Margin: no pass could finish in time.
var ErrNoTime = errors.New("prefetch: too little time before the deadline")

// Job is the scheduled prefetch. Runs of one Job are serialised.
type Job struct {
	cfg     Config
	deps    Deps
	cache   *cache.Cache
	cal     *market.Calendar
	clock   market.Clock
	log     *slog.Logger
	sleep   func(context.Context, time.Duration) error
	watch   []string // watch list ∪ underlyings, validated
	unders  []string
	lim     Limits
	basePol cache.Policy

	mu sync.Mutex
}

// New returns a Job. Deps.Cache and Deps.Origin are required.
func New(deps Deps, cfg Config) *Job {
	cfg = cfg.withDefaults()
	j := &Job{cfg: cfg, deps: deps, cache: deps.Cache, cal: deps.Cache.Calendar(), clock: deps.Clock, log: deps.Logger, sleep: deps.Sleep}
	if j.log == nil {
		j.log = slog.Default()
	}
	if j.clock == nil {
		j.clock = market.ClockFunc(deps.Cache.Now)
	}
	if j.sleep == nil {
		j.sleep = market.Sleep
	}
	watch, bad := normList(cfg.Watchlist)
	unders, badU := normList(cfg.Underlyings)
	if len(bad)+len(badU) > 0 {
		j.log.Warn("prefetch: malformed symbols in the configuration are ignored", "watchlist", bad, "underlyings", badU)
	}
	j.unders = unders
	j.watch, _ = normList(append(watch, unders...))
	j.basePol = deps.Cache.Policy()
	j.lim = limits(cfg, j.basePol)
	return j
}

// Handle runs the job for an EventBridge scheduled event (the Lambda
// entry point). The event only triggers the run: its time is logged, and the
// run uses the job's clock.
func (j *Job) Handle(ctx context.Context, ev events.EventBridgeEvent) (Report, error) {
	j.log.Debug("prefetch: scheduled event", "id", ev.ID, "time", ev.Time, "rule", ev.Resources)
	return j.Run(ctx)
}

// Run makes one run (see the package documentation). It returns at once,
// with SkippedReason set, when the market is closed. It returns an error
// when L2 cannot be read (nothing can be refreshed without it) or the
// deadline leaves no time (ErrNoTime); origin failures are counted in the
// report, not returned.
func (j *Job) Run(ctx context.Context) (Report, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	wall := time.Now()
	start := j.clock.Now()
	span := j.cal.SpanAt(start)
	rep := Report{Session: span.Session}
	if span.Session == market.Closed {
		j.skipClosed(&rep, start, span.End)
		rep.Duration = time.Since(wall)
		return rep, nil
	}
	avail := j.cfg.RunFor
	if dl, ok := ctx.Deadline(); ok {
		avail = min(avail, time.Until(dl)-j.cfg.Margin)
	}
	if avail <= 0 {
		return rep, ErrNoTime
	}
	runCtx, cancel := context.WithTimeout(ctx, avail)
	defer cancel()
	tuning := j.applyTuning(runCtx)
	rep.Tuning = tuning
	var calls0 int64
	if j.deps.Calls != nil {
		calls0 = j.deps.Calls.Calls()
	}
	r := j.newRun(&rep, tuning, start, avail)
	r.hot = j.hotSet(runCtx, tuning.TopN)
	rep.Considered = len(r.hot)
	runErr := r.passes(runCtx)
	if j.deps.Calls != nil {
		rep.OriginCalls = int(j.deps.Calls.Calls() - calls0)
	} else {
		rep.OriginCalls = r.methodCalls
	}
	rep.Decision = j.optimize(ctx, tuning, rep.Deferred+rep.Options.Deferred)
	rep.Duration = time.Since(wall)
	j.report(&rep, runErr)
	return rep, runErr
}

// skipClosed records a run that found the market closed.
func (j *Job) skipClosed(rep *Report, at, opens time.Time) {
	rep.SkippedReason = metrics.ReasonMarketClosed.String()
	if j.deps.Recorder != nil {
		j.deps.Recorder.PrefetchSkipped(metrics.ReasonMarketClosed)
	}
	j.log.Info("prefetch: market closed; nothing to do", "at", at, "opens", opens)
}

// applyTuning loads the optimizer's tuning (the configuration's when there
// is none) and puts its stock-quote TTL, clamped to the freshness service
// level, into the cache's policy.
func (j *Job) applyTuning(ctx context.Context) Tuning {
	tuning, err := loadTuning(ctx, j.deps.Redis, j.lim)
	if err != nil && !errors.Is(err, errNoState) {
		j.log.Warn("prefetch: optimizer state unusable; using the configuration", "err", err)
	}
	pol, clamped := j.basePol.WithBase(cache.StockQuote, tuning.StockTTL)
	tuning.StockTTL = pol.Base(cache.StockQuote)
	j.cache.SetPolicy(pol)
	if clamped {
		j.log.Warn("prefetch: stock-quote TTL clamped to the freshness service level", "ttl", tuning.StockTTL)
	}
	return tuning
}

// newRun returns the state of one run starting at start with avail to
// spend.
func (j *Job) newRun(rep *Report, tuning Tuning, start time.Time, avail time.Duration) *run {
	return &run{
		j:         j,
		rep:       rep,
		rb:        tuning.RefreshBelow,
		start:     start,
		lastStart: start.Add(avail - j.cfg.PassTime),
		nextRun:   start.Add(j.cfg.Interval),
		known:     map[entryKey]expiry{},
		gone:      map[entryKey]bool{},
		quotes:    map[string][]byte{},
	}
}

// report records a finished run's counts and logs it.
func (j *Job) report(rep *Report, runErr error) {
	if rec := j.deps.Recorder; rec != nil {
		rec.Prefetched(metrics.PrefetchResultRefreshed, rep.Refreshed+rep.Options.Refreshed)
		rec.Prefetched(metrics.PrefetchResultSkipped, rep.Skipped+rep.Options.Skipped)
		rec.Prefetched(metrics.PrefetchResultFailed, rep.Failed+rep.NotFound+rep.Deferred+
			rep.Options.Failed+rep.Options.NotFound+rep.Options.Deferred)
	}
	attrs := []any{"session", rep.Session, "passes", rep.Passes, "considered", rep.Considered,
		"refreshed", rep.Refreshed, "skipped", rep.Skipped, "failed", rep.Failed, "not_found", rep.NotFound,
		"deferred", rep.Deferred, "options_considered", rep.Options.Considered, "options_refreshed", rep.Options.Refreshed,
		"options_skipped", rep.Options.Skipped, "options_failed", rep.Options.Failed + rep.Options.NotFound + rep.Options.Deferred,
		"origin_calls", rep.OriginCalls, "duration_ms", rep.Duration.Milliseconds()}
	if runErr != nil {
		j.log.Error("prefetch: run failed", append(attrs, "err", runErr)...)
		return
	}
	j.log.Info("prefetch: run done", attrs...)
}

// hotSet returns the watch list and underlyings ∪ the top n requested
// symbols, and decays the request counts. Redis trouble leaves the watch
// list, logged.
func (j *Job) hotSet(ctx context.Context, n int) []string {
	if j.deps.Redis == nil {
		return j.watch
	}
	top, err := hotset.Top(ctx, j.deps.Redis, n)
	if err != nil {
		j.log.Warn("prefetch: hot set unreadable; refreshing the watch list only", "err", err)
	}
	if err := hotset.Decay(ctx, j.deps.Redis, j.cfg.DecayFactor, j.cfg.DecayMin, j.cfg.DecayKeep); err != nil {
		j.log.Warn("prefetch: hot set decay failed", "err", err)
	}
	hot, bad := normList(append(append([]string(nil), j.watch...), top...))
	if len(bad) > 0 {
		j.log.Warn("prefetch: malformed symbols in the hot set are ignored", "count", len(bad))
	}
	return hot
}

// optimize decides the next runs' tuning, keeps it and logs it with its
// inputs.
func (j *Job) optimize(ctx context.Context, cur Tuning, deferred int) Decision {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	now := j.clock.Now()
	in := Inputs{BudgetRemaining: -1, Deferred: deferred}
	if j.deps.Budget != nil {
		in.BudgetRemaining = j.deps.Budget.Remaining()
	}
	if j.deps.Windows != nil {
		ws, err := j.deps.Windows.Recent(ctx, string(cache.StockQuote), WindowMinutes, now)
		if err != nil {
			j.log.Warn("prefetch: optimizer cannot read the hit-rate windows", "err", err)
		}
		in.HitRate, in.Requests, in.MeanLatency = summarize(ws)
	}
	d := Decide(cur, in, j.lim)
	j.log.Info("prefetch: optimizer decision", "action", d.Action, "reason", d.Reason,
		"hit_rate", in.HitRate, "requests", in.Requests, "mean_latency_ms", float64(in.MeanLatency)/float64(time.Millisecond),
		"budget_remaining", in.BudgetRemaining, "deferred", in.Deferred,
		"top_n", d.From.TopN, "next_top_n", d.To.TopN,
		"refresh_below", d.From.RefreshBelow, "next_refresh_below", d.To.RefreshBelow,
		"stock_ttl_s", d.From.StockTTL.Seconds(), "next_stock_ttl_s", d.To.StockTTL.Seconds(),
		"stock_ttl_ceiling_s", j.lim.MaxStockTTL.Seconds())
	if err := saveTuning(ctx, j.deps.Redis, d, now, j.cfg.StateTTL); err != nil {
		j.log.Warn("prefetch: optimizer state not kept", "err", err)
	}
	return d
}

// deferredErr reports whether err means the request was not made for lack
// of budget or time, rather than failed at the origin.
func deferredErr(err error) bool {
	return errors.Is(err, budget.ErrExhausted) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// errL2 wraps an L2 read failure.
func errL2(err error) error { return fmt.Errorf("prefetch: read L2: %w", err) }
