package alpacasim_test

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// fetch GETs path, requires a 200 and decodes the body.
func fetch[T any](t *testing.T, ts *httptest.Server, path string) T {
	t.Helper()
	r := get(t, ts, path)
	if r.status != 200 {
		t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("%s: %v in %s", path, err, r.body)
	}
	return v
}

func rfc(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339Nano)) }

type tradesPage struct {
	Trades map[string][]marketdata.Trade `json:"trades"`
	Next   *string                       `json:"next_page_token"`
}

type quotesPage struct {
	Quotes map[string][]marketdata.Quote `json:"quotes"`
	Next   *string                       `json:"next_page_token"`
}

// quoteInForce returns the last quote of sym at or before t.
func quoteInForce(t *testing.T, ts *httptest.Server, sym string, at time.Time) marketdata.Quote {
	t.Helper()
	p := fetch[quotesPage](t, ts, "/v2/stocks/quotes?symbols="+sym+"&sort=desc&limit=1&start="+rfc(at.Add(-time.Hour))+"&end="+rfc(at))
	qs := p.Quotes[sym]
	if len(qs) != 1 || qs[0].Timestamp.After(at) {
		t.Fatalf("%s: no quote in force at %v: %+v", sym, at, p)
	}
	return qs[0]
}

func TestStockTradesWithinSpread(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	for _, sym := range []string{"AAPL", "SPY", "BRK.B", "TSLA"} {
		lt := fetch[struct {
			Symbol string           `json:"symbol"`
			Trade  marketdata.Trade `json:"trade"`
		}](t, ts, "/v2/stocks/"+sym+"/trades/latest")
		tr := lt.Trade
		if lt.Symbol != sym || tr.Price <= 0 || tr.Size == 0 || tr.ID == 0 || tr.Timestamp.After(friday) || friday.Sub(tr.Timestamp) > time.Minute {
			t.Errorf("%s: latest trade %+v", sym, lt)
		}
		q := quoteInForce(t, ts, sym, tr.Timestamp)
		if tr.Price < q.BidPrice || tr.Price > q.AskPrice {
			t.Errorf("%s: trade at %v outside the spread %v-%v of %v", sym, tr.Price, q.BidPrice, q.AskPrice, q.Timestamp)
		}
	}
	// Every trade of a pre-market stretch, too.
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) // 04:00 New York
	p := fetch[tradesPage](t, ts, "/v2/stocks/trades?symbols=MSFT&limit=40&start="+rfc(start))
	if len(p.Trades["MSFT"]) != 40 {
		t.Fatalf("%d trades", len(p.Trades["MSFT"]))
	}
	for _, tr := range p.Trades["MSFT"] {
		q := quoteInForce(t, ts, "MSFT", tr.Timestamp)
		if tr.Price < q.BidPrice || tr.Price > q.AskPrice || !inExtendedSession(tr.Timestamp) {
			t.Errorf("MSFT %v: trade %v outside %v-%v", tr.Timestamp, tr.Price, q.BidPrice, q.AskPrice)
		}
		if !slices.Equal(tr.Conditions, []string{"@", "T"}) {
			t.Errorf("pre-market trade conditions %v", tr.Conditions)
		}
	}
}

func TestStockSnapshotEqualsRoutes(t *testing.T) {
	for _, now := range []time.Time{friday, time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)} {
		_, ts := newSim(t, alpacasim.Config{Clock: fixed(now)})
		snaps := fetch[map[string]*marketdata.Snapshot](t, ts, "/v2/stocks/snapshots?symbols=AAPL,ZZZZQ,KO")
		if v, ok := snaps["ZZZZQ"]; !ok || v != nil {
			t.Errorf("unknown symbol: %v %v", v, ok)
		}
		// The SDK's Snapshot decodes itself, so the symbol is read apart.
		one := fetch[marketdata.Snapshot](t, ts, "/v2/stocks/AAPL/snapshot")
		named := fetch[struct{ Symbol string }](t, ts, "/v2/stocks/AAPL/snapshot")
		if named.Symbol != "AAPL" || !reflect.DeepEqual(one, *snaps["AAPL"]) {
			t.Errorf("%v: single %s %+v, multi %+v", now, named.Symbol, one, snaps["AAPL"])
		}
		for _, sym := range []string{"AAPL", "KO"} {
			sn := snaps[sym]
			lt := fetch[struct{ Trade marketdata.Trade }](t, ts, "/v2/stocks/"+sym+"/trades/latest")
			lq := fetch[struct{ Quote marketdata.Quote }](t, ts, "/v2/stocks/"+sym+"/quotes/latest")
			lb := fetch[struct{ Bar marketdata.Bar }](t, ts, "/v2/stocks/"+sym+"/bars/latest")
			if !reflect.DeepEqual(*sn.LatestTrade, lt.Trade) || !reflect.DeepEqual(*sn.LatestQuote, lq.Quote) || *sn.MinuteBar != lb.Bar {
				t.Errorf("%v %s: snapshot parts differ from the latest routes", now, sym)
			}
			days := fetch[struct{ Bars []marketdata.Bar }](t, ts, "/v2/stocks/"+sym+"/bars?timeframe=1Day&sort=desc&limit=2&start=2026-11-01")
			if len(days.Bars) != 2 || *sn.DailyBar != days.Bars[0] || *sn.PrevDailyBar != days.Bars[1] {
				t.Errorf("%v %s: daily bars %+v %+v, bars route %+v", now, sym, sn.DailyBar, sn.PrevDailyBar, days.Bars)
			}
			if lb.Bar.Timestamp.Add(time.Minute).After(now) || (now.Equal(friday) && now.Sub(lb.Bar.Timestamp) != time.Minute) {
				t.Errorf("%v %s: minute bar at %v is not the last complete minute", now, sym, lb.Bar.Timestamp)
			}
		}
	}
}

// aggregate builds a bar from trades.
func aggregate(trades []marketdata.Trade) marketdata.Bar {
	var b marketdata.Bar
	var pv float64
	for i, tr := range trades {
		if i == 0 {
			b.Open, b.High, b.Low = tr.Price, tr.Price, tr.Price
		}
		b.High, b.Low, b.Close = max(b.High, tr.Price), min(b.Low, tr.Price), tr.Price
		b.Volume += uint64(tr.Size)
		b.TradeCount++
		pv += tr.Price * float64(tr.Size)
	}
	b.VWAP = pv / float64(b.Volume)
	return b
}

func TestMinuteBarsAggregateTrades(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	start := time.Date(2026, 11, 27, 14, 20, 0, 0, time.UTC)
	end := start.Add(20 * time.Minute)
	bars := fetch[struct{ Bars []marketdata.Bar }](t, ts, "/v2/stocks/NVDA/bars?timeframe=1Min&start="+rfc(start)+"&end="+rfc(end.Add(-time.Nanosecond)))
	trades := fetch[struct{ Trades []marketdata.Trade }](t, ts, "/v2/stocks/NVDA/trades?limit=10000&start="+rfc(start)+"&end="+rfc(end.Add(-time.Nanosecond)))
	if len(bars.Bars) != 20 {
		t.Fatalf("%d minute bars", len(bars.Bars))
	}
	byMinute := map[time.Time][]marketdata.Trade{}
	for _, tr := range trades.Trades {
		byMinute[tr.Timestamp.Truncate(time.Minute)] = append(byMinute[tr.Timestamp.Truncate(time.Minute)], tr)
	}
	for _, b := range bars.Bars {
		a := aggregate(byMinute[b.Timestamp])
		if a.Open != b.Open || a.High != b.High || a.Low != b.Low || a.Close != b.Close ||
			a.Volume != b.Volume || a.TradeCount != b.TradeCount || math.Abs(a.VWAP-b.VWAP) > 1e-4 {
			t.Errorf("%v: bar %+v, trades give %+v", b.Timestamp, b, a)
		}
	}
}

// walkPages follows next_page_token from path (which must not end in a
// token) and returns the pages' items per symbol.
func walkPages[T any](t *testing.T, ts *httptest.Server, path, field string) (map[string][]T, int) {
	t.Helper()
	out := map[string][]T{}
	pages := 0
	token := ""
	for {
		p := path
		if token != "" {
			p += "&page_token=" + url.QueryEscape(token)
		}
		page := fetch[map[string]json.RawMessage](t, ts, p)
		var items map[string][]T
		if err := json.Unmarshal(page[field], &items); err != nil {
			t.Fatal(err)
		}
		for k, v := range items {
			out[k] = append(out[k], v...)
		}
		pages++
		var next *string
		_ = json.Unmarshal(page["next_page_token"], &next)
		if next == nil {
			return out, pages
		}
		token = *next
		if pages > 1000 {
			t.Fatal("endless pages")
		}
	}
}

// checkDescending walks path with sort=desc and requires each symbol's items
// to be asc, the ascending walk, reversed.
func checkDescending[T any](t *testing.T, ts *httptest.Server, path, field string, asc map[string][]T) {
	t.Helper()
	desc, _ := walkPages[T](t, ts, path+"&sort=desc", field)
	for sym, items := range asc {
		r := slices.Clone(desc[sym])
		slices.Reverse(r)
		if !reflect.DeepEqual(items, r) {
			t.Errorf("%s: sort=desc is not the reverse", sym)
		}
	}
}

func TestStockHistoryPaging(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	base := "/v2/stocks/trades?symbols=AAPL,MSFT,KO,ZZZZQ&start=" + rfc(friday.Add(-20*time.Minute)) + "&end=" + rfc(friday.Add(time.Hour))
	whole, pages := walkPages[marketdata.Trade](t, ts, base+"&limit=10000", "trades")
	if pages != 1 || len(whole) != 3 {
		t.Fatalf("unlimited: %d pages, %d symbols", pages, len(whole))
	}
	paged, pages := walkPages[marketdata.Trade](t, ts, base+"&limit=37", "trades")
	total := len(whole["AAPL"]) + len(whole["MSFT"]) + len(whole["KO"])
	if pages != (total+36)/37 || !reflect.DeepEqual(whole, paged) {
		t.Errorf("%d trades in %d pages of 37; equal %v", total, pages, reflect.DeepEqual(whole, paged))
	}
	checkDescending(t, ts, base+"&limit=50", "trades", whole)
	for sym, tr := range whole {
		for i := 1; i < len(tr); i++ {
			if !tr[i].Timestamp.After(tr[i-1].Timestamp) || tr[i].ID <= tr[i-1].ID {
				t.Errorf("%s: trades out of order at %d", sym, i)
			}
		}
		if tr[len(tr)-1].Timestamp.After(friday) {
			t.Errorf("%s: a trade after now", sym)
		}
	}
	qbase := "/v2/stocks/quotes?symbols=SPY,QQQ&start=" + rfc(friday.Add(-3*time.Minute))
	qwhole, _ := walkPages[marketdata.Quote](t, ts, qbase, "quotes")
	qpaged, qpages := walkPages[marketdata.Quote](t, ts, qbase+"&limit=100", "quotes")
	if len(qwhole["SPY"]) != 180 || !reflect.DeepEqual(qwhole, qpaged) || qpages != 4 {
		t.Errorf("quotes: %d SPY quotes, %d pages, equal %v", len(qwhole["SPY"]), qpages, reflect.DeepEqual(qwhole, qpaged))
	}
}

func TestStockSingleHistory(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	p := fetch[struct {
		Trades []marketdata.Trade `json:"trades"`
		Symbol string             `json:"symbol"`
		Next   *string            `json:"next_page_token"`
	}](t, ts, "/v2/stocks/AAPL/trades?limit=5&start="+rfc(friday.Add(-time.Minute)))
	if len(p.Trades) != 5 || p.Symbol != "AAPL" || p.Next == nil {
		t.Errorf("single trades page %+v", p)
	}
	r := get(t, ts, "/v2/stocks/AAPL/quotes?start=2026-11-26&end=2026-11-26")
	if r.status != 200 || r.body != `{"quotes":null,"symbol":"AAPL","next_page_token":null}` {
		t.Errorf("holiday quotes: %d %s", r.status, r.body)
	}
}

func TestAuctionsMatchDailyBars(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	a := fetch[struct {
		Auctions map[string][]marketdata.DailyAuctions `json:"auctions"`
		Next     *string                               `json:"next_page_token"`
	}](t, ts, "/v2/stocks/auctions?symbols=AAPL,SPY&start=2026-11-20")
	bars := fetch[struct{ Bars map[string][]marketdata.Bar }](t, ts, "/v2/stocks/bars?symbols=AAPL,SPY&timeframe=1Day&start=2026-11-20")
	for _, sym := range []string{"AAPL", "SPY"} {
		days, bs := a.Auctions[sym], bars.Bars[sym]
		if len(days) != 5 || len(days) != len(bs) {
			t.Fatalf("%s: %d auction days, %d daily bars", sym, len(days), len(bs))
		}
		for i, d := range days {
			if d.Date.In(market.NewYork) != bs[i].Timestamp.In(market.NewYork) || len(d.Opening) == 0 || d.Opening[0].Price != bs[i].Open {
				t.Errorf("%s %v: opening %+v, bar %+v", sym, d.Date, d.Opening, bs[i])
			}
			last := i == len(days)-1
			if last != (len(d.Closing) == 0) || (!last && d.Closing[0].Price != bs[i].Close) {
				t.Errorf("%s %v: closing %+v, bar %+v", sym, d.Date, d.Closing, bs[i])
			}
		}
	}
	paged, pages := walkPages[marketdata.DailyAuctions](t, ts, "/v2/stocks/auctions?symbols=AAPL,SPY&start=2026-11-20&limit=3", "auctions")
	if pages != 4 || !reflect.DeepEqual(paged, a.Auctions) {
		t.Errorf("auction paging: %d pages, equal %v", pages, reflect.DeepEqual(paged, a.Auctions))
	}
}
