package alpaca

import (
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

func TestLatestStockQuotesSplitsBytesAndReportsMissing(t *testing.T) {
	values := map[string]string{
		"AAPL":  `{"ap":169.3,"bp":169.28 , "c":["R"]}`,
		"MSFT":  `{ "ap" : 4.0e2 }`,
		"BRK.B": `{"ap":0,"bp":0}`,
	}
	body := `{"quotes":{"AAPL":` + values["AAPL"] + `,"MSFT":` + values["MSFT"] +
		`,"NULLY":null,"BRK.B":` + values["BRK.B"] + `},"next_page_token":null}`
	var query url.Values
	var rawQuery string
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/stocks/quotes/latest" {
			t.Errorf("path %s", r.URL.Path)
		}
		query, rawQuery = r.URL.Query(), r.URL.RawQuery
		respond(200, body)(w, r)
	})
	m, err := e.c.LatestStockQuotes(e.ctx(t, time.Second), []string{"AAPL", "GONE", "MSFT", "AAPL", "NULLY", "BRK.B"}, "sip")
	if err != nil {
		t.Fatal(err)
	}
	if query.Get("symbols") != "AAPL,GONE,MSFT,NULLY,BRK.B" || query.Get("feed") != "sip" {
		t.Errorf("query %v", query)
	}
	if rawQuery != "symbols=AAPL,GONE,MSFT,NULLY,BRK.B&feed=sip" {
		t.Errorf("raw query %q", rawQuery)
	}
	if !slices.Equal(e.rec.eps, []string{EndpointStockQuotes}) {
		t.Errorf("recorded endpoints %v", e.rec.eps)
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

// chunkSizes returns the number of symbols of each request, ascending.
func (q *quoteEcho) chunkSizes() []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	var sizes []int
	for _, v := range q.requests {
		sizes = append(sizes, len(strings.Split(v.Get("symbols"), ",")))
	}
	slices.Sort(sizes)
	return sizes
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
	short := 0 // the chunks arrive in any order; only the last may be short
	for i, raw := range echo.rawQuery {
		joined := strings.TrimPrefix(strings.Split(raw, "&")[0], "symbols=")
		if len(joined) > maxLen {
			t.Errorf("request %d: symbol list of %d chars > %d", i, len(joined), maxLen)
		}
		if len(joined) < maxLen-10 {
			if short++; short > 1 {
				t.Errorf("request %d: only %d chars; chunks should be filled", i, len(joined))
			}
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
	if sizes := echo.chunkSizes(); !slices.Equal(sizes, []int{30, 100, 100}) {
		t.Errorf("chunk sizes %v, want [30 100 100]", sizes)
	}
	for _, p := range paths {
		if p != "/v1beta1/options/quotes/latest feed=indicative" {
			t.Errorf("request %s", p)
		}
	}
	for _, q := range echo.rawQuery {
		if !strings.HasPrefix(q, "symbols=AAPL2406") || !strings.HasSuffix(q, "&feed=indicative") || strings.Count(q, "&") != 1 {
			t.Errorf("raw query %q", q)
		}
	}
	for _, ep := range e.rec.eps {
		if ep != EndpointOptionQuotes {
			t.Errorf("recorded endpoint %s", ep)
		}
	}
	if len(m.Values) != 230 || m.Source != "alpaca/indicative" {
		t.Errorf("%d values from %q", len(m.Values), m.Source)
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
	for _, ep := range e.rec.eps {
		if ep != EndpointOptionChain {
			t.Errorf("recorded endpoint %s", ep)
		}
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
	if !errors.Is(err, ErrInvalidRequest) || asError(t, err).Endpoint != EndpointOptionQuotes {
		t.Errorf("errors.Is(ChunkError, ErrInvalidRequest) false, or another endpoint: %v", err)
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
	if c.baseURL != DefaultBaseURL || c.cfg.StockFeed != "iex" ||
		c.cfg.OptionFeed != "indicative" || c.maxRetries != 3 || c.cfg.MaxConcurrency != 4 || c.cfg.MaxStockURLSymbolsLen != 1500 {
		t.Errorf("defaults %+v", c.cfg)
	}
	if New(Config{MaxRetries: -1}).maxRetries != 0 {
		t.Error("MaxRetries -1 should mean no retry")
	}
}
