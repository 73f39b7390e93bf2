package alpacasim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"
	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// requestPaths exercises every route; {opt} is replaced by a listed SPY
// contract.
var requestPaths = []string{
	"/v2/stocks/AAPL/quotes/latest",
	"/v2/stocks/quotes/latest?symbols=AAPL,MSFT,SPY,ZZZZQ",
	"/v2/stocks/TSLA/bars?timeframe=15Min&start=2026-11-24&limit=50",
	"/v2/stocks/bars?symbols=AAPL,MSFT&timeframe=1Day&start=2026-06-01&limit=40",
	"/v1beta1/options/quotes/latest?symbols={opt}",
	"/v1beta1/options/snapshots?symbols={opt}",
	"/v1beta1/options/snapshots/SPY?limit=20&type=put",
	"/v2/calendar?start=2026-11-01&end=2026-12-31",
}

func expand(s *alpacasim.Server, p string) string {
	return strings.ReplaceAll(p, "{opt}", s.OptionSymbols("SPY")[40])
}

func TestDeterministic(t *testing.T) {
	s1, ts1 := newSim(t, alpacasim.Config{Seed: 7})
	_, ts2 := newSim(t, alpacasim.Config{Seed: 7})
	_, ts3 := newSim(t, alpacasim.Config{Seed: 8})
	for _, p := range requestPaths {
		p = expand(s1, p)
		a, b, c := get(t, ts1, p), get(t, ts2, p), get(t, ts3, p)
		if a.status != 200 {
			t.Fatalf("%s: status %d %s", p, a.status, a.body)
		}
		if a.body != b.body {
			t.Errorf("%s: same seed and clock, different bodies", p)
		}
		if a.body == c.body && !strings.HasPrefix(p, "/v2/calendar") {
			t.Errorf("%s: different seeds, same body", p)
		}
		if a.header.Get("X-Alpaca-Simulator") != "true" || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: headers %v", p, a.header)
		}
		if !json.Valid([]byte(a.body)) {
			t.Errorf("%s: invalid JSON %s", p, a.body)
		}
	}
}

func TestPricesMoveWithTime(t *testing.T) {
	clock := &movable{friday}
	_, ts := newSim(t, alpacasim.Config{Clock: clock})
	c := sdk(ts)
	syms := []string{"AAPL", "MSFT", "SPY", "KO", "XOM"}
	before, err := c.GetLatestQuotes(syms, marketdata.GetLatestQuoteRequest{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.GetLatestQuotes(syms, marketdata.GetLatestQuoteRequest{})
	if err != nil {
		t.Fatal(err)
	}
	clock.t = friday.Add(5 * time.Minute)
	after, err := c.GetLatestQuotes(syms, marketdata.GetLatestQuoteRequest{})
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, sym := range syms {
		if !reflect.DeepEqual(before[sym], again[sym]) {
			t.Errorf("%s: same instant, different quotes", sym)
		}
		if !after[sym].Timestamp.After(before[sym].Timestamp) {
			t.Errorf("%s: quote time did not advance", sym)
		}
		if before[sym].BidPrice != after[sym].BidPrice {
			moved++
		}
		// A smooth path: five minutes move a price by well under 5 %.
		if r := after[sym].BidPrice / before[sym].BidPrice; r < 0.95 || r > 1.05 {
			t.Errorf("%s: bid jumped from %v to %v", sym, before[sym].BidPrice, after[sym].BidPrice)
		}
	}
	if moved < 4 {
		t.Errorf("only %d of %d bids moved in five minutes", moved, len(syms))
	}
}

func TestQuotesOutsideSessions(t *testing.T) {
	ny := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, market.NewYork)
	}
	cases := []struct {
		name             string
		now              time.Time
		stockAt, optAt   time.Time // the session end the quotes must precede (zero: now)
		stockLo, optionL time.Time // and not precede
	}{
		{"Saturday after an early close", ny(2026, 11, 28, 12, 0),
			ny(2026, 11, 27, 17, 0), ny(2026, 11, 27, 13, 0), ny(2026, 11, 27, 16, 59), ny(2026, 11, 27, 12, 59)},
		{"Thanksgiving", ny(2026, 11, 26, 11, 0),
			ny(2026, 11, 25, 20, 0), ny(2026, 11, 25, 16, 0), ny(2026, 11, 25, 19, 59), ny(2026, 11, 25, 15, 59)},
		{"pre-market", ny(2026, 11, 30, 5, 0),
			ny(2026, 11, 30, 5, 0), ny(2026, 11, 27, 13, 0), ny(2026, 11, 30, 4, 59), ny(2026, 11, 27, 12, 59)},
		{"before the pre-market", ny(2026, 11, 30, 3, 0),
			ny(2026, 11, 27, 17, 0), ny(2026, 11, 27, 13, 0), ny(2026, 11, 27, 16, 59), ny(2026, 11, 27, 12, 59)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, ts := newSim(t, alpacasim.Config{Clock: fixed(tc.now)})
			q, err := sdk(ts).GetLatestQuote("AMZN", marketdata.GetLatestQuoteRequest{})
			if err != nil || q == nil {
				t.Fatal(q, err)
			}
			checkQuote(t, "AMZN", *q, tc.now)
			if q.Timestamp.After(tc.stockAt) || q.Timestamp.Before(tc.stockLo) {
				t.Errorf("stock quote at %v, want in [%v, %v]", q.Timestamp, tc.stockLo, tc.stockAt)
			}
			occ := s.OptionSymbols("AMZN")[10]
			oq, err := sdk(ts).GetLatestOptionQuote(occ, marketdata.GetLatestOptionQuoteRequest{})
			if err != nil || oq == nil {
				t.Fatal(oq, err)
			}
			checkOptionQuote(t, occ, *oq, tc.now)
			if oq.Timestamp.After(tc.optAt) || oq.Timestamp.Before(tc.optionL) {
				t.Errorf("option quote at %v, want in [%v, %v]", oq.Timestamp, tc.optionL, tc.optAt)
			}
		})
	}
}

func TestBarsNeverOutsideSessions(t *testing.T) {
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	_, ts := newSim(t, alpacasim.Config{Clock: fixed(now)})
	c := sdk(ts)
	for _, tf := range []marketdata.TimeFrame{
		marketdata.OneMin, marketdata.NewTimeFrame(7, marketdata.Min), marketdata.NewTimeFrame(59, marketdata.Min),
		marketdata.OneHour, marketdata.NewTimeFrame(5, marketdata.Hour), marketdata.NewTimeFrame(23, marketdata.Hour),
	} {
		bars, err := c.GetMultiBars([]string{"SPY", "BF.B"}, marketdata.GetBarsRequest{
			TimeFrame: tf,
			Start:     time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			End:       now.Add(24 * time.Hour),
		})
		if err != nil {
			t.Fatal(tf, err)
		}
		for sym, bs := range bars {
			if len(bs) == 0 {
				t.Fatalf("%v %s: no bars", tf, sym)
			}
			checkIntradayBars(t, sym+" "+tf.String(), bs, time.Duration(0), now)
			for _, b := range bs {
				ny := b.Timestamp.In(market.NewYork)
				y, m, d := ny.Date()
				h := market.Default().Day(y, m, d)
				// Buckets tile the day from the pre-market open.
				if off := b.Timestamp.Sub(h.PreOpen); off%barDuration(tf) != 0 {
					t.Errorf("%v %s: bar at %v is not on the grid", tf, sym, b.Timestamp)
				}
				end := b.Timestamp.Add(barDuration(tf))
				if end.After(h.AfterClose) {
					end = h.AfterClose
				}
				if end.After(now) {
					t.Errorf("%v %s: incomplete bar at %v", tf, sym, b.Timestamp)
				}
			}
		}
	}
	// The early close: nothing after 17:00 on 27 November.
	bars, err := c.GetBars("SPY", marketdata.GetBarsRequest{
		TimeFrame: marketdata.OneMin,
		Start:     time.Date(2026, 11, 27, 12, 0, 0, 0, market.NewYork),
		End:       time.Date(2026, 11, 27, 23, 0, 0, 0, market.NewYork),
	})
	if err != nil {
		t.Fatal(err)
	}
	last := bars[len(bars)-1].Timestamp
	if want := time.Date(2026, 11, 27, 16, 59, 0, 0, market.NewYork); !last.Equal(want) || len(bars) != 5*60 {
		t.Errorf("early close: %d bars, last at %v, want 300 ending %v", len(bars), last, want)
	}
}

func barDuration(tf marketdata.TimeFrame) time.Duration {
	if tf.Unit == marketdata.Hour {
		return time.Duration(tf.N) * time.Hour
	}
	return time.Duration(tf.N) * time.Minute
}

func TestNothingAfterNow(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	r := get(t, ts, "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2026-11-28&end=2027-01-31")
	if r.status != 200 || r.body != `{"bars":{},"next_page_token":null}` {
		t.Errorf("future range: %d %s", r.status, r.body)
	}
	r = get(t, ts, "/v2/stocks/AAPL/bars?timeframe=1Day&start=2026-11-28")
	if r.status != 200 || r.body != `{"bars":null,"symbol":"AAPL","next_page_token":null}` {
		t.Errorf("future range, single symbol: %d %s", r.status, r.body)
	}
	// Today's daily bar is in progress: its close is the price at 10:00.
	bars, err := sdk(ts).GetBars("AAPL", marketdata.GetBarsRequest{TimeFrame: marketdata.OneMin, Start: friday.Add(-time.Hour)})
	if err != nil || len(bars) != 60 {
		t.Fatalf("%d minute bars, %v", len(bars), err)
	}
	if last := bars[len(bars)-1].Timestamp; !last.Equal(friday.Add(-time.Minute)) {
		t.Errorf("last minute bar at %v, want %v", last, friday.Add(-time.Minute))
	}
}

func TestAuth(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{KeyID: testKey, SecretKey: testSecret})
	const p = "/v2/stocks/quotes/latest?symbols=AAPL"
	for name, h := range map[string]map[string]string{
		"missing":      {},
		"wrong secret": {"APCA-API-KEY-ID": testKey, "APCA-API-SECRET-KEY": "nope"},
		"wrong key":    {"APCA-API-KEY-ID": "nope", "APCA-API-SECRET-KEY": testSecret},
		"key only":     {"APCA-API-KEY-ID": testKey},
	} {
		r := do(t, ts, http.MethodGet, p, h)
		if r.status != 403 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "403 Forbidden") {
			t.Errorf("%s: %d %q %s", name, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	if r := get(t, ts, p); r.status != 200 {
		t.Errorf("right keys: %d", r.status)
	}
	_, err := marketdata.NewClient(marketdata.ClientOpts{BaseURL: ts.URL, APIKey: "x", APISecret: "y"}).
		GetLatestQuote("AAPL", marketdata.GetLatestQuoteRequest{})
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("SDK with bad keys: %v", err)
	}

	// Unconfigured keys accept any non-empty pair, and only that.
	_, open := newSim(t, alpacasim.Config{})
	if r := do(t, open, http.MethodGet, p, map[string]string{"APCA-API-KEY-ID": "a", "APCA-API-SECRET-KEY": "b"}); r.status != 200 {
		t.Errorf("any keys: %d", r.status)
	}
	if r := do(t, open, http.MethodGet, p, nil); r.status != 403 {
		t.Errorf("no keys: %d", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	clock := &movable{friday.Add(10 * time.Second)}
	_, ts := newSim(t, alpacasim.Config{RateLimitPerMinute: 5, Clock: clock})
	const p = "/v2/stocks/AAPL/quotes/latest"
	reset := strconv.FormatInt(friday.Add(time.Minute).Unix(), 10)
	for i := 1; i <= 7; i++ {
		r := get(t, ts, p)
		wantStatus, wantRemaining := 200, 5-i
		if i > 5 {
			wantStatus, wantRemaining = 429, 0
		}
		if r.status != wantStatus || r.header.Get("X-RateLimit-Limit") != "5" ||
			r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(wantRemaining) || r.header.Get("X-RateLimit-Reset") != reset {
			t.Errorf("request %d: %d limit %s remaining %s reset %s (want %d, %d, %s)", i, r.status,
				r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"), r.header.Get("X-RateLimit-Reset"),
				wantStatus, wantRemaining, reset)
		}
		if i > 5 && r.body != `{"code":42910000,"message":"rate limit exceeded"}` {
			t.Errorf("429 body %s", r.body)
		}
	}
	// Errors count too, and carry the headers.
	if r := get(t, ts, "/v2/stocks/bars?symbols=AAPL&timeframe=9Day"); r.status != 429 {
		t.Errorf("over budget bad request: %d", r.status)
	}
	clock.t = friday.Add(time.Minute)
	r := get(t, ts, "/v2/stocks/bars?symbols=AAPL&timeframe=9Day")
	if r.status != 400 || r.header.Get("X-RateLimit-Remaining") != "4" {
		t.Errorf("next window, bad request: %d remaining %s", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
	if r := get(t, ts, p); r.status != 200 {
		t.Errorf("next window: %d", r.status)
	}

	// Unlimited: never refused, and says so.
	_, free := newSim(t, alpacasim.Config{})
	for range 3 {
		if r := get(t, free, p); r.status != 200 || r.header.Get("X-RateLimit-Limit") != "2147483647" {
			t.Fatalf("unlimited: %d %s", r.status, r.header.Get("X-RateLimit-Limit"))
		}
	}
}

func TestErrorRate(t *testing.T) {
	statuses := func(seed int64) []int {
		_, ts := newSim(t, alpacasim.Config{ErrorRate: 0.2, Seed: seed})
		out := make([]int, 1000)
		for i := range out {
			r := get(t, ts, "/v2/stocks/quotes/latest?symbols=KO")
			out[i] = r.status
			if r.status == 500 && r.body != `{"code":50010000,"message":"internal server error"}` {
				t.Fatalf("500 body %s", r.body)
			}
		}
		return out
	}
	a, b := statuses(3), statuses(3)
	failed := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %d then %d with the same seed", i, a[i], b[i])
		}
		if a[i] == 500 {
			failed++
		} else if a[i] != 200 {
			t.Fatalf("request %d: status %d", i, a[i])
		}
	}
	if failed < 160 || failed > 240 {
		t.Errorf("%d of 1000 failed at an error rate of 0.2", failed)
	}
}

func TestStatsAndReset(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	for _, p := range requestPaths {
		get(t, ts, expand(s, p))
	}
	get(t, ts, "/v2/stocks/MSFT/quotes/latest")
	get(t, ts, "/v2/nope")
	get(t, ts, "/_sim/stats")
	r := get(t, ts, "/_sim/stats")
	var st alpacasim.Stats
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"/v2/stocks/{symbol}/quotes/latest":       2,
		"/v2/stocks/quotes/latest":                1,
		"/v2/stocks/{symbol}/bars":                1,
		"/v2/stocks/bars":                         1,
		"/v1beta1/options/quotes/latest":          1,
		"/v1beta1/options/snapshots":              1,
		"/v1beta1/options/snapshots/{underlying}": 1,
		"/v2/calendar":                            1,
		"unmatched":                               1,
	}
	if st.TotalRequests != 10 || len(st.ByPath) != len(want) {
		t.Errorf("stats %+v", st)
	}
	for k, v := range want {
		if st.ByPath[k] != v {
			t.Errorf("%s: %d, want %d", k, st.ByPath[k], v)
		}
	}
	if got := s.Stats(); got.TotalRequests != st.TotalRequests {
		t.Errorf("Stats() %+v, /_sim/stats %+v", got, st)
	}
	if r := do(t, ts, http.MethodGet, "/_sim/reset", nil); r.status != 405 {
		t.Errorf("GET /_sim/reset: %d", r.status)
	}
	if r := do(t, ts, http.MethodPost, "/_sim/reset", nil); r.status != 200 || r.body != `{"total_requests":0,"by_path":{}}` {
		t.Errorf("reset: %d %s", r.status, r.body)
	}
	if got := s.Stats(); got.TotalRequests != 0 || len(got.ByPath) != 0 {
		t.Errorf("after reset %+v", got)
	}
}

func TestRouting(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/v2/stocks/AAPL/level2", 404, `{"code":40410000,"message":"endpoint not found"}`},
		{"GET", "/v2/stocks//quotes/latest", 404, `{"code":40410000,"message":"endpoint not found"}`},
		{"GET", "/v1beta1/options/snapshots/SPY/extra", 404, `{"code":40410000,"message":"endpoint not found"}`},
		{"POST", "/v2/stocks/quotes/latest?symbols=AAPL", 405, `{"code":40510000,"message":"method not allowed"}`},
		{"GET", "/v2/stocks/ZZZZQ/quotes/latest", 404, `{"code":40410000,"message":"symbol not found: ZZZZQ"}`},
		{"GET", "/v2/stocks/aapl/quotes/latest", 404, `{"code":40410000,"message":"symbol not found: aapl"}`},
		{"GET", "/v2/stocks/ZZZZQ/bars?timeframe=1Day", 404, `{"code":40410000,"message":"symbol not found: ZZZZQ"}`},
		{"GET", "/v2/stocks/A$B/quotes/latest", 400, `{"code":42210000,"message":"invalid symbol: A$B"}`},
		{"GET", "/_sim/nope", 404, `{"code":40410000,"message":"endpoint not found"}`},
	} {
		r := do(t, ts, tc.method, tc.path, map[string]string{"APCA-API-KEY-ID": testKey, "APCA-API-SECRET-KEY": testSecret})
		if r.status != tc.status || r.body != tc.body {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, r.status, r.body, tc.status, tc.body)
		}
		if r.header.Get("X-Alpaca-Simulator") != "true" {
			t.Errorf("%s %s: no simulator header", tc.method, tc.path)
		}
	}
}

func TestValidation(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	opt := s.OptionSymbols("SPY")
	many := strings.Join(opt[:101], ",")
	for _, tc := range []struct{ path, message string }{
		{"/v2/stocks/bars?symbols=AAPL", "timeframe is required"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=0Min", "invalid timeframe"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=60Min", "invalid timeframe"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=24Hour", "invalid timeframe"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=2Day", "invalid timeframe"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=2Week", "invalid timeframe"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=5Month", "invalid timeframe"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=01Min", "invalid timeframe"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Sec", "invalid timeframe"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Min&limit=0", "invalid limit: must be between 1 and 10000"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Min&limit=10001", "invalid limit: must be between 1 and 10000"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Min&sort=up", "invalid sort: must be asc or desc"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=yesterday", "invalid start"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Min&end=2026-13-01", "invalid end"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2026-11-20&end=2026-11-19", "end should not be before start"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Min&adjustment=raw,magic", "invalid adjustment"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Min&feed=nasdaq", "invalid feed"},
		{"/v2/stocks/bars?symbols=AAPL&timeframe=1Min&page_token=%25%25", "invalid page_token"},
		{"/v2/stocks/bars?timeframe=1Min", "symbols is required"},
		{"/v2/stocks/quotes/latest?symbols=,,", "symbols is required"},
		{"/v2/stocks/quotes/latest?symbols=AAPL,B@D", "invalid symbol: B@D"},
		{"/v2/stocks/quotes/latest?symbols=AAPL&currency=EUR", "unsupported currency"},
		{"/v1beta1/options/quotes/latest?symbols=" + many, "too many symbols: the maximum is 100"},
		{"/v1beta1/options/snapshots?symbols=" + many, "too many symbols: the maximum is 100"},
		{"/v1beta1/options/quotes/latest?symbols=AAPL", "invalid symbol: AAPL"},
		{"/v1beta1/options/quotes/latest?symbols=SPY261127X00100000", "invalid symbol: SPY261127X00100000"},
		{"/v1beta1/options/quotes/latest?symbols=SPY261327C00100000", "invalid symbol: SPY261327C00100000"},
		{"/v1beta1/options/quotes/latest?symbols=" + opt[0] + "&feed=sip", "invalid feed"},
		{"/v1beta1/options/snapshots/SPY?limit=1001", "invalid limit: must be between 1 and 1000"},
		{"/v1beta1/options/snapshots/SPY?type=straddle", "invalid type: must be call or put"},
		{"/v1beta1/options/snapshots/SPY?strike_price_gte=cheap", "invalid strike_price_gte"},
		{"/v1beta1/options/snapshots/SPY?expiration_date=2026-02-30", "invalid expiration_date"},
		{"/v1beta1/options/snapshots/SPY?updated_since=now", "invalid updated_since"},
		{"/v2/calendar?start=2026-1-1", "invalid start"},
	} {
		r := get(t, ts, tc.path)
		want := `{"code":42210000,"message":"` + tc.message + `"}`
		if r.status != 400 || r.body != want {
			t.Errorf("%s: %d %s, want 400 %s", tc.path, r.status, r.body, want)
		}
		if r.header.Get("X-RateLimit-Limit") == "" || r.header.Get("X-RateLimit-Remaining") == "" || r.header.Get("X-RateLimit-Reset") == "" {
			t.Errorf("%s: 400 without rate-limit headers", tc.path)
		}
	}
	for _, tf := range []string{"1Min", "59T", "1Hour", "23H", "1Day", "1D", "1Week", "1W", "1Month", "2M", "3Month", "4M", "6Month", "12M"} {
		if r := get(t, ts, "/v2/stocks/bars?symbols=AAPL&start=2026-01-01&limit=1&timeframe="+tf); r.status != 200 {
			t.Errorf("timeframe %s: %d %s", tf, r.status, r.body)
		}
	}
}

func TestFaults(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	const p = "/v2/stocks/quotes/latest?symbols=AAPL"
	c := sdk(ts)

	s.SetFault(alpacasim.HTML500)
	if r := get(t, ts, p); r.status != 500 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<html>") {
		t.Errorf("HTML500: %d %s", r.status, r.body)
	}

	s.SetFault(alpacasim.TruncatedJSON)
	r := get(t, ts, p)
	if r.status != 200 || json.Valid([]byte(r.body)) || r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
		t.Errorf("TruncatedJSON: %d %q", r.status, r.body)
	}
	if _, err := c.GetLatestQuotes([]string{"AAPL"}, marketdata.GetLatestQuoteRequest{}); err == nil {
		t.Error("the SDK decoded a truncated body")
	}

	s.SetFault(alpacasim.RateLimitStorm)
	for range 3 {
		if r := get(t, ts, p); r.status != 429 || r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Reset") == "" {
			t.Errorf("RateLimitStorm: %d %v", r.status, r.header)
		}
	}

	s.SetFault(alpacasim.Unauthorized)
	if r := get(t, ts, p); r.status != 403 {
		t.Errorf("Unauthorized: %d", r.status)
	}

	s.SetFault(alpacasim.Hang)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+p, nil)
	req.Header.Set("APCA-API-KEY-ID", testKey)
	req.Header.Set("APCA-API-SECRET-KEY", testSecret)
	if resp, err := ts.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hang: %v %v", resp, err)
	}

	s.SetFault(alpacasim.None)
	s.SetLatency(time.Hour)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	req = req.Clone(ctx2)
	if resp, err := ts.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("latency: %v %v", resp, err)
	}
	s.SetLatency(0)

	s.SetErrorRate(1)
	if r := get(t, ts, p); r.status != 500 {
		t.Errorf("error rate 1: %d", r.status)
	}
	s.SetErrorRate(0)
	if r := get(t, ts, p); r.status != 200 {
		t.Errorf("after faults: %d %s", r.status, r.body)
	}
	// The control endpoints stay reachable whatever the fault.
	s.SetFault(alpacasim.Hang)
	if r := do(t, ts, http.MethodGet, "/_sim/stats", nil); r.status != 200 {
		t.Errorf("stats during Hang: %d", r.status)
	}
}

func TestFaultSwitchesOverHTTP(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/_sim/fault?name=html500", 204},
		{"/_sim/fault?name=volcano", 400},
		{"/_sim/latency?d=1ms", 204},
		{"/_sim/latency?d=soon", 400},
		{"/_sim/error-rate?rate=0.5", 204},
		{"/_sim/error-rate?rate=2", 400},
		{"/_sim/rate-limit?per_minute=3", 204},
		{"/_sim/vanish?symbol=KO", 204},
		{"/_sim/vanish", 400},
	} {
		if r := do(t, ts, http.MethodPost, tc.path, nil); r.status != tc.status {
			t.Errorf("%s: %d, want %d", tc.path, r.status, tc.status)
		}
	}
	if r := get(t, ts, "/v2/stocks/KO/quotes/latest"); r.status != 500 || !strings.Contains(r.body, "<html>") {
		t.Errorf("after /_sim/fault?name=html500: %d", r.status)
	}
	do(t, ts, http.MethodPost, "/_sim/fault?name=none", nil)
	do(t, ts, http.MethodPost, "/_sim/error-rate?rate=0", nil)
	if r := get(t, ts, "/v2/stocks/KO/quotes/latest"); r.status != 404 {
		t.Errorf("vanished over HTTP: %d", r.status)
	}
	if r := get(t, ts, "/v2/stocks/PEP/quotes/latest"); r.header.Get("X-RateLimit-Limit") != "3" {
		t.Errorf("rate limit over HTTP: %v", r.header)
	}
	for _, f := range []alpacasim.Fault{alpacasim.None, alpacasim.Hang, alpacasim.HTML500, alpacasim.TruncatedJSON, alpacasim.RateLimitStorm, alpacasim.Unauthorized} {
		if g, ok := alpacasim.ParseFault(f.String()); !ok || g != f {
			t.Errorf("ParseFault(%q) = %v, %v", f.String(), g, ok)
		}
	}
	_ = s
}

func TestVanish(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	occ := s.OptionSymbols("TSLA")[5]
	spy := s.OptionSymbols("SPY")[5]
	s.Vanish("MSFT")
	s.Vanish("TSLA")
	s.Vanish(spy)

	if r := get(t, ts, "/v2/stocks/MSFT/quotes/latest"); r.status != 404 {
		t.Errorf("vanished single quote: %d", r.status)
	}
	qs, err := c.GetLatestQuotes([]string{"AAPL", "MSFT"}, marketdata.GetLatestQuoteRequest{})
	if err != nil || len(qs) != 1 || qs["AAPL"].AskPrice == 0 {
		t.Errorf("quotes after vanish: %v %v", qs, err)
	}
	bars, err := c.GetMultiBars([]string{"AAPL", "MSFT"}, marketdata.GetBarsRequest{TimeFrame: marketdata.OneDay, Start: friday.AddDate(0, 0, -10)})
	if err != nil || len(bars) != 1 || len(bars["AAPL"]) == 0 {
		t.Errorf("bars after vanish: %d symbols, %v", len(bars), err)
	}
	chain, err := c.GetOptionChain("TSLA", marketdata.GetOptionChainRequest{})
	if err != nil || len(chain) != 0 {
		t.Errorf("vanished underlying's chain: %d contracts, %v", len(chain), err)
	}
	oq, err := c.GetLatestOptionQuotes([]string{occ, spy, s.OptionSymbols("SPY")[6]}, marketdata.GetLatestOptionQuoteRequest{})
	if err != nil || len(oq) != 1 {
		t.Errorf("option quotes after vanish: %v %v", oq, err)
	}
	spyChain, err := c.GetOptionChain("SPY", marketdata.GetOptionChainRequest{})
	if _, ok := spyChain[spy]; err != nil || ok || len(spyChain) != len(s.OptionSymbols("SPY")) {
		t.Errorf("vanished contract in the chain: %v, %d contracts", err, len(spyChain))
	}
	if s.OptionSymbols("TSLA") != nil {
		t.Error("OptionSymbols lists a vanished underlying")
	}
}

func TestCalendar(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	// The SDK's trading client decodes it.
	sdkDays, err := alpaca.NewClient(alpaca.ClientOpts{BaseURL: ts.URL, APIKey: testKey, APISecret: testSecret}).
		GetCalendar(alpaca.GetCalendarRequest{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, ts, "/v2/calendar?start=2026-01-01&end=2026-12-31")
	var days []calendarDay
	if err := json.Unmarshal([]byte(r.body), &days); err != nil {
		t.Fatal(r.status, err)
	}
	if len(sdkDays) != len(days) || sdkDays[0].Date != "2026-01-02" || sdkDays[0].Open != "09:30" {
		t.Errorf("SDK decoded %d days, first %+v", len(sdkDays), sdkDays[0])
	}
	cal := market.Default()
	want := 0
	for d := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if cal.Day(d.Year(), d.Month(), d.Day()).Trading {
			want++
		}
	}
	if len(days) != want || want < 250 {
		t.Fatalf("%d calendar days, want %d", len(days), want)
	}
	byDate := map[string]calendarDay{}
	for _, d := range days {
		byDate[d.Date] = d
		dt, err := time.Parse(time.DateOnly, d.Date)
		if err != nil {
			t.Fatal(err)
		}
		h := cal.Day(dt.Year(), dt.Month(), dt.Day())
		if !h.Trading || d.Open != h.Open.Format("15:04") || d.Close != h.Close.Format("15:04") ||
			d.SessionOpen != h.PreOpen.Format("1504") || d.SessionClose != h.AfterClose.Format("1504") {
			t.Errorf("%+v disagrees with %+v", d, h)
		}
	}
	if _, ok := byDate["2026-11-26"]; ok {
		t.Error("Thanksgiving listed")
	}
	for date, want := range map[string]calendarDay{
		"2026-11-27": {Date: "2026-11-27", Open: "09:30", Close: "13:00", SessionOpen: "0400", SessionClose: "1700", SettlementDate: "2026-11-30"},
		"2026-11-25": {Date: "2026-11-25", Open: "09:30", Close: "16:00", SessionOpen: "0400", SessionClose: "2000", SettlementDate: "2026-11-27"},
		"2026-10-09": {Date: "2026-10-09", Open: "09:30", Close: "16:00", SessionOpen: "0400", SessionClose: "2000", SettlementDate: "2026-10-13"},
		"2026-04-02": {Date: "2026-04-02", Open: "09:30", Close: "16:00", SessionOpen: "0400", SessionClose: "2000", SettlementDate: "2026-04-06"},
	} {
		if byDate[date] != want {
			t.Errorf("%s: %+v, want %+v", date, byDate[date], want)
		}
	}
	// The settlement cycle before T+1.
	r = get(t, ts, "/v2/calendar?start=2024-05-22&end=2024-05-22")
	if r.body != `[{"date":"2024-05-22","open":"09:30","close":"16:00","session_open":"0400","session_close":"2000","settlement_date":"2024-05-24"}]` {
		t.Errorf("T+2 era: %s", r.body)
	}
}

// calendarDay is Alpaca's calendar entry (the SDK's CalendarDay has only
// date, open and close).
type calendarDay struct {
	Date           string `json:"date"`
	Open           string `json:"open"`
	Close          string `json:"close"`
	SessionOpen    string `json:"session_open"`
	SessionClose   string `json:"session_close"`
	SettlementDate string `json:"settlement_date"`
}

// NewTestServer's cleanup cuts a request held by Hang instead of waiting for
// the hang cap, and the client sees the connection end, not an answer.
func TestTestServerCleanupCutsHangs(t *testing.T) {
	result := make(chan error, 1)
	t.Run("server", func(t *testing.T) {
		s, ts := newSim(t, alpacasim.Config{})
		s.SetFault(alpacasim.Hang)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v2/stocks/AAPL/quotes/latest", nil)
			req.Header.Set("APCA-API-KEY-ID", testKey)
			req.Header.Set("APCA-API-SECRET-KEY", testSecret)
			resp, err := ts.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				err = errors.New("answered with " + resp.Status)
			} else {
				err = nil
			}
			result <- err
		}()
		for s.Stats().TotalRequests == 0 {
			time.Sleep(time.Millisecond)
		}
	})
	if err := <-result; err != nil {
		t.Error(err)
	}
}

// Every switch may be flipped while requests are in flight.
func TestConcurrentUse(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	opt := s.OptionSymbols("QQQ")[100]
	paths := []string{
		"/v2/stocks/quotes/latest?symbols=AAPL,MSFT,KO",
		"/v2/stocks/KO/bars?timeframe=1Hour&start=2026-11-20",
		"/v1beta1/options/snapshots?symbols=" + opt,
		"/v1beta1/options/snapshots/QQQ?limit=5",
		"/v2/calendar?start=2026-11-01&end=2026-11-30",
	}
	done := make(chan struct{})
	errs := make(chan error, 4*60)
	for w := range 4 {
		go func() {
			for i := range 60 {
				r, err := try(ts, http.MethodGet, paths[(w+i)%len(paths)],
					map[string]string{"APCA-API-KEY-ID": testKey, "APCA-API-SECRET-KEY": testSecret})
				switch {
				case err != nil:
					errs <- err
				case r.status != 200 && r.status != 404 && r.status != 429 && r.status != 500:
					errs <- errors.New(r.body)
				}
			}
			done <- struct{}{}
		}()
	}
	go func() {
		for i := range 200 {
			s.SetLatency(time.Duration(i%2) * time.Microsecond)
			s.SetErrorRate(float64(i%3) / 10)
			s.SetFault([]alpacasim.Fault{alpacasim.None, alpacasim.TruncatedJSON, alpacasim.RateLimitStorm}[i%3])
			s.SetRateLimit(i % 5 * 100)
			if i%50 == 0 {
				s.Vanish("SYM" + strconv.Itoa(i))
				s.Reset()
			}
			_ = s.Stats()
		}
		done <- struct{}{}
	}()
	for range 5 {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
