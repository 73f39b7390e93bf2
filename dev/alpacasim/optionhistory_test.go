package alpacasim_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
)

func TestOptionBarsAggregateTrades(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	syms := s.OptionSymbols("SPY")
	pick := strings.Join([]string{syms[20], syms[40], syms[60]}, ",")
	start := "&start=2026-11-25"
	trades, _ := walkPages[marketdata.OptionTrade](t, ts, "/v1beta1/options/trades?symbols="+pick+start+"&limit=10000", "trades")
	tradesPaged, pages := walkPages[marketdata.OptionTrade](t, ts, "/v1beta1/options/trades?symbols="+pick+start+"&limit=333", "trades")
	if pages < 3 || !reflect.DeepEqual(trades, tradesPaged) {
		t.Fatalf("%d pages; equal %v", pages, reflect.DeepEqual(trades, tradesPaged))
	}
	hourly, _ := walkPages[marketdata.Bar](t, ts, "/v1beta1/options/bars?symbols="+pick+start+"&timeframe=1Hour", "bars")
	daily, _ := walkPages[marketdata.Bar](t, ts, "/v1beta1/options/bars?symbols="+pick+start+"&timeframe=1Day", "bars")
	for sym, trs := range trades {
		var n, v uint64
		for _, tr := range trs {
			if !inRegularSession(tr.Timestamp) || tr.Price <= 0 || tr.Size == 0 || tr.Timestamp.After(friday) {
				t.Errorf("%s: trade %+v", sym, tr)
			}
			n++
			v += uint64(tr.Size)
		}
		var dn, dv uint64
		for _, b := range daily[sym] {
			checkBar(t, sym+" daily", b)
			dn += b.TradeCount
			dv += b.Volume
		}
		var hn uint64
		for _, b := range hourly[sym] {
			hn += b.TradeCount
		}
		// Daily bars include the day in progress; hourly bars only complete
		// hours, so they may miss the running hour's trades.
		if dn != n || dv != v || hn > n || len(daily[sym]) != 2 {
			t.Errorf("%s: %d trades (%d contracts), daily bars %d (%d), hourly %d", sym, n, v, dn, dv, hn)
		}
		if d := daily[sym][0]; d.Open != trs[0].Price || math.Abs(d.High-maxPrice(trs, d.Timestamp)) > 1e-9 {
			t.Errorf("%s: daily bar %+v vs first trade %+v", sym, d, trs[0])
		}
	}
	latest := fetch[struct {
		Trades map[string]marketdata.OptionTrade
	}](t, ts, "/v1beta1/options/trades/latest?symbols="+pick)
	for sym, trs := range trades {
		if latest.Trades[sym] != trs[len(trs)-1] {
			t.Errorf("%s: latest %+v, last of history %+v", sym, latest.Trades[sym], trs[len(trs)-1])
		}
	}
}

// maxPrice is the highest price of the trades on the New York day of day.
func maxPrice(trs []marketdata.OptionTrade, day time.Time) float64 {
	hi := 0.0
	for _, tr := range trs {
		if tr.Timestamp.Sub(day) < 24*time.Hour && !tr.Timestamp.Before(day) {
			hi = max(hi, tr.Price)
		}
	}
	return hi
}

// Every route is counted under its template, and faults reach new routes.
func TestNewRoutesCountedAndFaulted(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	paths := map[string]string{
		"/v2/stocks/trades/latest?symbols=AAPL":                        "/v2/stocks/trades/latest",
		"/v2/stocks/AAPL/bars/latest":                                  "/v2/stocks/{symbol}/bars/latest",
		"/v2/stocks/AAPL/snapshot":                                     "/v2/stocks/{symbol}/snapshot",
		"/v2/stocks/MSFT/auctions":                                     "/v2/stocks/{symbol}/auctions",
		"/v2/stocks/meta/conditions/trade":                             "/v2/stocks/meta/conditions/{ticktype}",
		"/v1beta3/crypto/us/latest/orderbooks?symbols=BTC/USD":         "/v1beta3/crypto/{loc}/latest/orderbooks",
		"/v1beta3/crypto/eu/latest/orderbooks?symbols=BTC/USD":         "/v1beta3/crypto/{loc}/latest/orderbooks",
		"/v1beta1/crypto-perps/global/latest/pricing?symbols=BTC-PERP": "/v1beta1/crypto-perps/{loc}/latest/pricing",
		"/v1beta1/news":                              "/v1beta1/news",
		"/v1beta1/logos/AAPL":                        "/v1beta1/logos/{symbol}",
		"/v1beta1/screener/crypto/movers":            "/v1beta1/screener/{market_type}/movers",
		"/v1beta1/forex/rates?currency_pairs=EURUSD": "/v1beta1/forex/rates",
	}
	for p := range paths {
		get(t, ts, p)
	}
	st := s.Stats()
	for p, tmpl := range paths {
		want := int64(1)
		if strings.Contains(p, "orderbooks") {
			want = 2
		}
		if st.ByPath[tmpl] != want {
			t.Errorf("%s: counted %d under %s (%v)", p, st.ByPath[tmpl], tmpl, st.ByPath)
		}
	}
	s.SetFault(alpacasim.HTML500)
	if r := get(t, ts, "/v1beta3/crypto/us/latest/trades?symbols=BTC/USD"); r.status != 500 || !strings.Contains(r.body, "<html>") {
		t.Errorf("fault: %d %s", r.status, r.body)
	}
	s.SetFault(alpacasim.None)
	r := get(t, ts, "/v1beta1/news")
	if r.header.Get("X-Alpaca-Simulator") != "true" || r.header.Get("X-RateLimit-Limit") == "" {
		t.Errorf("headers %v", r.header)
	}
}
