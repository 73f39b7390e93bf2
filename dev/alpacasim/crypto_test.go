package alpacasim_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
)

// Crypto trades on a Saturday and on a NYSE holiday.
var (
	saturday  = time.Date(2026, 11, 28, 18, 30, 0, 0, time.UTC)
	christmas = time.Date(2026, 12, 25, 16, 0, 0, 0, time.UTC)
)

func TestCryptoAroundTheClock(t *testing.T) {
	for _, now := range []time.Time{saturday, christmas} {
		_, ts := newSim(t, alpacasim.Config{Clock: fixed(now)})
		lt := fetch[struct {
			Trades map[string]marketdata.CryptoTrade
		}](t, ts, "/v1beta3/crypto/us/latest/trades?symbols=BTC/USD,ETH/USD,NOPE/USD")
		lq := fetch[struct {
			Quotes map[string]marketdata.CryptoQuote
		}](t, ts, "/v1beta3/crypto/us/latest/quotes?symbols=BTC/USD,ETH/USD")
		if len(lt.Trades) != 2 || len(lq.Quotes) != 2 {
			t.Fatalf("%v: %d trades %d quotes", now, len(lt.Trades), len(lq.Quotes))
		}
		for sym, tr := range lt.Trades {
			q := lq.Quotes[sym]
			if tr.Price <= 0 || tr.Size <= 0 || now.Sub(tr.Timestamp) > time.Minute || tr.Timestamp.After(now) ||
				(tr.TakerSide != "B" && tr.TakerSide != "S") {
				t.Errorf("%v %s: trade %+v", now, sym, tr)
			}
			if q.BidPrice <= 0 || q.BidPrice >= q.AskPrice || q.BidSize <= 0 || now.Sub(q.Timestamp) > 2*time.Second {
				t.Errorf("%v %s: quote %+v", now, sym, q)
			}
			// The trade is at the bid or the ask of the quote in force.
			qs := fetch[struct {
				Quotes map[string][]marketdata.CryptoQuote
			}](t, ts,
				"/v1beta3/crypto/us/quotes?symbols="+sym+"&sort=desc&limit=1&start="+rfc(tr.Timestamp.Add(-time.Minute))+"&end="+rfc(tr.Timestamp))
			inForce := qs.Quotes[sym][0]
			if (tr.TakerSide == "B" && tr.Price != inForce.AskPrice) || (tr.TakerSide == "S" && tr.Price != inForce.BidPrice) {
				t.Errorf("%v %s: trade %+v, quote in force %+v", now, sym, tr, inForce)
			}
		}
		bars := fetch[struct {
			Bars map[string][]marketdata.CryptoBar
		}](t, ts, "/v1beta3/crypto/us/bars?symbols=BTC/USD&timeframe=1Hour&start="+rfc(now.Truncate(time.Hour).Add(-3*time.Hour)))
		if len(bars.Bars["BTC/USD"]) != 3 {
			t.Errorf("%v: %d hourly bars", now, len(bars.Bars["BTC/USD"]))
		}
	}
}

func TestCryptoMinuteBarsAggregateTrades(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{Clock: fixed(saturday)})
	start := saturday.Add(-10 * time.Minute)
	bars := fetch[struct {
		Bars map[string][]marketdata.CryptoBar
	}](t, ts, "/v1beta3/crypto/us/bars?symbols=ETH/USD&timeframe=1Min&start="+rfc(start))
	trades := fetch[struct {
		Trades map[string][]marketdata.CryptoTrade
	}](t, ts, "/v1beta3/crypto/us/trades?symbols=ETH/USD&start="+rfc(start))
	hour := fetch[struct {
		Bars map[string][]marketdata.CryptoBar
	}](t, ts, "/v1beta3/crypto/us/bars?symbols=ETH/USD&timeframe=10Min&start="+rfc(start))
	if len(bars.Bars["ETH/USD"]) != 10 || len(hour.Bars["ETH/USD"]) != 1 {
		t.Fatalf("%d minute bars, %d 10-minute bars", len(bars.Bars["ETH/USD"]), len(hour.Bars["ETH/USD"]))
	}
	var n uint64
	var v float64
	for _, b := range bars.Bars["ETH/USD"] {
		var k uint64
		var vol float64
		hi, lo := 0.0, 1e18
		for _, tr := range trades.Trades["ETH/USD"] {
			if tr.Timestamp.Truncate(time.Minute).Equal(b.Timestamp) {
				k++
				vol += tr.Size
				hi, lo = max(hi, tr.Price), min(lo, tr.Price)
			}
		}
		if k != b.TradeCount || hi != b.High || lo != b.Low || vol-b.Volume > 1e-6 || b.Volume-vol > 1e-6 {
			t.Errorf("%v: bar %+v; trades: %d, %v, %v-%v", b.Timestamp, b, k, vol, lo, hi)
		}
		n += b.TradeCount
		v += b.Volume
	}
	if h := hour.Bars["ETH/USD"][0]; h.TradeCount != n || h.Open != bars.Bars["ETH/USD"][0].Open {
		t.Errorf("10-minute bar %+v from %d trades", h, n)
	}
}

func TestCryptoSnapshotsAndPaging(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{Clock: fixed(christmas)})
	snaps := fetch[marketdata.CryptoSnapshots](t, ts, "/v1beta3/crypto/us/snapshots?symbols=BTC/USD,SOL/USD")
	lt := fetch[struct {
		Trades map[string]marketdata.CryptoTrade
	}](t, ts, "/v1beta3/crypto/us/latest/trades?symbols=BTC/USD,SOL/USD")
	lb := fetch[struct {
		Bars map[string]marketdata.CryptoBar
	}](t, ts, "/v1beta3/crypto/us/latest/bars?symbols=BTC/USD,SOL/USD")
	days := fetch[struct {
		Bars map[string][]marketdata.CryptoBar
	}](t, ts, "/v1beta3/crypto/us/bars?symbols=BTC/USD,SOL/USD&timeframe=1Day&start=2026-12-24T00:00:00Z")
	for _, sym := range []string{"BTC/USD", "SOL/USD"} {
		sn := snaps.Snapshots[sym]
		if *sn.LatestTrade != lt.Trades[sym] || *sn.MinuteBar != lb.Bars[sym] || sn.LatestQuote == nil {
			t.Errorf("%s: snapshot differs from the latest routes", sym)
		}
		if d := days.Bars[sym]; len(d) != 2 || *sn.DailyBar != d[1] || *sn.PrevDailyBar != d[0] {
			t.Errorf("%s: daily bars %+v %+v, route %+v", sym, sn.DailyBar, sn.PrevDailyBar, d)
		}
	}
	base := "/v1beta3/crypto/us/trades?symbols=BTC/USD,ETH/USD,DOGE/USD&start=" + rfc(christmas.Add(-30*time.Minute))
	whole, _ := walkPages[marketdata.CryptoTrade](t, ts, base+"&limit=10000", "trades")
	paged, pages := walkPages[marketdata.CryptoTrade](t, ts, base+"&limit=25", "trades")
	if pages < 4 || !reflect.DeepEqual(whole, paged) {
		t.Errorf("%d pages; equal %v", pages, reflect.DeepEqual(whole, paged))
	}
	checkDescending(t, ts, base+"&limit=25", "trades", whole)
}

func TestCryptoOrderbooksAndPerps(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{Clock: fixed(saturday)})
	ob := fetch[struct {
		Orderbooks map[string]struct {
			T    time.Time
			B, A []struct{ P, S float64 }
		}
	}](t, ts, "/v1beta3/crypto/us/latest/orderbooks?symbols=ETH/USD")
	lq := fetch[struct {
		Quotes map[string]marketdata.CryptoQuote
	}](t, ts, "/v1beta3/crypto/us/latest/quotes?symbols=ETH/USD")
	book, q := ob.Orderbooks["ETH/USD"], lq.Quotes["ETH/USD"]
	if len(book.B) != 10 || len(book.A) != 10 || book.B[0].P != q.BidPrice || book.A[0].P != q.AskPrice || !book.T.Equal(q.Timestamp) {
		t.Fatalf("book %+v, quote %+v", book, q)
	}
	for i := 1; i < 10; i++ {
		if book.B[i].P >= book.B[i-1].P || book.A[i].P <= book.A[i-1].P || book.B[i].S <= 0 {
			t.Errorf("level %d out of order: %+v %+v", i, book.B[i], book.A[i])
		}
	}
	pr := fetch[struct {
		Pricing map[string]marketdata.CryptoPerpPricing
	}](t, ts, "/v1beta1/crypto-perps/global/latest/pricing?symbols=BTC-PERP,ETH-PERP")
	for sym, p := range pr.Pricing {
		if p.IndexPrice <= 0 || p.MarkPrice <= 0 || p.OpenInterest <= 0 || p.MarkPrice/p.IndexPrice > 1.01 ||
			p.MarkPrice/p.IndexPrice < 0.99 || !p.NextFundingTime.After(saturday) || p.NextFundingTime.Sub(saturday) > 8*time.Hour {
			t.Errorf("%s: pricing %+v", sym, p)
		}
	}
	for _, path := range []string{"/v1beta3/crypto/eu/latest/trades?symbols=BTC/USD", "/v1beta1/crypto-perps/us/latest/trades?symbols=BTC-PERP"} {
		if r := get(t, ts, path); r.status != 404 || r.body != `{"code":40410000,"message":"endpoint not found"}` {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	for path, msg := range map[string]string{
		"/v1beta3/crypto/us/latest/trades?symbols=BTCUSD":             "invalid symbol: BTCUSD",
		"/v1beta3/crypto/us/bars?symbols=BTC/USD&timeframe=7Sec":      "invalid timeframe",
		"/v1beta3/crypto/us/trades?symbols=BTC/USD&limit=0":           "invalid limit: must be between 1 and 10000",
		"/v1beta1/crypto-perps/global/latest/pricing?symbols=BTC/USD": "invalid symbol: BTC/USD",
	} {
		if r := get(t, ts, path); r.status != 400 || r.body != `{"code":42210000,"message":"`+msg+`"}` {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
}
