package api_test

import (
	"context"
	"strings"
	"testing"
)

// FuzzHandler drives the whole request handler with arbitrary events (a
// method, a path, a raw query string and one header) over a real cache and
// a counting origin. Whatever comes in: the answer is never a 5xx; a 4xx is
// Alpaca's error shape as JSON, and wrote no Redis key and made no origin
// call.
func FuzzHandler(f *testing.F) {
	ſ9 := strings.Repeat("ſ", 9)
	long := "symbols=AAPL&pad=" + strings.Repeat("x", 20<<10)
	seeds := [][5]string{
		{"GET", "/v2/stocks/AAPL/quotes/latest", "", "", ""},
		{"GET", "/v2/stocks/quotes/latest", "symbols=AAPL,MSFT&feed=iex", "", ""},
		{"GET", "/v1beta1/options/quotes/latest", "symbols=" + ſ9 + "AB", "", ""},
		{"GET", "/v1beta1/options/snapshots", "symbols=" + ſ9 + "AB,SPY261127C00600000", "", ""},
		{"GET", "/v1beta1/options/snapshots", "symbols=SPY261127C00600000&page_token=abc&limit=1", "", ""},
		{"GET", "/v1beta1/options/snapshots/" + ſ9 + "A", "", "", ""},
		{"GET", "/v2/stocks/ſPY/bars", "timeframe=1Day", "", ""},
		{"GET", "/v1beta1/options/snapshots/SPY", "strike_price_gte=NaN", "", ""},
		{"GET", "/v1beta1/options/snapshots/SPY", "strike_price_lte=%2BInf", "", ""},
		{"GET", "/v1beta1/options/snapshots/SPY", "strike_price_gte=1e400", "", ""},
		{"GET", "/v1beta1/options/snapshots/SPY", "strike_price_gte=0x1p3&updated_since=2026-11-27", "", ""},
		{"GET", "/v2/stocks/AAPL/bars", "timeframe=1Day&limit=99999999999999999999", "", ""},
		{"GET", "/v2/stocks/AAPL/bars", "timeframe=1T&start=2026-11-27T09:30:00-05:00&adjustment=split,dividend", "", ""},
		{"GET", "/v2/stocks/AAPL/bars", "timeframe=1Day&start=9999-12-31T23:59:59-23:59", "", ""},
		{"GET", "/v2/stocks/bars", "symbols=AAPL,MSFT&timeframe=1Day&timeframe=1Min", "", ""},
		{"GET", "/v2/stocks/quotes/latest", long, "", ""},
		{"GET", "/v2/stocks/quotes/latest", "symbols=AAPL&symbols=MSFT", "", ""},
		{"GET", "/v2/stocks/../quotes/latest", "", "", ""},
		{"GET", "/v2/stocks/AAPL%2F..%2F/quotes/latest", "", "", ""},
		{"GET", "//v2/stocks/AAPL/quotes/latest", "", "", ""},
		{"GET", "/v1/market/status", "at=0000-01-01T00:00:00%2B23:59", "", ""},
		{"get", "/healthz", "", "", ""},
		{"POST", "/v2/stocks/AAPL/quotes/latest", "", "content-type", "text/plain"},
		{"", "", "%zz", "x-h", strings.Repeat("v", 11<<10)},
		{"GET", "/v2/stocks/AAPL/trades/latest", "feed=sip", "", ""},
		{"GET", "/v2/stocks/snapshots", "symbols=AAPL,ſ", "", ""},
		{"GET", "/v2/stocks/AAPL/snapshot", "", "accept-encoding", "gzip"},
		{"GET", "/v2/stocks/trades", "symbols=AAPL&start=2026-11-27&end=2026-11-26", "", ""},
		{"GET", "/v2/stocks/meta/conditions/trade", "tape=Z", "", ""},
		{"GET", "/v1beta3/crypto/us/latest/quotes", "symbols=BTC/USD,ETH%2FUSD", "", ""},
		{"GET", "/v1beta3/crypto/eu/latest/quotes", "symbols=BTC/USD", "", ""},
		{"GET", "/v1beta3/crypto/us/bars", "symbols=BTC/USD&timeframe=1Hour&limit=0", "", ""},
		{"GET", "/v1beta1/crypto-perps/global/latest/pricing", "symbols=BTC-PERP", "", ""},
		{"GET", "/v1beta1/news", "symbols=AAPL&limit=51&include_content=maybe", "", ""},
		{"GET", "/v1/corporate-actions", "start=2026-13-01", "", ""},
		{"GET", "/v1beta1/screener/crypto/movers", "top=0", "", ""},
		{"GET", "/v1beta1/logos/AAPL", "placeholder=true", "", ""},
		{"GET", "/v1beta1/forex/latest/rates", "", "", ""},
		{"GET", "/v2/stocks/meta/nothing", "x=%00", "", ""},
		{"GET", "/v1beta2/a/./b", "", "", ""},
		{"GET", "/v1beta1/x%2F..%2Fy", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	b := newBed(f)
	f.Fuzz(func(t *testing.T, method, path, rawQuery, hname, hvalue string) {
		keys, calls := b.keys(), b.calls()
		resp, err := b.h.Handle(context.Background(), event(method, path, rawQuery, map[string]string{hname: hvalue}))
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		switch st := resp.StatusCode; {
		case st >= 500:
			t.Fatalf("%s %q ?%q: %d %s", method, path, rawQuery, st, resp.Body)
		case st >= 400:
			if k, c := b.keys(), b.calls(); k != keys || c != calls {
				t.Fatalf("%s %q ?%q: %d, yet %d key(s) written and %d origin call(s)", method, path, rawQuery, st, k-keys, c-calls)
			}
			checkErrorShape(t, resp.StatusCode, resp.Headers, resp.Body)
		}
	})
}
