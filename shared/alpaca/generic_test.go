package alpaca

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGetPageRequestHeadersAndRawBytes(t *testing.T) {
	// Odd spacing and number forms prove the body is not re-encoded.
	const body = `{"symbol":"AAPL", "quote":{"t":"2024-04-26T15:59:59.123456789Z", "ax":"V","ap": 169.30 ,"bp":1.50e2,"c":["R"]} }`
	var got *http.Request
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(r.Context())
		respond(200, body)(w, r)
	})
	p, err := e.getQuote(e.ctx(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Body) != body {
		t.Errorf("body\n got %s\nwant %s", p.Body, body)
	}
	if p.Source != "alpaca/iex" {
		t.Errorf("source %q, want alpaca/iex", p.Source)
	}
	if got.URL.Path != pathQuote || got.URL.RawQuery != "feed=iex" {
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
	if !slices.Equal(e.rec.eps, []string{endpointQuote}) || e.lim.calls.Load() != 1 {
		t.Errorf("recorded endpoints %v, %d limiter calls", e.rec.eps, e.lim.calls.Load())
	}
}

// GetPage sends path and query as given (escaped by the caller) and names
// the source from feed and the simulator header.
func TestGetPagePassesQueryAndNamesTheSource(t *testing.T) {
	var uris []string
	var mu sync.Mutex
	e := newEnv(t, nil)
	e.handle(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		uris = append(uris, r.RequestURI)
		mu.Unlock()
		if strings.Contains(r.URL.Path, "SIM") {
			respond(200, `{}`, SimulatorHeader, "true")(w, r)
			return
		}
		respond(200, `{"ok":true}`)(w, r)
	})
	tests := []struct {
		path, query, feed string
		wantURI, wantSrc  string
	}{
		{"/v2/stocks/BRK%2FB/quotes/latest", "feed=sip", "sip", "/v2/stocks/BRK%2FB/quotes/latest?feed=sip", "alpaca/sip"},
		{"/v2/stocks/bars", "symbols=AAPL,MSFT&timeframe=1Day&limit=2&page_token=abc", "iex",
			"/v2/stocks/bars?symbols=AAPL,MSFT&timeframe=1Day&limit=2&page_token=abc", "alpaca/iex"},
		{"/v1beta1/news", "symbols=AAPL&limit=3", "", "/v1beta1/news?symbols=AAPL&limit=3", "alpaca"},
		{"/v1beta1/logos/AAPL", "", "", "/v1beta1/logos/AAPL", "alpaca"},
		{"/v2/stocks/SIM/quotes/latest", "feed=iex", "iex", "/v2/stocks/SIM/quotes/latest?feed=iex", SourceSimulator},
		{"/v1beta1/SIM", "", "", "/v1beta1/SIM", SourceSimulator},
	}
	for i, tt := range tests {
		p, err := e.c.GetPage(e.ctx(t, time.Second), "/route", tt.path, tt.query, tt.feed, false)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if uris[i] != tt.wantURI || p.Source != tt.wantSrc {
			t.Errorf("GetPage(%q, %q, %q): request %q source %q; want %q, %q", tt.path, tt.query, tt.feed, uris[i], p.Source, tt.wantURI, tt.wantSrc)
		}
	}
}

// Without raw, a 2xx body must be JSON: anything else is a malformed body,
// retried; with raw (an image) it is returned as it came.
func TestGetPageValidatesJSONUnlessRaw(t *testing.T) {
	const png = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	e := newEnv(t, respond(200, png, "Content-Type", "image/png"))
	p, err := e.c.GetPage(e.ctx(t, time.Second), "/v1beta1/logos/{symbol}", "/v1beta1/logos/AAPL", "", "", true)
	if err != nil || string(p.Body) != png || p.Source != "alpaca" || e.requests.Load() != 1 {
		t.Errorf("raw: %q from %q, %v after %d requests", p.Body, p.Source, err, e.requests.Load())
	}
	_, err = e.c.GetPage(e.ctx(t, time.Second), "/v1beta1/logos/{symbol}", "/v1beta1/logos/AAPL", "", "", false)
	ae := asError(t, err)
	if ae.Kind != ErrUnavailable || !errors.Is(err, errMalformed) || ae.Attempts != 4 || e.requests.Load() != 5 {
		t.Errorf("not raw: %+v after %d requests", ae, e.requests.Load())
	}

	for _, b := range []string{`{"bars":[`, `<html>oops</html>`, ``, `{"a":1} {"b":2}`} {
		e := newEnv(t, script(respond(200, b), respond(200, `{"bars":[]}`)))
		p, err := e.getQuote(e.ctx(t, time.Second))
		if err != nil || string(p.Body) != `{"bars":[]}` || e.requests.Load() != 2 {
			t.Errorf("body %q: %q, %v after %d requests", b, p.Body, err, e.requests.Load())
		}
	}
}

func TestLatestWrappedMemberQueryAndSource(t *testing.T) {
	const aapl = `{"t":"2024-04-26T15:59:59Z", "p": 169.30 ,"s":5}`
	var rawQuery []string
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/stocks/trades/latest" {
			t.Errorf("path %s", r.URL.Path)
		}
		rawQuery = append(rawQuery, r.URL.RawQuery)
		respond(200, `{"trades":{"AAPL":`+aapl+`,"NULLY":null},"next_page_token":null}`)(w, r)
	})
	call := LatestCall{Endpoint: "/v2/stocks/trades/latest", Path: "/v2/stocks/trades/latest", Wrap: "trades",
		Query: url.Values{"feed": {"sip"}, "currency": {""}}, Feed: "sip"}
	m, err := e.c.Latest(e.ctx(t, time.Second), call, []string{"AAPL", "BRK/B", "NULLY", "AAPL"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rawQuery, []string{"symbols=AAPL,BRK%2FB,NULLY&feed=sip"}) {
		t.Errorf("raw queries %q", rawQuery)
	}
	if len(m.Values) != 1 || string(m.Values["AAPL"]) != aapl || !slices.Equal(m.Missing, []string{"BRK/B", "NULLY"}) || m.Source != "alpaca/sip" {
		t.Errorf("multi %+v", m)
	}
	if call.Query.Get("page_token") != "" || len(call.Query) != 2 {
		t.Errorf("the caller's query was changed: %v", call.Query)
	}
	if !slices.Equal(e.rec.eps, []string{"/v2/stocks/trades/latest"}) {
		t.Errorf("recorded endpoints %v", e.rec.eps)
	}

	// A route without a feed is "alpaca"; a null member holds no symbol.
	e = newEnv(t, respond(200, `{"bars":null,"next_page_token":null}`))
	call = LatestCall{Endpoint: "/v1beta3/crypto/{loc}/latest/bars", Path: "/v1beta3/crypto/us/latest/bars", Wrap: "bars"}
	m, err = e.c.Latest(e.ctx(t, time.Second), call, []string{"BTC/USD", "ETH/USD"})
	if err != nil || len(m.Values) != 0 || !slices.Equal(m.Missing, []string{"BTC/USD", "ETH/USD"}) || m.Source != "alpaca" || e.requests.Load() != 1 {
		t.Errorf("null member: %+v, %v after %d requests", m, err, e.requests.Load())
	}
}

// A bare map (Wrap "") is the whole body: no member, no page token.
func TestLatestBareMap(t *testing.T) {
	const snap = `{"latestTrade":{"p":1.5}, "dailyBar":null}`
	e := newEnv(t, respond(200, `{"AAPL":`+snap+`,"GONE":null}`))
	call := LatestCall{Endpoint: "/v2/stocks/snapshots", Path: "/v2/stocks/snapshots", Query: url.Values{"feed": {"iex"}}, Feed: "iex"}
	m, err := e.c.Latest(e.ctx(t, time.Second), call, []string{"AAPL", "GONE", "NONE"})
	if err != nil || string(m.Values["AAPL"]) != snap || len(m.Values) != 1 || !slices.Equal(m.Missing, []string{"GONE", "NONE"}) || m.Source != "alpaca/iex" {
		t.Errorf("bare map: %+v, %v", m, err)
	}
	if e.requests.Load() != 1 {
		t.Errorf("%d requests, want 1", e.requests.Load())
	}

	for _, b := range []string{`null`, `[]`, `{"AAPL":`, `"AAPL"`} {
		e := newEnv(t, script(respond(200, b), respond(200, `{"AAPL":{}}`)))
		m, err := e.c.Latest(e.ctx(t, time.Second), call, []string{"AAPL"})
		if err != nil || string(m.Values["AAPL"]) != `{}` || e.requests.Load() != 2 {
			t.Errorf("body %q: %+v, %v after %d requests", b, m, err, e.requests.Load())
		}
	}
}

// Latest follows next_page_token through every page of each chunk; a
// symbol seen on several pages keeps its last value.
func TestLatestFollowsPagesPerChunk(t *testing.T) {
	pages := map[string]string{
		"":   `{"bars":{"AAPL":[{"c":1},{"c":2}]},"next_page_token":"p2"}`,
		"p2": `{"bars":{"AAPL":[{"c":3}],"MSFT":[{"c":10}]},"next_page_token":"p3"}`,
		"p3": `{"bars":{"EMPTY":[]},"next_page_token":null}`,
	}
	var mu sync.Mutex
	var queries []string
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if q.Get("symbols") == "NONE" {
			respond(200, `{"bars":{}}`)(w, r)
			return
		}
		respond(200, pages[q.Get("page_token")])(w, r)
	})
	call := LatestCall{Endpoint: "/v2/stocks/bars", Path: "/v2/stocks/bars", Wrap: "bars",
		Query: url.Values{"timeframe": {"1Hour"}}, PerCall: 3}
	m, err := e.c.Latest(e.ctx(t, time.Second), call, []string{"AAPL", "MSFT", "EMPTY", "NONE"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"AAPL": `[{"c":3}]`, "MSFT": `[{"c":10}]`, "EMPTY": `[]`}
	for s, w := range want {
		if got := string(m.Values[s]); got != w {
			t.Errorf("%s: %s, want %s", s, got, w)
		}
	}
	if len(m.Values) != 3 || !slices.Equal(m.Missing, []string{"NONE"}) {
		t.Errorf("values %v missing %v", m.Values, m.Missing)
	}
	sort.Strings(queries)
	wantQ := []string{ // sorted
		"symbols=AAPL,MSFT,EMPTY&page_token=p2&timeframe=1Hour",
		"symbols=AAPL,MSFT,EMPTY&page_token=p3&timeframe=1Hour",
		"symbols=AAPL,MSFT,EMPTY&timeframe=1Hour",
		"symbols=NONE&timeframe=1Hour",
	}
	if !slices.Equal(queries, wantQ) {
		t.Errorf("queries %q\nwant %q", queries, wantQ)
	}
}

func TestLatestStopsWhenTheTokenRepeats(t *testing.T) {
	e := newEnv(t, script(
		respond(200, `{"quotes":{"AAPL":{}},"next_page_token":"same"}`),
		respond(200, `{"quotes":{},"next_page_token":"same"}`),
	))
	call := LatestCall{Endpoint: EndpointStockQuotes, Path: "/v2/stocks/quotes/latest", Wrap: "quotes"}
	m, err := e.c.Latest(e.ctx(t, time.Second), call, []string{"AAPL"})
	var ce *ChunkError
	if !errors.As(err, &ce) || !errors.Is(err, ErrUnavailable) || !errors.Is(asError(t, err).Cause, errPageLoop) ||
		len(m.Values) != 0 || !slices.Equal(ce.Failed, []string{"AAPL"}) || e.requests.Load() != 2 {
		t.Errorf("%+v, %v after %d requests", m, err, e.requests.Load())
	}
}

func TestLatestPerCallChunks(t *testing.T) {
	syms := make([]string, 7)
	for i := range syms {
		syms[i] = fmt.Sprintf("S%d", i)
	}
	echo := &quoteEcho{}
	e := newEnv(t, echo.handler("snapshots"), func(c *Config) { c.MaxStockURLSymbolsLen = 2 })
	call := LatestCall{Endpoint: "/v1beta1/options/snapshots", Path: "/v1beta1/options/snapshots", Wrap: "snapshots", Feed: "opra", PerCall: 3}
	m, err := e.c.Latest(e.ctx(t, time.Second), call, syms)
	if err != nil || len(m.Values) != 7 || m.Source != "alpaca/opra" {
		t.Fatalf("%+v, %v", m, err)
	}
	if sizes := echo.chunkSizes(); !slices.Equal(sizes, []int{1, 3, 3}) {
		t.Errorf("chunk sizes %v, want [1 3 3] (PerCall, not the URL length)", sizes)
	}

	// PerCall 0: the URL length bounds the chunks instead.
	echo = &quoteEcho{}
	e = newEnv(t, echo.handler("snapshots"), func(c *Config) { c.MaxStockURLSymbolsLen = 5 })
	call.PerCall = 0
	if m, err := e.c.Latest(e.ctx(t, time.Second), call, syms); err != nil || len(m.Values) != 7 || len(echo.requests) != 4 {
		t.Errorf("by length: %d values, %v after %d requests, want 4 (S0,S1 ... S6)", len(m.Values), err, len(echo.requests))
	}
}

func TestLatestEmptyMakesNoRequest(t *testing.T) {
	e := newEnv(t, respond(500, ""))
	m, err := e.c.Latest(e.ctx(t, time.Second), LatestCall{Endpoint: "/x", Path: "/x", Wrap: "quotes", Feed: "opra"}, nil)
	if err != nil || m.Values == nil || len(m.Values) != 0 || m.Source != "alpaca/opra" || e.requests.Load() != 0 || e.lim.calls.Load() != 0 {
		t.Errorf("%+v, %v after %d requests", m, err, e.requests.Load())
	}
	m, err = e.c.LatestOptionQuotes(e.ctx(t, time.Second), []string{}, "")
	if err != nil || len(m.Values) != 0 || m.Source != "alpaca/indicative" || e.requests.Load() != 0 {
		t.Errorf("options: %+v, %v after %d requests", m, err, e.requests.Load())
	}
}

func TestLatestOptionQuotesFeed(t *testing.T) {
	var rawQuery string
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		rawQuery = r.URL.RawQuery
		respond(200, `{"quotes":{"AAPL240621C00100000":{"ap":1}}}`)(w, r)
	})
	m, err := e.c.LatestOptionQuotes(e.ctx(t, time.Second), []string{"AAPL240621C00100000"}, "opra")
	if err != nil || m.Source != "alpaca/opra" || rawQuery != "symbols=AAPL240621C00100000&feed=opra" {
		t.Errorf("%+v, %v; query %q", m, err, rawQuery)
	}
}

func TestSimulatorAnswersSaySo(t *testing.T) {
	sim := func(body string) http.HandlerFunc { return respond(200, body, SimulatorHeader, "true") }
	bars := func(w http.ResponseWriter, r *http.Request) { // the chunks run concurrently
		if s := r.URL.Query().Get("symbols"); s == "AAPL" {
			sim(`{"bars":{"AAPL":{"c":1}},"next_page_token":null}`)(w, r)
		} else {
			respond(200, `{"bars":{"`+s+`":{"c":2}},"next_page_token":null}`)(w, r)
		}
	}
	e := newEnv(t, script(
		sim(`{"quotes":{"AAPL":{"ap":1}}}`),
		bars, bars,
		sim(`{"snapshots":{"A240621C00100000":{}},"next_page_token":null}`),
		sim(`{"news":[]}`),
		respond(200, `{"quotes":{"A240621C00100000":{}}}`, SimulatorHeader, "TRUE"),
	))
	m, err := e.c.LatestStockQuotes(e.ctx(t, time.Second), []string{"AAPL"}, "")
	if err != nil || m.Source != SourceSimulator {
		t.Errorf("quotes from %q, %v", m.Source, err)
	}
	// One simulated chunk of two makes the whole answer simulated.
	call := LatestCall{Endpoint: "/v2/stocks/bars/latest", Path: "/v2/stocks/bars/latest", Wrap: "bars", Feed: "iex", PerCall: 1}
	m, err = e.c.Latest(e.ctx(t, time.Second), call, []string{"AAPL", "MSFT"})
	if err != nil || m.Source != SourceSimulator || len(m.Values) != 2 {
		t.Errorf("bars from %q, %v", m.Source, err)
	}
	ch, err := e.c.OptionChain(e.ctx(t, time.Second), "A", ChainParams{}, true)
	if err != nil || ch.Source != SourceSimulator {
		t.Errorf("chain from %q, %v", ch.Source, err)
	}
	p, err := e.c.GetPage(e.ctx(t, time.Second), "/v1beta1/news", "/v1beta1/news", "", "", false)
	if err != nil || p.Source != SourceSimulator {
		t.Errorf("page from %q, %v", p.Source, err)
	}
	m, err = e.c.LatestOptionQuotes(e.ctx(t, time.Second), []string{"A240621C00100000"}, "")
	if err != nil || m.Source != SourceSimulator {
		t.Errorf("option quotes from %q, %v", m.Source, err)
	}
}
