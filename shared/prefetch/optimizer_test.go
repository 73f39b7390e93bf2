package prefetch_test

import (
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/shared/prefetch"
)

func TestDecide(t *testing.T) {
	lim := prefetch.Limits{
		TopN: 200, MinTopN: 50, MaxTopN: 1000,
		RefreshBelow: 0.5, MinRefreshBelow: 0.25, MaxRefreshBelow: 0.8,
		StockTTL: 20 * time.Second, MaxStockTTL: 30 * time.Second,
	}
	base := prefetch.Tuning{TopN: 200, RefreshBelow: 0.5, StockTTL: 20 * time.Second}
	tune := func(n int, rb float64, ttl int) prefetch.Tuning {
		return prefetch.Tuning{TopN: n, RefreshBelow: rb, StockTTL: time.Duration(ttl) * time.Second}
	}
	busy := func(hit float64) prefetch.Inputs {
		return prefetch.Inputs{HitRate: hit, Requests: 1000, MeanLatency: 20 * time.Millisecond, BudgetRemaining: 10}
	}
	with := func(in prefetch.Inputs, f func(*prefetch.Inputs)) prefetch.Inputs { f(&in); return in }

	cases := []struct {
		name   string
		lim    func(*prefetch.Limits)
		cur    prefetch.Tuning
		in     prefetch.Inputs
		action string
		want   prefetch.Tuning
	}{
		{"deferred refreshes narrow, even at a low hit rate", nil, base,
			with(busy(0.5), func(in *prefetch.Inputs) { in.Deferred = 3 }), prefetch.ActionNarrow, tune(100, 0.4, 30)},
		{"no free slot narrows", nil, base,
			with(busy(0.99), func(in *prefetch.Inputs) { in.BudgetRemaining = 0 }), prefetch.ActionNarrow, tune(100, 0.4, 30)},
		{"free slots at the tight threshold narrow", func(l *prefetch.Limits) { l.TightRemaining = 2 }, base,
			with(busy(0.99), func(in *prefetch.Inputs) { in.BudgetRemaining = 2 }), prefetch.ActionNarrow, tune(100, 0.4, 30)},
		{"one slot above the tight threshold does not", func(l *prefetch.Limits) { l.TightRemaining = 2 }, base,
			with(busy(0.9), func(in *prefetch.Inputs) { in.BudgetRemaining = 3 }), prefetch.ActionHold, base},
		{"narrow stops at the minimums", nil, tune(60, 0.3, 30),
			with(busy(0.5), func(in *prefetch.Inputs) { in.Deferred = 1 }), prefetch.ActionNarrow, tune(50, 0.25, 30)},
		{"unknown budget is not tight", nil, base,
			with(busy(0.9), func(in *prefetch.Inputs) { in.BudgetRemaining = -1 }), prefetch.ActionHold, base},
		{"99 requests are too few to judge", nil, base,
			with(busy(0.1), func(in *prefetch.Inputs) { in.Requests = 99 }), prefetch.ActionHold, base},
		{"100 requests at 79.9 % widen", nil, base,
			with(busy(0.799), func(in *prefetch.Inputs) { in.Requests = 100 }), prefetch.ActionWiden, tune(300, 0.6, 30)},
		{"exactly 80 % and 500 ms hold", nil, base,
			with(busy(0.8), func(in *prefetch.Inputs) { in.MeanLatency = 500 * time.Millisecond }), prefetch.ActionHold, base},
		{"a mean latency above 500 ms widens at 90 %", nil, base,
			with(busy(0.9), func(in *prefetch.Inputs) { in.MeanLatency = 501 * time.Millisecond }), prefetch.ActionWiden, tune(300, 0.6, 30)},
		{"widen grows a small hot set by at least 10", nil, tune(50, 0.5, 20), busy(0.5), prefetch.ActionWiden, tune(75, 0.6, 30)},
		{"widen keeps RefreshBelow to two decimals", nil, tune(200, 0.7, 20), busy(0.5), prefetch.ActionWiden, tune(300, 0.8, 30)},
		{"widen stops at the maximums", nil, tune(900, 0.8, 30), busy(0.5), prefetch.ActionWiden, tune(1000, 0.8, 30)},
		{"94.9 % holds", nil, tune(600, 0.8, 30), busy(0.949), prefetch.ActionHold, tune(600, 0.8, 30)},
		{"95 % relaxes a widened tuning one step", nil, tune(600, 0.8, 30), busy(0.95), prefetch.ActionRelax, tune(466, 0.7, 20)},
		{"relax brings a narrowed tuning back up", nil, tune(50, 0.3, 30), busy(0.99), prefetch.ActionRelax, tune(100, 0.4, 20)},
		{"relax near the base lands on it", nil, tune(205, 0.55, 20), busy(0.99), prefetch.ActionRelax, base},
		{"at the base, a high hit rate holds", nil, base, busy(0.99), prefetch.ActionHold, base},
		{"a tuning out of bounds is clamped, even when holding", nil, tune(5000, 2, 3600),
			prefetch.Inputs{BudgetRemaining: -1}, prefetch.ActionHold, tune(1000, 0.8, 30)},
		{"a TTL below the configured one is raised to it", nil, tune(200, 0.5, 5),
			prefetch.Inputs{BudgetRemaining: -1}, prefetch.ActionHold, base},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := lim
			if c.lim != nil {
				c.lim(&l)
			}
			d := prefetch.Decide(c.cur, c.in, l)
			if d.Action != c.action || d.To != c.want {
				t.Errorf("Decide(%+v, %+v) = %s → %+v (%s), want %s → %+v", c.cur, c.in, d.Action, d.To, d.Reason, c.action, c.want)
			}
			if d.Reason == "" {
				t.Error("no reason given")
			}
			if d.To.StockTTL > l.MaxStockTTL || d.To.TopN > l.MaxTopN || d.To.RefreshBelow > l.MaxRefreshBelow {
				t.Errorf("decision %+v beyond the limits", d.To)
			}
		})
	}
}
