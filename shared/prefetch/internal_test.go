package prefetch

import (
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	p := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	end := p.Add(time.Hour)
	at := func(s int) time.Time { return p.Add(time.Duration(s) * time.Second) }
	cases := []struct {
		name    string
		exp     time.Time
		ttl     time.Duration
		horizon time.Time
		end     time.Time
		rb      float64
		want    bool
	}{
		{"expires before the horizon", at(16), 30 * time.Second, at(17), end, 0.5, true},
		{"expires exactly at the horizon, half its TTL left", at(17), 34 * time.Second, at(17), end, 0.5, false},
		{"expires after the horizon but under half its TTL left", at(20), 41 * time.Second, at(17), end, 0.5, true},
		{"exactly half its TTL left is not below it", at(45), 90 * time.Second, at(17), end, 0.5, false},
		{"a higher threshold refreshes earlier", at(45), 90 * time.Second, at(17), end, 0.6, true},
		{"fresh until the session ends: a new entry could not outlive it", at(10), 30 * time.Second, at(17), at(10), 0.5, false},
		{"cut a second past the session end by rounding", at(11), 30 * time.Second, at(17), at(10), 0.5, false},
	}
	for _, c := range cases {
		if got := due(c.exp, c.ttl, p, c.horizon, c.end, c.rb); got != c.want {
			t.Errorf("%s: due = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cases := []struct {
		name                   string
		in                     Config
		topN, minTopN, maxTopN int
		rb, minRB, maxRB       float64
	}{
		{"zero", Config{}, 200, 50, 1000, 0.5, 0.25, 0.8},
		{"no top N stays none under the optimizer", Config{TopN: -1}, 0, 0, 0, 0.5, 0.25, 0.8},
		{"a large top N may grow fourfold", Config{TopN: 400}, 400, 100, 1600, 0.5, 0.25, 0.8},
		{"bounds widen to hold the configured values", Config{TopN: 10, MaxTopN: 5, RefreshBelow: 0.9, MinRefreshBelow: 0.95}, 10, 2, 10, 0.9, 0.9, 0.9},
	}
	for _, c := range cases {
		g := c.in.withDefaults()
		if g.TopN != c.topN || g.MinTopN != c.minTopN || g.MaxTopN != c.maxTopN ||
			g.RefreshBelow != c.rb || g.MinRefreshBelow != c.minRB || g.MaxRefreshBelow != c.maxRB {
			t.Errorf("%s: got TopN %d [%d, %d], RefreshBelow %v [%v, %v]", c.name,
				g.TopN, g.MinTopN, g.MaxTopN, g.RefreshBelow, g.MinRefreshBelow, g.MaxRefreshBelow)
		}
	}
}
