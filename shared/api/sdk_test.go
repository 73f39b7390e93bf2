package api_test

import (
	"reflect"
	"testing"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
)

// TestOfficialSDK points the official Alpaca Go SDK at the API (served over
// HTTP through the local gateway, the simulator behind it) and at the
// simulator directly: every call must return the same values, the second
// time from the cache.
func TestOfficialSDK(t *testing.T) {
	s := newStack(t)
	ours := marketdata.NewClient(marketdata.ClientOpts{BaseURL: s.srv.URL, APIKey: "client", APISecret: "client-secret", RetryLimit: 1, Feed: marketdata.IEX})
	origin := marketdata.NewClient(marketdata.ClientOpts{BaseURL: s.simURL, APIKey: "sim-key", APISecret: "sim-secret", RetryLimit: 1, Feed: marketdata.IEX})
	// Option calls go without the stock feed (the SDK would send it there too).
	oursOpt := marketdata.NewClient(marketdata.ClientOpts{BaseURL: s.srv.URL, APIKey: "client", APISecret: "client-secret", RetryLimit: 1})
	originOpt := marketdata.NewClient(marketdata.ClientOpts{BaseURL: s.simURL, APIKey: "sim-key", APISecret: "sim-secret", RetryLimit: 1})
	occ := s.sim.OptionSymbols("SPY")[:3]
	start, end := regular.AddDate(0, 0, -7), regular.AddDate(0, 0, -1)
	calls := []struct {
		name   string
		option bool
		call   func(c *marketdata.Client) (any, error)
	}{
		{"GetLatestQuote", false, func(c *marketdata.Client) (any, error) {
			return c.GetLatestQuote("AAPL", marketdata.GetLatestQuoteRequest{})
		}},
		{"GetLatestQuotes", false, func(c *marketdata.Client) (any, error) {
			return c.GetLatestQuotes([]string{"AAPL", "MSFT", "BRK.B", "SPY"}, marketdata.GetLatestQuoteRequest{})
		}},
		{"GetBars", false, func(c *marketdata.Client) (any, error) {
			return c.GetBars("AAPL", marketdata.GetBarsRequest{TimeFrame: marketdata.OneHour, Start: start, End: end, PageLimit: 20})
		}},
		{"GetMultiBars", false, func(c *marketdata.Client) (any, error) {
			return c.GetMultiBars([]string{"AAPL", "MSFT"}, marketdata.GetBarsRequest{TimeFrame: marketdata.OneDay, Start: start, End: end})
		}},
		{"GetLatestOptionQuotes", true, func(c *marketdata.Client) (any, error) {
			return c.GetLatestOptionQuotes(occ, marketdata.GetLatestOptionQuoteRequest{})
		}},
		{"GetOptionSnapshots", true, func(c *marketdata.Client) (any, error) {
			return c.GetOptionSnapshots(occ, marketdata.GetOptionSnapshotRequest{})
		}},
		{"GetOptionChain", true, func(c *marketdata.Client) (any, error) {
			return c.GetOptionChain("SPY", marketdata.GetOptionChainRequest{Type: marketdata.Call, PageLimit: 50, TotalLimit: 120})
		}},
	}
	for _, c := range calls {
		ours, origin := ours, origin
		if c.option {
			ours, origin = oursOpt, originOpt
		}
		want, err := c.call(origin)
		if err != nil {
			t.Fatalf("%s against the simulator: %v", c.name, err)
		}
		for round := range 2 {
			got, err := c.call(ours)
			if err != nil {
				t.Fatalf("%s through the API (round %d): %v", c.name, round, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s (round %d): the API changed the values\n got %+v\nwant %+v", c.name, round, got, want)
			}
			if v := reflect.ValueOf(got); (v.Kind() == reflect.Map || v.Kind() == reflect.Slice) && v.Len() == 0 {
				t.Fatalf("%s returned nothing", c.name)
			}
		}
	}
}
