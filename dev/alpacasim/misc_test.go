package alpacasim_test

import (
	"bytes"
	"image/png"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/market"
)

type newsPage struct {
	News []struct {
		marketdata.News
		Source string `json:"source"`
	} `json:"news"`
	Next *string `json:"next_page_token"`
}

func TestNews(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	base := "/v1beta1/news?symbols=AAPL,MSFT&start=2026-11-23&end=" + rfc(friday)
	var all []marketdata.News
	token := ""
	pages := 0
	for {
		p := fetch[newsPage](t, ts, base+"&limit=7&page_token="+token)
		for _, n := range p.News {
			all = append(all, n.News)
		}
		pages++
		if p.Next == nil {
			break
		}
		token = *p.Next
	}
	whole := fetch[newsPage](t, ts, base+"&limit=50")
	if len(whole.News) != len(all) || len(all) < 14 || pages != (len(all)+6)/7 {
		t.Fatalf("%d articles in %d pages, %d in one", len(all), pages, len(whole.News))
	}
	for i, n := range all {
		if n.ID != whole.News[i].ID || n.Headline == "" || n.Author == "" || n.URL == "" || n.Content != "" ||
			!slices.Contains([]string{"AAPL", "MSFT"}, n.Symbols[0]) || n.CreatedAt.After(friday) || n.UpdatedAt.Before(n.CreatedAt) ||
			whole.News[i].Source != "benzinga" {
			t.Errorf("article %d: %+v", i, n)
		}
		if i > 0 && (n.ID >= all[i-1].ID || n.CreatedAt.After(all[i-1].CreatedAt)) {
			t.Errorf("article %d not in descending order", i)
		}
	}
	asc := fetch[newsPage](t, ts, base+"&limit=50&sort=asc&include_content=true&exclude_contentless=true")
	for i := 1; i < len(asc.News); i++ {
		if asc.News[i].ID <= asc.News[i-1].ID || asc.News[i].Content == "" {
			t.Errorf("ascending article %d: %+v", i, asc.News[i])
		}
	}
	perDay := map[string]int{}
	for _, n := range all {
		perDay[n.Symbols[0]+n.CreatedAt.In(market.NewYork).Format(time.DateOnly)]++
	}
	for k, c := range perDay {
		if c < 2 && !strings.HasSuffix(k, "2026-11-27") {
			t.Errorf("%s: %d articles", k, c)
		}
	}
}

func TestCorporateActions(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	type caPage struct {
		CorporateActions marketdata.CorporateActions `json:"corporate_actions"`
		Next             *string                     `json:"next_page_token"`
	}
	base := "/v1/corporate-actions?start=2026-01-01&end=2026-06-30"
	whole := fetch[caPage](t, ts, base+"&limit=1000")
	if len(whole.CorporateActions.CashDividends) < 100 || whole.Next != nil {
		t.Fatalf("%d dividends", len(whole.CorporateActions.CashDividends))
	}
	var paged marketdata.CorporateActions
	token, pages := "", 0
	for {
		p := fetch[caPage](t, ts, base+"&limit=60&page_token="+token)
		paged.CashDividends = append(paged.CashDividends, p.CorporateActions.CashDividends...)
		paged.ForwardSplits = append(paged.ForwardSplits, p.CorporateActions.ForwardSplits...)
		paged.ReverseSplits = append(paged.ReverseSplits, p.CorporateActions.ReverseSplits...)
		pages++
		if p.Next == nil {
			break
		}
		token = *p.Next
	}
	n := len(whole.CorporateActions.CashDividends) + len(whole.CorporateActions.ForwardSplits) + len(whole.CorporateActions.ReverseSplits)
	if pages != (n+59)/60 || !reflect.DeepEqual(paged.CashDividends, whole.CorporateActions.CashDividends) {
		t.Errorf("%d actions in %d pages of 60", n, pages)
	}
	for _, d := range whole.CorporateActions.CashDividends {
		if d.Rate <= 0 || d.PayableDate == nil || !d.PayableDate.After(d.ExDate) || d.ExDate.Weekday() == time.Saturday {
			t.Errorf("dividend %+v", d)
		}
	}
	splits := fetch[caPage](t, ts, "/v1beta1/corporate-actions?start=2016-01-01&end=2028-12-31&types=forward_split,reverse_split&limit=1000")
	if len(splits.CorporateActions.ForwardSplits) == 0 || len(splits.CorporateActions.CashDividends) != 0 {
		t.Errorf("splits %+v", splits.CorporateActions)
	}
	if v1, beta := get(t, ts, base+"&limit=1"), get(t, ts, strings.Replace(base, "/v1/", "/v1beta1/", 1)+"&limit=1"); !strings.Contains(v1.body, `"id":"`) || strings.Contains(beta.body, `"id"`) {
		t.Errorf("v1 %s, v1beta1 %s", v1.body, beta.body)
	}
}

func TestScreener(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	ma := fetch[struct {
		MostActives []struct {
			Symbol     string
			Volume     uint64
			TradeCount uint64 `json:"trade_count"`
		} `json:"most_actives"`
		LastUpdated time.Time `json:"last_updated"`
	}](t, ts, "/v1beta1/screener/stocks/most-actives?top=5")
	snaps := fetch[map[string]*marketdata.Snapshot](t, ts, "/v2/stocks/snapshots?symbols="+strings.Join(alpacasim.Universe(), ","))
	if len(ma.MostActives) != 5 || !ma.LastUpdated.Equal(friday) {
		t.Fatalf("most actives %+v", ma)
	}
	for i, a := range ma.MostActives {
		if snaps[a.Symbol].DailyBar.Volume != a.Volume || (i > 0 && a.Volume > ma.MostActives[i-1].Volume) {
			t.Errorf("%d: %+v, daily bar %+v", i, a, snaps[a.Symbol].DailyBar)
		}
	}
	type moversBody struct {
		Gainers, Losers []struct {
			Symbol        string
			PercentChange float64 `json:"percent_change"`
			Change, Price float64
		}
		MarketType string `json:"market_type"`
	}
	for _, market := range []string{"stocks", "crypto"} {
		mv := fetch[moversBody](t, ts, "/v1beta1/screener/"+market+"/movers?top=3")
		if mv.MarketType != market || len(mv.Gainers) == 0 || len(mv.Losers) == 0 {
			t.Errorf("%s movers %+v", market, mv)
		}
		for _, g := range mv.Gainers {
			if g.PercentChange <= 0 {
				t.Errorf("%s gainer %+v", market, g)
			}
		}
	}
	if r := get(t, ts, "/v1beta1/screener/bonds/movers"); r.status != 404 {
		t.Errorf("bonds movers: %d", r.status)
	}
}

func TestLogos(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	for _, path := range []string{"/v1beta1/logos/AAPL", "/v1beta1/logos/BTC", "/v1beta1/logos/ZZZZQ?placeholder=true"} {
		r := get(t, ts, path)
		img, err := png.Decode(bytes.NewReader([]byte(r.body)))
		if r.status != 200 || r.header.Get("Content-Type") != "image/png" || err != nil || img.Bounds().Dx() != 32 {
			t.Errorf("%s: %d %v %v", path, r.status, r.header, err)
		}
	}
	if r := get(t, ts, "/v1beta1/logos/ZZZZQ"); r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("unknown logo: %d %s", r.status, r.body)
	}
}

func TestForex(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{Clock: fixed(saturday)})
	type rate struct {
		BP, MP, AP float64
		T          time.Time
	}
	lr := fetch[struct{ Rates map[string]rate }](t, ts, "/v1beta1/forex/latest/rates?currency_pairs=USDJPY,EURUSD,XXXYYY")
	friClose := time.Date(2026, 11, 27, 21, 59, 0, 0, time.UTC) // 16:59 New York
	if len(lr.Rates) != 2 {
		t.Fatalf("rates %+v", lr)
	}
	for p, r := range lr.Rates {
		if !r.T.Equal(friClose) || r.BP >= r.MP || r.MP >= r.AP || r.BP <= 0 {
			t.Errorf("%s: weekend latest rate %+v", p, r)
		}
	}
	hist := fetch[struct {
		Rates map[string][]rate
		Next  *string `json:"next_page_token"`
	}](t, ts, "/v1beta1/forex/rates?currency_pairs=USDJPY&timeframe=1T&start=2026-11-27T21:00:00Z&limit=100")
	h := hist.Rates["USDJPY"]
	if len(h) != 60 || !h[len(h)-1].T.Equal(friClose) || hist.Next != nil {
		t.Errorf("%d minute rates, last %+v", len(h), h[len(h)-1])
	}
	if r := get(t, ts, "/v1beta1/forex/rates?currency_pairs=USDJPY&timeframe=1Hour"); r.status != 400 {
		t.Errorf("an hourly timeframe: %d %s", r.status, r.body)
	}
	if r := get(t, ts, "/v1beta1/forex/latest/rates"); r.status != 400 {
		t.Errorf("no pairs: %d %s", r.status, r.body)
	}
}

func TestMeta(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	ex := fetch[map[string]string](t, ts, "/v2/stocks/meta/exchanges")
	if ex["A"] != "NYSE American (AMEX)" || ex["V"] != "IEX" {
		t.Errorf("exchanges %v", ex)
	}
	tc := fetch[map[string]string](t, ts, "/v2/stocks/meta/conditions/trade?tape=C")
	qc := fetch[map[string]string](t, ts, "/v2/stocks/meta/conditions/quote?tape=A")
	if tc["@"] == "" || tc["T"] == "" || qc["R"] == "" {
		t.Errorf("conditions %v %v", tc, qc)
	}
	oc := fetch[map[string]string](t, ts, "/v1beta1/options/meta/conditions/trade")
	for _, c := range []string{"a", "f", "g", "I"} {
		if oc[c] == "" {
			t.Errorf("option trade condition %q unnamed", c)
		}
	}
	if oe := fetch[map[string]string](t, ts, "/v1beta1/options/meta/exchanges"); len(oe) < 15 {
		t.Errorf("option exchanges %v", oe)
	}
	for path, msg := range map[string]string{
		"/v2/stocks/meta/conditions/bar":                     "invalid ticktype",
		"/v2/stocks/meta/conditions/trade?tape=D":            "invalid tape",
		"/v1beta1/options/meta/conditions/spread":            "invalid ticktype",
		"/v2/stocks/trades?symbols=AAPL&limit=0":             "invalid limit: must be between 1 and 10000",
		"/v2/stocks/trades?symbols=AAPL&sort=up":             "invalid sort: must be asc or desc",
		"/v2/stocks/quotes?symbols=AAPL&asof=never":          "invalid asof",
		"/v2/stocks/AAPL/trades?feed=nyse":                   "invalid feed",
		"/v2/stocks/auctions?symbols=A$B":                    "invalid symbol: A$B",
		"/v2/stocks/snapshots?symbols=":                      "symbols is required",
		"/v2/stocks/trades/latest?symbols=AAPL&currency=EUR": "unsupported currency",
		"/v1beta1/news?limit=51":                             "invalid limit: must be between 1 and 50",
		"/v1beta1/news?include_content=maybe":                "invalid include_content",
		"/v1/corporate-actions?types=dividend":               "invalid types",
		"/v1/corporate-actions?start=2026-02-30":             "invalid start",
		"/v1beta1/screener/stocks/most-actives?by=price":     "invalid by: must be volume or trades",
		"/v1beta1/screener/stocks/movers?top=51":             "invalid top: must be between 1 and 50",
		"/v1beta1/options/bars?symbols=AAPL&timeframe=1Day":  "invalid symbol: AAPL",
	} {
		if r := get(t, ts, path); r.status != 400 || r.body != `{"code":42210000,"message":"`+msg+`"}` {
			t.Errorf("%s: %d %s, want %s", path, r.status, r.body, msg)
		}
	}
	for _, path := range []string{"/v2/stocks/ZZZZQ/trades/latest", "/v2/stocks/ZZZZQ/bars/latest", "/v2/stocks/ZZZZQ/snapshot",
		"/v2/stocks/ZZZZQ/trades", "/v2/stocks/ZZZZQ/quotes", "/v2/stocks/ZZZZQ/auctions"} {
		if r := get(t, ts, path); r.status != 404 || r.body != `{"code":40410000,"message":"symbol not found: ZZZZQ"}` {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
}
