package api_test

import (
	"net/url"
	"testing"
)

// Routes of the key cases.
const pathBars, pathMultiBars, pathChain = "/v2/stocks/AAPL/bars", "/v2/stocks/bars", "/v1beta1/options/snapshots/SPY"

var esc = url.QueryEscape // for values holding ":" and "+"

// keyCases are pairs of queries of a path: the same query spelt twice
// (same) or two different queries.
var keyCases = []struct {
	path, a, b string
	same       bool
}{
	{pathBars, "timeframe=1Min", "timeframe=1T", true},
	{pathBars, "timeframe=15T", "timeframe=15Min", true},
	{pathBars, "timeframe=4H", "timeframe=4Hour", true},
	{pathBars, "timeframe=1D", "timeframe=1Day", true},
	{pathBars, "timeframe=1W", "timeframe=1Week", true},
	{pathBars, "timeframe=3M", "timeframe=3Month", true},
	{pathBars, "timeframe=1Min", "timeframe=5Min", false},
	{pathBars, "timeframe=1M", "timeframe=1Min", false},
	{pathBars, "timeframe=1Day&start=2026-11-27T14:30:00Z", "timeframe=1Day&start=" + esc("2026-11-27T09:30:00-05:00"), true},
	{pathBars, "timeframe=1Day&start=2026-11-27T14:30:00Z", "timeframe=1Day&start=2026-11-27T14:30:00.000Z", true},
	{pathBars, "timeframe=1Day&end=2026-11-27T14:30:00.5Z", "timeframe=1Day&end=" + esc("2026-11-27T15:30:00.500000000+01:00"), true},
	{pathBars, "timeframe=1Day&start=2026-11-27T14:30:00Z", "timeframe=1Day&start=2026-11-27T14:30:00.000000001Z", false},
	{pathBars, "timeframe=1Day&start=2026-11-27", "timeframe=1Day&start=2026-11-27T00:00:00Z", false},
	{pathBars, "timeframe=1Day&start=2026-11-27", "timeframe=1Day&start=2026-11-28", false},
	{pathBars, "timeframe=1Day&start=2026-11-27", "timeframe=1Day&end=2026-11-27", false},
	{pathBars, "timeframe=1Day", "timeframe=1Day&sort=asc", true},
	{pathBars, "timeframe=1Day", "timeframe=1Day&sort=desc", false},
	{pathBars, "timeframe=1Day", "timeframe=1Day&adjustment=raw", true},
	{pathBars, "timeframe=1Day&adjustment=split,dividend", "timeframe=1Day&adjustment=dividend,split", true},
	{pathBars, "timeframe=1Day&adjustment=split", "timeframe=1Day&adjustment=split,split", true},
	{pathBars, "timeframe=1Day&adjustment=split", "timeframe=1Day&adjustment=dividend", false},
	{pathBars, "timeframe=1Day&adjustment=split", "timeframe=1Day&adjustment=split,dividend", false},
	{pathBars, "timeframe=1Day", "timeframe=1Day&feed=iex", true},
	{pathBars, "timeframe=1Day", "timeframe=1Day&feed=sip", false},
	{pathBars, "timeframe=1Day", "timeframe=1Day&limit=1000", true},
	{pathBars, "timeframe=1Day&limit=5", "timeframe=1Day&limit=05", true},
	{pathBars, "timeframe=1Day", "timeframe=1Day&limit=999", false},
	{pathBars, "timeframe=1Day", "timeframe=1Day&currency=USD", true},
	{pathBars, "timeframe=1Day", "timeframe=1Day&asof=-", false},
	{pathMultiBars, "symbols=AAPL,MSFT&timeframe=1T&sort=asc", "symbols=MSFT,aapl&timeframe=1Min", true},
	{pathMultiBars, "symbols=AAPL,MSFT&timeframe=1Day", "symbols=AAPL&timeframe=1Day", false},
	{pathChain, "strike_price_gte=100", "strike_price_gte=100.0", true},
	{pathChain, "strike_price_gte=100", "strike_price_gte=1e2", true},
	{pathChain, "strike_price_lte=0.5", "strike_price_lte=.50", true},
	{pathChain, "strike_price_gte=0", "strike_price_gte=-0", true},
	{pathChain, "strike_price_gte=100", "strike_price_gte=100.5", false},
	{pathChain, "strike_price_gte=100", "strike_price_lte=100", false},
	{pathChain, "updated_since=2026-11-27T14:30:00Z", "updated_since=" + esc("2026-11-27T09:30:00.000-05:00"), true},
	{pathChain, "updated_since=2026-11-27", "updated_since=2026-11-27T00:00:00Z", false},
	{pathChain, "", "limit=100", true},
	{pathChain, "", "limit=10", false},
	{pathChain, "", "feed=indicative", true},
	{pathChain, "", "feed=opra", false},
	{pathChain, "type=call", "type=put", false},
	{pathChain, "root_symbol=spy", "root_symbol=SPY", true},
}

// TestEqualQueriesShareAKey: two spellings of one query are served by one
// cache entry (the second is answered without the origin), and two
// different queries never share one.
func TestEqualQueriesShareAKey(t *testing.T) {
	for _, c := range keyCases {
		b := newBed(t)
		ra, rb := b.get(t, c.path, c.a), b.get(t, c.path, c.b)
		if ra.StatusCode != 200 || rb.StatusCode != 200 {
			t.Errorf("%s ?%s / ?%s: %d / %d (%s %s)", c.path, c.a, c.b, ra.StatusCode, rb.StatusCode, ra.Body, rb.Body)
			continue
		}
		want := int64(2)
		if c.same {
			want = 1
		}
		if got := b.calls(); got != want {
			t.Errorf("%s ?%s then ?%s: %d origin calls, want %d (same query: %v)", c.path, c.a, c.b, got, want, c.same)
		}
	}
}

// TestOriginGetsTheClientsSpelling: the key is normalised, the origin
// still receives each parameter as the client spelt it.
func TestOriginGetsTheClientsSpelling(t *testing.T) {
	b := newBed(t)
	b.get(t, "/v1beta1/options/snapshots/SPY", "strike_price_gte=1e2&updated_since="+url.QueryEscape("2026-11-27T09:30:00-05:00"))
	if p := b.origin.chainParams(); p.StrikeGTE != "1e2" || p.UpdatedSince != "2026-11-27T09:30:00-05:00" || p.Limit != 0 {
		t.Errorf("chain params reached the origin as %+v", p)
	}
}
