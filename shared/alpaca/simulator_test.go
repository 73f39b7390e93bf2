package alpaca_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// These tests run the client against the bundled simulator, which speaks
// Alpaca's paths, shapes, errors and rate-limit headers.

var simNow = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC) // the early-close day, regular session

// simClient returns a client of a simulator configured by cfg. Both read one
// clock, fixed at simNow: the simulator's X-RateLimit-Reset and the client's
// reading of it are then on the same time line, whatever today's date is.
func simClient(t *testing.T, cfg alpacasim.Config, mutate ...func(*alpaca.Config)) (*alpaca.Client, *alpacasim.Server) {
	t.Helper()
	clock := market.NewManualClock(simNow)
	cfg.Clock = clock
	cfg.KeyID, cfg.SecretKey = "sim-key", "sim-secret"
	sim, srv := alpacasim.NewTestServer(t, cfg)
	ac := alpaca.Config{BaseURL: srv.URL, KeyID: "sim-key", SecretKey: "sim-secret", MaxRetries: -1,
		Clock: clock}
	for _, m := range mutate {
		m(&ac)
	}
	return alpaca.New(ac), sim
}

func TestSimulatorChunks250StocksAnd230Options(t *testing.T) {
	// A 400-character bound on the joined list makes several requests.
	c, sim := simClient(t, alpacasim.Config{}, func(c *alpaca.Config) { c.MaxStockURLSymbolsLen = 400 })
	ctx := context.Background()
	syms := alpacasim.Universe()[:250]
	m, err := c.LatestStockQuotes(ctx, append(syms, "ZZZZZ"), "iex")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Values) != 250 || len(m.Missing) != 1 || m.Missing[0] != "ZZZZZ" || m.Source != alpaca.SourceSimulator {
		t.Fatalf("%d values, missing %v, source %s", len(m.Values), m.Missing, m.Source)
	}
	for _, s := range syms {
		var q struct{ AP, BP float64 }
		if err := json.Unmarshal(m.Values[s], &q); err != nil || q.BP > q.AP {
			t.Fatalf("%s: %s (%v)", s, m.Values[s], err)
		}
	}
	joined := len(strings.Join(syms, ",")) + len(",ZZZZZ")
	if n := sim.Stats().ByPath[alpaca.EndpointStockQuotes]; n < int64((joined+399)/400) {
		t.Fatalf("250 symbols (%d characters) in %d request(s) of at most 400", joined, n)
	}
	var occ []string
	for _, u := range alpacasim.OptionUnderlyings() {
		occ = append(occ, sim.OptionSymbols(u)...)
		if len(occ) >= 230 {
			break
		}
	}
	occ = occ[:230]
	sim.Reset()
	om, err := c.LatestOptionQuotes(ctx, occ, "indicative")
	if err != nil {
		t.Fatal(err)
	}
	if len(om.Values) != 230 {
		t.Fatalf("%d option quotes of 230", len(om.Values))
	}
	if n := sim.Stats().ByPath[alpaca.EndpointOptionQuotes]; n != 3 {
		t.Fatalf("230 contracts in %d requests, want 3 (100/100/30)", n)
	}
}

func TestSimulatorPagination(t *testing.T) {
	c, sim := simClient(t, alpacasim.Config{})
	ctx := context.Background()
	const q = "timeframe=1Hour&start=2026-11-16&end=2026-11-26&limit=10"
	call := alpaca.LatestCall{Endpoint: "/v2/stocks/bars", Path: "/v2/stocks/bars", Wrap: "bars", Feed: "iex",
		Query: url.Values{"timeframe": {"1Hour"}, "start": {"2026-11-16"}, "end": {"2026-11-26"}, "limit": {"10"}}}
	all, err := c.Latest(ctx, call, []string{"AAPL"})
	if err != nil || len(all.Values) != 1 || all.Source != alpaca.SourceSimulator {
		t.Fatalf("bars across pages: %+v, %v", all, err)
	}
	if n := sim.Stats().ByPath["/v2/stocks/bars"]; n < 2 {
		t.Fatalf("%d page(s) fetched", n)
	}
	one, err := c.GetPage(ctx, "/v2/stocks/{symbol}/bars", "/v2/stocks/AAPL/bars", q, "iex", false)
	var page struct {
		Bars          []json.RawMessage `json:"bars"`
		NextPageToken *string           `json:"next_page_token"`
	}
	if err != nil || json.Unmarshal(one.Body, &page) != nil || len(page.Bars) != 10 || page.NextPageToken == nil || *page.NextPageToken == "" {
		t.Fatalf("one page: %d bars, token %v, %v", len(page.Bars), page.NextPageToken, err)
	}
	chain, err := c.OptionChain(ctx, "SPY", alpaca.ChainParams{Type: "put", Limit: 25}, true)
	if err != nil || len(chain.Snapshots) <= 25 {
		t.Fatalf("chain across pages: %d snapshots, %v", len(chain.Snapshots), err)
	}
}

func TestSimulatorErrors(t *testing.T) {
	ctx := context.Background()
	c, sim := simClient(t, alpacasim.Config{})
	sim.SetFault(alpacasim.Unauthorized)
	if _, err := c.LatestStockQuotes(ctx, []string{"AAPL"}, ""); !errors.Is(err, alpaca.ErrUnauthorized) {
		t.Fatalf("HTML 403: %v", err)
	}
	sim.SetFault(alpacasim.TruncatedJSON)
	if _, err := c.LatestStockQuotes(ctx, []string{"AAPL"}, ""); !errors.Is(err, alpaca.ErrUnavailable) {
		t.Fatalf("truncated JSON: %v", err)
	}
	sim.SetFault(alpacasim.None)
	before := sim.Stats().TotalRequests
	if _, err := c.GetPage(ctx, "/v2/stocks/{symbol}/bars", "/v2/stocks/AAPL/bars", "timeframe=7Sec", "iex", false); !errors.Is(err, alpaca.ErrInvalidRequest) {
		t.Fatalf("bad timeframe: %v", err)
	}
	if n := sim.Stats().TotalRequests - before; n != 1 {
		t.Fatalf("a 400 was retried: %d requests", n)
	}
	sim.Reset()
	sim.SetRateLimit(1)
	if _, err := c.LatestStockQuotes(ctx, []string{"AAPL"}, ""); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := c.LatestStockQuotes(short, []string{"MSFT"}, "")
	var ae *alpaca.Error
	if !errors.Is(err, alpaca.ErrRateLimited) || !errors.As(err, &ae) || ae.Reset.IsZero() {
		t.Fatalf("429 with the reset past the deadline: %v", err)
	}
	// The budget is per clock minute: the window of 15:00 resets at 15:01,
	// a minute after simNow on the clock both sides read.
	if reset := simNow.Add(time.Minute); !ae.Reset.Equal(reset) || ae.RetryAfter != time.Minute {
		t.Fatalf("429: reset %v, retry after %v; want %v, 1m0s", ae.Reset, ae.RetryAfter, reset)
	}
	if rl := c.LastRateLimit(); rl.Limit != 1 || rl.Remaining != 0 || !rl.Reset.Equal(simNow.Add(time.Minute)) {
		t.Fatalf("rate-limit headers %+v", rl)
	}
}
