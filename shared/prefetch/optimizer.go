package prefetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/hitrate"
)

// StateKey holds the optimizer's tuning, a small JSON object, between runs.
const StateKey = config.KeyPrefix + "prefetch:state"

// The optimizer's thresholds.
const (
	// TargetHitRate: below it, the hot set widens (the 80 % hit-rate service
	// level).
	TargetHitRate = 0.8
	// RelaxHitRate: at or above it, the tuning steps back toward Config.
	RelaxHitRate = 0.95
	// MinRequests is the fewest stock-quote requests in the windows read
	// for the hit rate to count; with fewer the optimizer holds.
	MinRequests = 100
	// HighLatency is the mean request latency that counts as a low hit
	// rate would (the miss SLO: a mean above it means misses dominate).
	HighLatency = 500 * time.Millisecond
	// WindowMinutes is how many recent minute windows are read.
	WindowMinutes = 5
	// refreshStep is how far one decision moves RefreshBelow.
	refreshStep = 0.1
	// ttlStretch is how far the original optimizer lengthened TTLs under
	// pressure; the result is clamped to the service level.
	ttlStretch = 1.5
)

// Decision actions.
const (
	ActionHold   = "hold"   // nothing changes
	ActionWiden  = "widen"  // more symbols, refreshed earlier
	ActionNarrow = "narrow" // fewer symbols, refreshed later: the budget is tight
	ActionRelax  = "relax"  // one step back toward the configured tuning
)

// Tuning is what the optimizer controls.
type Tuning struct {
	TopN         int           `json:"top_n"`         // most requested symbols in the hot set
	RefreshBelow float64       `json:"refresh_below"` // refresh below this fraction of the TTL left
	StockTTL     time.Duration `json:"stock_ttl_ns"`  // regular-session base TTL of the stock quotes prefetch writes
}

// Inputs are what a decision is made from.
type Inputs struct {
	HitRate     float64       // stock-quote hits / (hits + misses) over the windows read
	Requests    int64         // hits + misses over those windows
	MeanLatency time.Duration // over those windows
	// BudgetRemaining is the origin budget's free burst slots as last seen;
	// negative when unknown.
	BudgetRemaining int
	// Deferred is how many refreshes the budget (or the run's time) refused
	// in the run just made.
	Deferred int
}

// Limits bound the optimizer. TopN, RefreshBelow and StockTTL are the
// configured tuning it relaxes back to.
type Limits struct {
	TopN, MinTopN, MaxTopN                         int
	RefreshBelow, MinRefreshBelow, MaxRefreshBelow float64
	// StockTTL is the configured base TTL; MaxStockTTL the longest the
	// optimizer may set, already clamped by cache.Policy.WithBase.
	StockTTL, MaxStockTTL time.Duration
	// TightRemaining: the budget is tight when at most this many slots
	// are free (default 0), or when anything was deferred.
	TightRemaining int
}

// Decision is one optimizer step.
type Decision struct {
	Action string `json:"action"`
	Reason string `json:"reason"`
	From   Tuning `json:"from"`
	To     Tuning `json:"to"`
}

// clamp bounds t by l.
func (l Limits) clamp(t Tuning) Tuning {
	t.TopN = min(max(t.TopN, l.MinTopN), l.MaxTopN)
	if math.IsNaN(t.RefreshBelow) {
		t.RefreshBelow = l.RefreshBelow
	}
	t.RefreshBelow = min(max(t.RefreshBelow, l.MinRefreshBelow), l.MaxRefreshBelow)
	t.StockTTL = min(max(t.StockTTL, l.StockTTL), l.MaxStockTTL)
	return t
}

// base is the configured tuning.
func (l Limits) base() Tuning {
	return Tuning{TopN: l.TopN, RefreshBelow: l.RefreshBelow, StockTTL: l.StockTTL}
}

// Decide returns the tuning for the next runs. The current tuning is first
// clamped to lim. In order:
//
//   - Budget tight (in.Deferred > 0, or 0 <= in.BudgetRemaining <=
//     lim.TightRemaining): narrow. TopN halves (not below MinTopN),
//     RefreshBelow drops 0.1 (not below MinRefreshBelow), StockTTL goes to
//     MaxStockTTL. The budget comes first: live traffic must keep its slots.
//   - Fewer than MinRequests requests: hold; there is nothing to judge.
//   - Hit rate below TargetHitRate, or mean latency above HighLatency: widen.
//     TopN grows by half (at least 10, not above MaxTopN), RefreshBelow rises
//     0.1 (not above MaxRefreshBelow), StockTTL goes to MaxStockTTL.
//   - Hit rate at least RelaxHitRate: relax one step toward the configured
//     tuning (TopN by a third of the way or 10, RefreshBelow by 0.1, StockTTL
//     back to the configured TTL); hold when already there.
//   - Otherwise hold.
//
// RefreshBelow is kept to two decimals. Decide is a pure function.
func Decide(cur Tuning, in Inputs, lim Limits) Decision {
	cur = lim.clamp(cur)
	d := Decision{From: cur, To: cur}
	next := cur
	switch {
	case in.Deferred > 0 || (in.BudgetRemaining >= 0 && in.BudgetRemaining <= lim.TightRemaining):
		next.TopN = max(lim.MinTopN, cur.TopN/2)
		next.RefreshBelow = max(lim.MinRefreshBelow, round2(cur.RefreshBelow-refreshStep))
		next.StockTTL = lim.MaxStockTTL
		d.Action = ActionNarrow
		d.Reason = fmt.Sprintf("origin budget tight: %d refreshes deferred, %d slots free", in.Deferred, in.BudgetRemaining)
	case in.Requests < MinRequests:
		d.Action = ActionHold
		d.Reason = fmt.Sprintf("%d requests in the last %d minutes: too few to judge", in.Requests, WindowMinutes)
	case in.HitRate < TargetHitRate || in.MeanLatency > HighLatency:
		next.TopN = min(lim.MaxTopN, cur.TopN+max(10, cur.TopN/2))
		next.RefreshBelow = min(lim.MaxRefreshBelow, round2(cur.RefreshBelow+refreshStep))
		next.StockTTL = lim.MaxStockTTL
		d.Action = ActionWiden
		d.Reason = fmt.Sprintf("hit rate %.3f below %.2f or mean latency %s above %s", in.HitRate, TargetHitRate, in.MeanLatency, HighLatency)
	case in.HitRate >= RelaxHitRate:
		next = relax(cur, lim.base())
		d.Action = ActionRelax
		d.Reason = fmt.Sprintf("hit rate %.3f at or above %.2f", in.HitRate, RelaxHitRate)
		if next == cur {
			d.Action = ActionHold
			d.Reason += "; at the configured tuning"
		}
	default:
		d.Action = ActionHold
		d.Reason = fmt.Sprintf("hit rate %.3f between %.2f and %.2f", in.HitRate, TargetHitRate, RelaxHitRate)
	}
	d.To = lim.clamp(next)
	return d
}

// relax moves cur one step toward base.
func relax(cur, base Tuning) Tuning {
	next := cur
	switch {
	case cur.TopN > base.TopN:
		next.TopN = max(base.TopN, cur.TopN-max(10, (cur.TopN-base.TopN+2)/3))
	case cur.TopN < base.TopN:
		next.TopN = min(base.TopN, cur.TopN+max(10, (base.TopN-cur.TopN+2)/3))
	}
	switch {
	case cur.RefreshBelow > base.RefreshBelow:
		next.RefreshBelow = max(base.RefreshBelow, round2(cur.RefreshBelow-refreshStep))
	case cur.RefreshBelow < base.RefreshBelow:
		next.RefreshBelow = min(base.RefreshBelow, round2(cur.RefreshBelow+refreshStep))
	}
	next.StockTTL = base.StockTTL
	return next
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// limits derives the optimizer's bounds from the configuration and the
// cache's policy (its stock-quote base TTL is the configured TTL).
func limits(c Config, p cache.Policy) Limits {
	base := p.Base(cache.StockQuote)
	stretched, _ := p.WithBase(cache.StockQuote, time.Duration(float64(base)*ttlStretch).Truncate(time.Second))
	return Limits{
		TopN: c.TopN, MinTopN: c.MinTopN, MaxTopN: c.MaxTopN,
		RefreshBelow: c.RefreshBelow, MinRefreshBelow: c.MinRefreshBelow, MaxRefreshBelow: c.MaxRefreshBelow,
		StockTTL: base, MaxStockTTL: max(base, stretched.Base(cache.StockQuote)),
	}
}

// state is the JSON kept at StateKey.
type state struct {
	TopN            int     `json:"top_n"`
	RefreshBelow    float64 `json:"refresh_below"`
	StockTTLSeconds float64 `json:"stock_ttl_seconds"`
	Action          string  `json:"action"`
	Reason          string  `json:"reason"`
	UpdatedAt       string  `json:"updated_at"`
}

// errNoState means no tuning was kept (none yet, or it expired).
var errNoState = errors.New("prefetch: no optimizer state")

// loadTuning reads the kept tuning, clamped to lim. It returns the
// configured tuning and errNoState, or a decoding or Redis error, when
// there is none to use.
func loadTuning(ctx context.Context, rdb redis.UniversalClient, lim Limits) (Tuning, error) {
	if rdb == nil {
		return lim.base(), errNoState
	}
	b, err := rdb.Get(ctx, StateKey).Bytes()
	if errors.Is(err, redis.Nil) {
		return lim.base(), errNoState
	}
	if err != nil {
		return lim.base(), fmt.Errorf("prefetch: read optimizer state: %w", err)
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil || s.TopN < 0 || !(s.RefreshBelow > 0) || !(s.StockTTLSeconds > 0) {
		return lim.base(), fmt.Errorf("prefetch: optimizer state at %s is not valid; using the configuration", StateKey)
	}
	return lim.clamp(Tuning{
		TopN:         s.TopN,
		RefreshBelow: s.RefreshBelow,
		StockTTL:     time.Duration(s.StockTTLSeconds * float64(time.Second)),
	}), nil
}

// saveTuning keeps d.To for ttl.
func saveTuning(ctx context.Context, rdb redis.UniversalClient, d Decision, now time.Time, ttl time.Duration) error {
	if rdb == nil {
		return nil
	}
	b, err := json.Marshal(state{
		TopN:            d.To.TopN,
		RefreshBelow:    d.To.RefreshBelow,
		StockTTLSeconds: d.To.StockTTL.Seconds(),
		Action:          d.Action,
		Reason:          d.Reason,
		UpdatedAt:       now.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return err
	}
	if err := rdb.Set(ctx, StateKey, b, ttl).Err(); err != nil {
		return fmt.Errorf("prefetch: write optimizer state: %w", err)
	}
	return nil
}

// summarize adds up windows into the hit-rate inputs.
func summarize(ws []hitrate.Window) (hitRate float64, requests int64, mean time.Duration) {
	var hits, misses, count int64
	var lat float64
	for _, w := range ws {
		hits += w.Hits
		misses += w.Misses
		count += w.Count
		lat += w.LatencySumMs
	}
	requests = hits + misses
	if requests > 0 {
		hitRate = float64(hits) / float64(requests)
	}
	if count > 0 {
		mean = time.Duration(lat / float64(count) * float64(time.Millisecond))
	}
	return hitRate, requests, mean
}
