package alpaca

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLatestStockQuoteRequestAndRawBytes(t *testing.T) {
	// Odd spacing and number forms prove the quote is not re-encoded.
	const quote = `{"t":"2024-04-26T15:59:59.123456789Z", "ax":"V","ap": 169.30 ,"as":3,"bx":"V","bp":1.50e2,"bs":1,"c":["R"],"z":"C"}`
	var got *http.Request
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(r.Context())
		respond(200, `{"symbol":"AAPL","quote":`+quote+`}`)(w, r)
	})
	raw, src, err := e.c.LatestStockQuote(e.ctx(t, time.Second), "AAPL", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != quote {
		t.Errorf("raw quote\n got %s\nwant %s", raw, quote)
	}
	if src != "alpaca/iex" {
		t.Errorf("source %q, want alpaca/iex", src)
	}
	if got.URL.Path != "/v2/stocks/AAPL/quotes/latest" || got.URL.RawQuery != "feed=iex" {
		t.Errorf("request %s?%s", got.URL.Path, got.URL.RawQuery)
	}
	for h, want := range map[string]string{
		"APCA-API-KEY-ID":     testKeyID,
		"APCA-API-SECRET-KEY": testSecret,
		"User-Agent":          "opitios-alpaca",
		"Accept":              "application/json",
	} {
		if v := got.Header.Get(h); v != want {
			t.Errorf("header %s = %q, want %q", h, v, want)
		}
	}
}

func TestLatestStockQuoteFeedEscapingSimulatorAndNull(t *testing.T) {
	var uri string
	e := newEnv(t, script(
		func(w http.ResponseWriter, r *http.Request) {
			uri = r.RequestURI
			respond(200, `{"symbol":"BRK/B","quote":{"ap":1}}`, SimulatorHeader, "true")(w, r)
		},
		respond(200, `{"symbol":"ZZZZ","quote":null}`),
	))
	raw, src, err := e.c.LatestStockQuote(e.ctx(t, time.Second), "BRK/B", "sip")
	if err != nil {
		t.Fatal(err)
	}
	if uri != "/v2/stocks/BRK%2FB/quotes/latest?feed=sip" {
		t.Errorf("request URI %q", uri)
	}
	if string(raw) != `{"ap":1}` || src != SourceSimulator {
		t.Errorf("got %s from %q", raw, src)
	}
	_, _, err = e.c.LatestStockQuote(e.ctx(t, time.Second), "ZZZZ", "")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("null quote: %v, want ErrNotFound", err)
	}
	if n := e.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (a null quote is not retried)", n)
	}
}

func TestLatestStockQuotesSplitsBytesAndReportsMissing(t *testing.T) {
	values := map[string]string{
		"AAPL":  `{"ap":169.3,"bp":169.28 , "c":["R"]}`,
		"MSFT":  `{ "ap" : 4.0e2 }`,
		"BRK.B": `{"ap":0,"bp":0}`,
	}
	body := `{"quotes":{"AAPL":` + values["AAPL"] + `,"MSFT":` + values["MSFT"] +
		`,"NULLY":null,"BRK.B":` + values["BRK.B"] + `},"next_page_token":null}`
	var query url.Values
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/stocks/quotes/latest" {
			t.Errorf("path %s", r.URL.Path)
		}
		query = r.URL.Query()
		respond(200, body)(w, r)
	})
	m, err := e.c.LatestStockQuotes(e.ctx(t, time.Second), []string{"AAPL", "GONE", "MSFT", "AAPL", "NULLY", "BRK.B"}, "sip")
	if err != nil {
		t.Fatal(err)
	}
	if query.Get("symbols") != "AAPL,GONE,MSFT,NULLY,BRK.B" || query.Get("feed") != "sip" {
		t.Errorf("query %v", query)
	}
	if len(m.Values) != len(values) {
		t.Errorf("%d values, want %d: %v", len(m.Values), len(values), m.Values)
	}
	for sym, want := range values {
		if got := string(m.Values[sym]); got != want {
			t.Errorf("%s\n got %s\nwant %s", sym, got, want)
		}
	}
	if !slices.Equal(m.Missing, []string{"GONE", "NULLY"}) {
		t.Errorf("missing %v, want [GONE NULLY]", m.Missing)
	}
	if m.Source != "alpaca/sip" {
		t.Errorf("source %q", m.Source)
	}
}

func TestLatestStockQuotesEmptyMakesNoRequest(t *testing.T) {
	e := newEnv(t, respond(500, ""))
	m, err := e.c.LatestStockQuotes(e.ctx(t, time.Second), nil, "")
	if err != nil || len(m.Values) != 0 || m.Source != "alpaca/iex" {
		t.Fatalf("got %+v, %v", m, err)
	}
	if e.requests.Load() != 0 || e.lim.calls.Load() != 0 {
		t.Errorf("an empty list reached the origin")
	}
}

// quoteEcho answers a multi-symbol request with one quote per requested
// symbol, whose value names the symbol, and records each request.
type quoteEcho struct {
	mu       sync.Mutex
	requests []url.Values
	rawQuery []string
	inflight int
	maxIn    int
	barrier  int // hold each request until this many are in flight (or 200ms)
}

func (q *quoteEcho) handler(key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q.mu.Lock()
		q.requests = append(q.requests, r.URL.Query())
		q.rawQuery = append(q.rawQuery, r.URL.RawQuery)
		q.inflight++
		q.maxIn = max(q.maxIn, q.inflight)
		q.mu.Unlock()
		deadline := time.Now().Add(200 * time.Millisecond)
		for q.barrier > 0 && time.Now().Before(deadline) {
			q.mu.Lock()
			n := q.inflight
			q.mu.Unlock()
			if n >= q.barrier {
				break
			}
			time.Sleep(time.Millisecond)
		}
		var b strings.Builder
		b.WriteString(`{"` + key + `":{`)
		for i, s := range strings.Split(r.URL.Query().Get("symbols"), ",") {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:{\"sym\":%q}", s, s)
		}
		b.WriteString(`}}`)
		q.mu.Lock()
		q.inflight--
		q.mu.Unlock()
		respond(200, b.String())(w, r)
	}
}

func TestLatestStockQuotesChunksByURLLength(t *testing.T) {
	syms := make([]string, 250)
	for i := range syms {
		syms[i] = fmt.Sprintf("S%0*d", 1+i%7, i) // lengths vary from 4 to 8
	}
	syms[17] = "BRK/B" // escaped to BRK%2FB
	echo := &quoteEcho{barrier: 3}
	const maxLen = 300
	e := newEnv(t, echo.handler("quotes"), func(c *Config) {
		c.MaxStockURLSymbolsLen = maxLen
		c.MaxConcurrency = 3
	})
	m, err := e.c.LatestStockQuotes(e.ctx(t, 5*time.Second), syms, "")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for i, raw := range echo.rawQuery {
		joined := strings.TrimPrefix(strings.Split(raw, "&")[0], "symbols=")
		if len(joined) > maxLen {
			t.Errorf("request %d: symbol list of %d chars > %d", i, len(joined), maxLen)
		}
		if i < len(echo.rawQuery)-1 && len(joined) < maxLen-10 {
			t.Errorf("request %d: only %d chars; chunks should be filled", i, len(joined))
		}
		seen = append(seen, strings.Split(echo.requests[i].Get("symbols"), ",")...)
	}
	if len(echo.requests) < 2 {
		t.Fatalf("%d requests: no chunking", len(echo.requests))
	}
	sort.Strings(seen)
	want := slices.Clone(syms)
	sort.Strings(want)
	if !slices.Equal(seen, want) {
		t.Errorf("requested symbols differ from the 250 asked (%d seen)", len(seen))
	}
	if len(m.Values) != 250 || len(m.Missing) != 0 {
		t.Errorf("%d values, missing %v", len(m.Values), m.Missing)
	}
	for _, s := range syms {
		if want := fmt.Sprintf("{\"sym\":%q}", s); string(m.Values[s]) != want {
			t.Errorf("%s: %s, want %s", s, m.Values[s], want)
		}
	}
	if echo.maxIn != 3 {
		t.Errorf("max %d chunks in flight, want exactly MaxConcurrency=3", echo.maxIn)
	}
	if got := e.lim.calls.Load(); got != int64(len(echo.requests)) {
		t.Errorf("limiter called %d times for %d requests", got, len(echo.requests))
	}
}

func TestChunkByLen(t *testing.T) {
	tests := []struct {
		syms   []string
		maxLen int
		want   [][]string
	}{
		{[]string{"AA", "BB", "CC"}, 5, [][]string{{"AA", "BB"}, {"CC"}}},
		{[]string{"AA", "BB", "CC"}, 8, [][]string{{"AA", "BB", "CC"}}},
		{[]string{"TOOLONG", "A"}, 3, [][]string{{"TOOLONG"}, {"A"}}},
		{[]string{"A/B", "C"}, 6, [][]string{{"A/B"}, {"C"}}}, // A%2FB is 5
		{nil, 10, nil},
	}
	for _, tt := range tests {
		if got := chunkByLen(tt.syms, tt.maxLen); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("chunkByLen(%v, %d) = %v, want %v", tt.syms, tt.maxLen, got, tt.want)
		}
	}
}

func TestOptionQuotesChunksOf100(t *testing.T) {
	syms := make([]string, 230)
	for i := range syms {
		syms[i] = fmt.Sprintf("AAPL2406%02dC%08d", 1+i%28, 100000+i*500)
	}
	echo := &quoteEcho{}
	var paths []string
	var mu sync.Mutex
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path+" feed="+r.URL.Query().Get("feed"))
		mu.Unlock()
		echo.handler("quotes")(w, r)
	})
	m, err := e.c.LatestOptionQuotes(e.ctx(t, 5*time.Second), syms, "")
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, q := range echo.requests {
		sizes = append(sizes, len(strings.Split(q.Get("symbols"), ",")))
	}
	sort.Ints(sizes)
	if !slices.Equal(sizes, []int{30, 100, 100}) {
		t.Errorf("chunk sizes %v, want [30 100 100]", sizes)
	}
	for _, p := range paths {
		if p != "/v1beta1/options/quotes/latest feed=indicative" {
			t.Errorf("request %s", p)
		}
	}
	if len(m.Values) != 230 || m.Source != "alpaca/indicative" {
		t.Errorf("%d values from %q", len(m.Values), m.Source)
	}
}

func TestOptionSnapshotsFollowsPagesPerChunk(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1beta1/options/snapshots" || r.URL.Query().Get("feed") != "opra" {
			t.Errorf("request %s", r.URL)
		}
		switch r.URL.Query().Get("page_token") {
		case "":
			respond(200, `{"snapshots":{"A240621C00100000":{"latestQuote":{"ap":1.5}}},"next_page_token":"p2"}`)(w, r)
		case "p2":
			respond(200, `{"snapshots":{"A240621P00100000":{"greeks":{"delta":-0.4}}},"next_page_token":null}`)(w, r)
		}
	})
	m, err := e.c.OptionSnapshots(e.ctx(t, time.Second), []string{"A240621C00100000", "A240621P00100000", "A240621C00999000"}, "opra")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Values["A240621C00100000"]) != `{"latestQuote":{"ap":1.5}}` ||
		string(m.Values["A240621P00100000"]) != `{"greeks":{"delta":-0.4}}` {
		t.Errorf("values %v", m.Values)
	}
	if !slices.Equal(m.Missing, []string{"A240621C00999000"}) || m.Source != "alpaca/opra" {
		t.Errorf("missing %v source %q", m.Missing, m.Source)
	}
}

func TestStockBarsSingleSymbolSplicesThreePages(t *testing.T) {
	pages := map[string]string{
		"":     `{"bars":[{"t":"2024-04-01T04:00:00Z","o":1.5,"c":2},{"t":"2024-04-02T04:00:00Z","o":2 ,"c":3}],"symbol":"AAPL","next_page_token":"tok2"}`,
		"tok2": `{"bars":[ {"t":"2024-04-03T04:00:00Z","o":3,"c":4} ],"symbol":"AAPL","next_page_token":"tok3"}`,
		"tok3": `{"bars":[{"t":"2024-04-04T04:00:00Z","o":4,"c":5}],"symbol":"AAPL","next_page_token":null}`,
	}
	var queries []url.Values
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/stocks/AAPL/bars" {
			t.Errorf("path %s", r.URL.Path)
		}
		queries = append(queries, r.URL.Query())
		respond(200, pages[r.URL.Query().Get("page_token")])(w, r)
	})
	p := BarParams{Timeframe: "1Day", Start: "2024-04-01", End: "2024-04-30", Limit: 2, Adjustment: "split", Sort: "asc", Currency: "USD", Asof: "2024-04-01"}
	b, err := e.c.StockBars(e.ctx(t, time.Second), []string{"AAPL"}, p, true)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"t":"2024-04-01T04:00:00Z","o":1.5,"c":2},{"t":"2024-04-02T04:00:00Z","o":2 ,"c":3},{"t":"2024-04-03T04:00:00Z","o":3,"c":4},{"t":"2024-04-04T04:00:00Z","o":4,"c":5}]`
	if got := string(b.Bars["AAPL"]); got != want {
		t.Errorf("spliced\n got %s\nwant %s", got, want)
	}
	if !json.Valid(b.Bars["AAPL"]) || b.NextPageToken != "" || b.Source != "alpaca/iex" || len(b.Missing) != 0 {
		t.Errorf("bars %+v", b)
	}
	if len(queries) != 3 {
		t.Fatalf("%d requests, want 3", len(queries))
	}
	wantQ := url.Values{"timeframe": {"1Day"}, "start": {"2024-04-01"}, "end": {"2024-04-30"}, "limit": {"2"},
		"adjustment": {"split"}, "sort": {"asc"}, "currency": {"USD"}, "asof": {"2024-04-01"}, "feed": {"iex"}}
	if !reflect.DeepEqual(queries[0], wantQ) {
		t.Errorf("first query %v\nwant %v", queries[0], wantQ)
	}
	if queries[2].Get("page_token") != "tok3" {
		t.Errorf("third query %v", queries[2])
	}
}

func TestStockBarsOnePageReturnsToken(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page_token") != "tok2" {
			t.Errorf("page_token %q", r.URL.Query().Get("page_token"))
		}
		respond(200, `{"bars":[{"o":1}],"symbol":"AAPL","next_page_token":"tok3"}`)(w, r)
	})
	b, err := e.c.StockBars(e.ctx(t, time.Second), []string{"AAPL"}, BarParams{Timeframe: "1Min", PageToken: "tok2"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if string(b.Bars["AAPL"]) != `[{"o":1}]` || b.NextPageToken != "tok3" || e.requests.Load() != 1 {
		t.Errorf("bars %+v after %d requests", b, e.requests.Load())
	}
}

func TestStockBarsNullIsMissing(t *testing.T) {
	e := newEnv(t, respond(200, `{"bars":null,"symbol":"AAPL","next_page_token":null}`))
	b, err := e.c.StockBars(e.ctx(t, time.Second), []string{"AAPL"}, BarParams{Timeframe: "1Day"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Bars) != 0 || !slices.Equal(b.Missing, []string{"AAPL"}) {
		t.Errorf("bars %+v", b)
	}
}

func TestStockBarsMultiSymbolSplicesAcrossPages(t *testing.T) {
	pages := map[string]string{
		"":   `{"bars":{"AAPL":[{"c":1},{"c":2}]},"next_page_token":"p2"}`,
		"p2": `{"bars":{"AAPL":[{"c":3}],"MSFT":[{"c":10}]},"next_page_token":"p3"}`,
		"p3": `{"bars":{"MSFT":[{"c":11}],"EMPTY":[]},"next_page_token":null}`,
	}
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/v2/stocks/bars" || q.Get("symbols") != "AAPL,MSFT,EMPTY,NONE" || q.Get("timeframe") != "1Hour" {
			t.Errorf("request %s", r.URL)
		}
		respond(200, pages[q.Get("page_token")])(w, r)
	})
	b, err := e.c.StockBars(e.ctx(t, time.Second), []string{"AAPL", "MSFT", "EMPTY", "NONE"}, BarParams{Timeframe: "1Hour"}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"AAPL": `[{"c":1},{"c":2},{"c":3}]`, "MSFT": `[{"c":10},{"c":11}]`, "EMPTY": `[]`}
	for s, w := range want {
		if got := string(b.Bars[s]); got != w || !json.Valid(b.Bars[s]) {
			t.Errorf("%s: %s, want %s", s, got, w)
		}
	}
	if len(b.Bars) != 3 || !slices.Equal(b.Missing, []string{"NONE"}) || e.requests.Load() != 3 {
		t.Errorf("bars %v missing %v after %d requests", b.Bars, b.Missing, e.requests.Load())
	}
}

func TestStockBarsSinglePageRefusesChunking(t *testing.T) {
	e := newEnv(t, respond(200, `{"bars":{}}`), func(c *Config) { c.MaxStockURLSymbolsLen = 6 })
	_, err := e.c.StockBars(e.ctx(t, time.Second), []string{"AAAA", "BBBB"}, BarParams{Timeframe: "1Day"}, false)
	if !errors.Is(err, ErrInvalidRequest) || e.requests.Load() != 0 {
		t.Errorf("err %v after %d requests, want ErrInvalidRequest and none", err, e.requests.Load())
	}
}

func TestPaginationStopsWhenTheTokenRepeats(t *testing.T) {
	e := newEnv(t, respond(200, `{"snapshots":{},"next_page_token":"same"}`))
	_, err := e.c.OptionChain(e.ctx(t, time.Second), "AAPL", ChainParams{PageToken: "same"}, true)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(asError(t, err).Cause, errPageLoop) || e.requests.Load() != 1 {
		t.Errorf("err %v after %d requests", err, e.requests.Load())
	}
}

func TestOptionChainThreePagesAndFilters(t *testing.T) {
	pages := map[string]string{
		"":  `{"snapshots":{"AAPL240621C00150000":{"impliedVolatility":0.25},"AAPL240621P00150000":{"impliedVolatility":0.3}},"next_page_token":"b"}`,
		"b": `{"snapshots":{"AAPL240621C00155000":{"greeks":{"delta":0.41,"gamma":0.02}}},"next_page_token":"c"}`,
		"c": `{"snapshots":{"AAPL240621P00155000":{"latestQuote":{"ap":3.1,"bp":3}}},"next_page_token":null}`,
	}
	var first url.Values
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/v1beta1/options/snapshots/AAPL" {
			t.Errorf("path %s", r.URL.Path)
		}
		if q.Get("page_token") == "" {
			first = q
		}
		respond(200, pages[q.Get("page_token")])(w, r)
	})
	p := ChainParams{Type: "call", StrikeGTE: "100", StrikeLTE: "200", Expiration: "2024-06-21", ExpirationGTE: "2024-06-01",
		ExpirationLTE: "2024-07-01", RootSymbol: "AAPL", UpdatedSince: "2024-06-01T00:00:00Z", Limit: 2}
	ch, err := e.c.OptionChain(e.ctx(t, time.Second), "AAPL", p, true)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"type": {"call"}, "strike_price_gte": {"100"}, "strike_price_lte": {"200"}, "expiration_date": {"2024-06-21"},
		"expiration_date_gte": {"2024-06-01"}, "expiration_date_lte": {"2024-07-01"}, "root_symbol": {"AAPL"},
		"updated_since": {"2024-06-01T00:00:00Z"}, "limit": {"2"}, "feed": {"indicative"}}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("query %v\nwant %v", first, want)
	}
	if len(ch.Snapshots) != 4 || string(ch.Snapshots["AAPL240621C00155000"]) != `{"greeks":{"delta":0.41,"gamma":0.02}}` ||
		ch.NextPageToken != "" || ch.Source != "alpaca/indicative" {
		t.Errorf("chain %+v", ch)
	}
	one, err := e.c.OptionChain(e.ctx(t, time.Second), "AAPL", ChainParams{PageToken: "b"}, false)
	if err != nil || len(one.Snapshots) != 1 || one.NextPageToken != "c" {
		t.Errorf("one page: %+v, %v", one, err)
	}
}

func TestCalendarUsesTradingHost(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/trading/v2/calendar" || r.URL.RawQuery != "end=2024-11-29&start=2024-11-27" {
			t.Errorf("request %s", r.URL)
		}
		respond(200, `[{"date":"2024-11-27","open":"09:30","close":"16:00","session_open":"0400","session_close":"2000","settlement_date":"2024-11-29"},
			{"date":"2024-11-29","open":"09:30","close":"13:00","session_open":"0400","session_close":"1700","settlement_date":"2024-12-02"}]`)(w, r)
	})
	days, err := e.c.Calendar(e.ctx(t, time.Second), "2024-11-27", "2024-11-29")
	if err != nil {
		t.Fatal(err)
	}
	want := []CalendarDay{
		{Date: "2024-11-27", Open: "09:30", Close: "16:00", SessionOpen: "0400", SessionClose: "2000", SettlementDate: "2024-11-29"},
		{Date: "2024-11-29", Open: "09:30", Close: "13:00", SessionOpen: "0400", SessionClose: "1700", SettlementDate: "2024-12-02"},
	}
	if !reflect.DeepEqual(days, want) {
		t.Errorf("days %+v", days)
	}
}

func TestChunkFailureKeepsTheRest(t *testing.T) {
	syms := make([]string, 250)
	for i := range syms {
		syms[i] = fmt.Sprintf("O%03dC", i)
	}
	echo := &quoteEcho{}
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Query().Get("symbols"), "O150C") {
			respond(400, `{"code":40010001,"message":"invalid symbol"}`)(w, r)
			return
		}
		echo.handler("quotes")(w, r)
	})
	m, err := e.c.LatestOptionQuotes(e.ctx(t, time.Second), syms, "")
	var ce *ChunkError
	if !errors.As(err, &ce) {
		t.Fatalf("err %v, want *ChunkError", err)
	}
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("errors.Is(ChunkError, ErrInvalidRequest) false: %v", err)
	}
	if !slices.Equal(ce.Failed, syms[100:200]) {
		t.Errorf("failed %d symbols, want the second chunk", len(ce.Failed))
	}
	if len(m.Values) != 150 || m.Values["O000C"] == nil || m.Values["O249C"] == nil || m.Values["O150C"] != nil || len(m.Missing) != 0 {
		t.Errorf("%d values, missing %v", len(m.Values), m.Missing)
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	c := New(Config{})
	if c.cfg.HTTPClient != DefaultHTTPClient() || New(Config{}).cfg.HTTPClient != c.cfg.HTTPClient {
		t.Fatal("clients do not share the process-wide HTTP client")
	}
	tr := DefaultHTTPClient().Transport.(*http.Transport)
	if tr.TLSHandshakeTimeout != 3*time.Second || tr.ResponseHeaderTimeout != 5*time.Second ||
		tr.IdleConnTimeout != 90*time.Second || tr.MaxIdleConnsPerHost != 64 || !tr.ForceAttemptHTTP2 {
		t.Errorf("transport %+v", tr)
	}
	if DefaultHTTPClient().CheckRedirect(nil, nil) != http.ErrUseLastResponse {
		t.Error("the default client follows redirects, which would forward the credentials")
	}
	if c.baseURL != DefaultBaseURL || c.tradingURL != DefaultTradingURL || c.cfg.StockFeed != "iex" ||
		c.cfg.OptionFeed != "indicative" || c.maxRetries != 3 || c.cfg.MaxConcurrency != 4 || c.cfg.MaxStockURLSymbolsLen != 1500 {
		t.Errorf("defaults %+v", c.cfg)
	}
	if New(Config{MaxRetries: -1}).maxRetries != 0 {
		t.Error("MaxRetries -1 should mean no retry")
	}
}

func TestSpliceArrays(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{[]string{`[1, 2]`}, `[1, 2]`},
		{[]string{`[1,2]`, `[3]`}, `[1,2,3]`},
		{[]string{`[]`, `[ {"a":[1]} ]`, `[ ]`, ` [4] `}, `[{"a":[1]},4]`},
		{[]string{`[]`, `[]`}, `[]`},
	}
	for _, tt := range tests {
		parts := make([]json.RawMessage, len(tt.parts))
		for i, p := range tt.parts {
			parts[i] = json.RawMessage(p)
		}
		got := spliceArrays(parts)
		if string(got) != tt.want || !json.Valid(got) {
			t.Errorf("spliceArrays(%q) = %s, want %s", tt.parts, got, tt.want)
		}
	}
}

func TestSimulatorAnswersSaySo(t *testing.T) {
	sim := func(body string) http.HandlerFunc { return respond(200, body, SimulatorHeader, "true") }
	e := newEnv(t, script(
		sim(`{"quotes":{"AAPL":{"ap":1}}}`),
		sim(`{"bars":{"AAPL":[{"c":1}]},"next_page_token":null}`),
		sim(`{"snapshots":{"A240621C00100000":{}},"next_page_token":null}`),
	))
	m, err := e.c.LatestStockQuotes(e.ctx(t, time.Second), []string{"AAPL"}, "")
	if err != nil || m.Source != SourceSimulator {
		t.Errorf("quotes from %q, %v", m.Source, err)
	}
	b, err := e.c.StockBars(e.ctx(t, time.Second), []string{"AAPL", "MSFT"}, BarParams{Timeframe: "1Day"}, true)
	if err != nil || b.Source != SourceSimulator {
		t.Errorf("bars from %q, %v", b.Source, err)
	}
	ch, err := e.c.OptionChain(e.ctx(t, time.Second), "A", ChainParams{}, true)
	if err != nil || ch.Source != SourceSimulator {
		t.Errorf("chain from %q, %v", ch.Source, err)
	}
}
