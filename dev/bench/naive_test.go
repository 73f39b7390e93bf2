package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// countingOrigin wraps an origin and counts requests by path.
type countingOrigin struct {
	next  http.Handler
	mu    sync.Mutex
	paths map[string]int
}

func (o *countingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	if o.paths == nil {
		o.paths = map[string]int{}
	}
	o.paths[r.URL.Path]++
	o.mu.Unlock()
	o.next.ServeHTTP(w, r)
}

func (o *countingOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.paths[path]
}

func (o *countingOrigin) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.paths {
		n += c
	}
	return n
}

// naiveOverSim is the baseline over the test Redis and the simulator at
// the clock's instants, with the origin's requests counted.
func naiveOverSim(t *testing.T, clk *market.ManualClock) (*naive, *countingOrigin) {
	sim := alpacasim.New(alpacasim.Config{Clock: clk})
	o := &countingOrigin{next: sim}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	n := newNaive(rawRedis(t), srv.URL, "k", "s")
	n.clock = clk
	return n, o
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

// newSimSymbol is a universe symbol no earlier test run left in Redis under
// the baseline's prefix.
func newSimSymbol(t *testing.T) string {
	t.Helper()
	u := alpacasim.Universe()
	rdb := rawRedis(t)
	for range 1000 {
		s := u[int(symSeq.Add(1))%len(u)]
		if rdb.Exists(context.Background(), naiveKeyPrefix+s).Val() == 0 {
			return s
		}
	}
	t.Fatal("no symbol of the universe is free in Redis")
	return ""
}

func TestNaiveSingleMissThenHit(t *testing.T) {
	clk := market.NewManualClock(benchNoon)
	n, o := naiveOverSim(t, clk)
	sym := newSimSymbol(t)
	single := "/v2/stocks/" + sym + "/quotes/latest"

	w := get(t, n, single)
	if w.Code != http.StatusOK || w.Header().Get("X-Cache") != "MISS" || w.Header().Get("Age") != "0" {
		t.Fatalf("first: %d %q age %q: %s", w.Code, w.Header().Get("X-Cache"), w.Header().Get("Age"), w.Body)
	}
	var body struct {
		Symbol string          `json:"symbol"`
		Quote  json.RawMessage `json:"quote"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Symbol != sym || len(body.Quote) == 0 {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	if got := o.count(single); got != 1 {
		t.Fatalf("origin single-symbol calls = %d, want 1", got)
	}

	clk.Set(benchNoon.Add(12 * time.Second))
	w = get(t, n, single)
	if w.Code != http.StatusOK || w.Header().Get("X-Cache") != "HIT-L2" || w.Header().Get("Age") != "12" {
		t.Fatalf("second: %d %q age %q", w.Code, w.Header().Get("X-Cache"), w.Header().Get("Age"))
	}
	if o.total() != 1 {
		t.Fatalf("a hit called the origin: %v", o.paths)
	}

	// Past the original design's 30 s regular-session TTL the entry is
	// stale: fetched again.
	clk.Set(benchNoon.Add(30 * time.Second))
	if w := get(t, n, single); w.Header().Get("X-Cache") != "MISS" || o.count(single) != 2 {
		t.Fatalf("after the TTL: %q, origin calls %d", w.Header().Get("X-Cache"), o.count(single))
	}
}

func TestNaiveSessionChangeIsStale(t *testing.T) {
	// 15:59:50 is regular; 16:00:05 is after hours, within the 30 s TTL.
	before := time.Date(2026, 11, 24, 15, 59, 50, 0, market.NewYork)
	clk := market.NewManualClock(before)
	n, o := naiveOverSim(t, clk)
	sym := newSimSymbol(t)
	single := "/v2/stocks/" + sym + "/quotes/latest"
	get(t, n, single)
	clk.Set(before.Add(15 * time.Second))
	if w := get(t, n, single); w.Header().Get("X-Cache") != "MISS" || o.count(single) != 2 {
		t.Fatalf("after the session changed: %q, origin calls %d", w.Header().Get("X-Cache"), o.count(single))
	}
}

func TestNaiveBatchCallsOriginPerSymbol(t *testing.T) {
	clk := market.NewManualClock(benchNoon)
	n, o := naiveOverSim(t, clk)
	a, b, c := newSimSymbol(t), newSimSymbol(t), newSimSymbol(t)
	get(t, n, "/v2/stocks/"+a+"/quotes/latest")

	w := get(t, n, "/v2/stocks/quotes/latest?symbols="+a+","+b+","+c+",ZZZZQ")
	if w.Code != http.StatusOK || w.Header().Get("X-Cache") != "MIXED" {
		t.Fatalf("%d %q: %s", w.Code, w.Header().Get("X-Cache"), w.Body)
	}
	var body struct {
		Quotes map[string]json.RawMessage `json:"quotes"`
		Meta   map[string]struct {
			Cache string `json:"cache"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	if len(body.Quotes) != 3 || body.Meta[a].Cache != "HIT-L2" || body.Meta[b].Cache != "MISS" || body.Meta[c].Cache != "MISS" {
		t.Fatalf("quotes %d, meta %+v", len(body.Quotes), body.Meta)
	}
	// One single-symbol call per missing symbol (the unknown one included),
	// never the multi-symbol endpoint.
	for _, s := range []string{b, c, "ZZZZQ"} {
		if got := o.count("/v2/stocks/" + s + "/quotes/latest"); got != 1 {
			t.Errorf("origin calls for %s = %d, want 1", s, got)
		}
	}
	if got := o.count("/v2/stocks/quotes/latest"); got != 0 {
		t.Errorf("multi-symbol origin calls = %d, want 0", got)
	}
}

func TestNaiveErrors(t *testing.T) {
	clk := market.NewManualClock(benchNoon)
	n, _ := naiveOverSim(t, clk)
	for _, tc := range []struct {
		target string
		want   int
	}{
		{"/v2/stocks/ZZZZQ/quotes/latest", http.StatusNotFound},
		{"/v2/stocks/quotes/latest?symbols=", http.StatusBadRequest},
		{"/v2/stocks/AAPL/bars", http.StatusNotFound},
	} {
		if w := get(t, n, tc.target); w.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.target, w.Code, tc.want)
		}
	}
	w := httptest.NewRecorder()
	n.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v2/stocks/AAPL/quotes/latest", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}

	// An origin that fails is a 502, and nothing is cached.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer failing.Close()
	n.origin = failing.URL
	sym := newSimSymbol(t)
	if w := get(t, n, "/v2/stocks/"+sym+"/quotes/latest"); w.Code != http.StatusBadGateway {
		t.Errorf("failing origin: %d", w.Code)
	}
	if rawRedis(t).Exists(context.Background(), naiveKeyPrefix+sym).Val() != 0 {
		t.Error("a failed fetch was cached")
	}
}

// TestNaiveDoesNotCoalesce proves the baseline's defining flaw: concurrent
// misses of one symbol each call the origin. The origin answers only once
// all of them have arrived, so a coalescing baseline would hang here.
func TestNaiveDoesNotCoalesce(t *testing.T) {
	const callers = 8
	clk := market.NewManualClock(benchNoon)
	sim := alpacasim.New(alpacasim.Config{Clock: clk})
	var arrived atomic.Int32
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == callers {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Error("not every caller reached the origin")
		}
		sim.ServeHTTP(w, r)
	}))
	defer srv.Close()
	n := newNaive(rawRedis(t), srv.URL, "k", "s")
	n.clock = clk
	sym := newSimSymbol(t)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if w := get(t, n, "/v2/stocks/"+sym+"/quotes/latest"); w.Code != http.StatusOK {
				t.Errorf("status %d", w.Code)
			}
		})
	}
	wg.Wait()
	if got := arrived.Load(); got != callers {
		t.Fatalf("origin calls = %d, want %d", got, callers)
	}
}

func TestStubOriginAnswersAnySymbol(t *testing.T) {
	o, srv := newStubOrigin(t)
	resp, err := srv.Client().Get(srv.URL + "/v2/stocks/quotes/latest?symbols=QAA1,QAA2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Quotes map[string]json.RawMessage `json:"quotes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Quotes) != 2 || o.calls.Load() != 1 {
		t.Fatalf("quotes %v, calls %d, err %v", body.Quotes, o.calls.Load(), err)
	}
	if !strings.EqualFold(resp.Header.Get("X-Alpaca-Simulator"), "true") {
		t.Error("the stub must say it is simulated")
	}
}
