package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/hitrate"
)

func TestAttributionMissHitL1HitL2(t *testing.T) {
	s := newStack(t)
	resp, body := s.get(t, "/v2/stocks/AAPL/quotes/latest")
	if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("first: %d %s %s", resp.StatusCode, resp.Header.Get("X-Cache"), body)
	}
	if got := resp.Header.Get("X-Data-Source"); got != "alpaca-sim" {
		t.Fatalf("X-Data-Source %q", got)
	}
	if resp.Header.Get("X-Market-Session") != "regular" {
		t.Fatalf("X-Market-Session %q", resp.Header.Get("X-Market-Session"))
	}
	m := decode(t, body)
	if string(m["symbol"]) != `"AAPL"` || len(m["quote"]) == 0 {
		t.Fatalf("body %s", body)
	}
	s.clk.Advance(7 * time.Second)
	resp2, body2 := s.get(t, "/v2/stocks/AAPL/quotes/latest")
	if resp2.Header.Get("X-Cache") != "HIT-L1" || body2 != body {
		t.Fatalf("second: %s\n%s\n%s", resp2.Header.Get("X-Cache"), body2, body)
	}
	age, _ := strconv.Atoi(resp2.Header.Get("Age"))
	cc := resp2.Header.Get("Cache-Control")
	maxAge, err := strconv.Atoi(strings.TrimPrefix(cc, "private, max-age="))
	if err != nil || !strings.HasPrefix(cc, "private, max-age=") {
		t.Fatalf("Cache-Control %q", cc)
	}
	if age != 7 || maxAge != 30 {
		t.Fatalf("Age %d, max-age %d: want 7 and the entry's lifetime, 30", age, maxAge)
	}
	s.svc.Cache.PurgeL1()
	resp3, body3 := s.get(t, "/v2/stocks/AAPL/quotes/latest")
	if resp3.Header.Get("X-Cache") != "HIT-L2" || body3 != body {
		t.Fatalf("third: %s", resp3.Header.Get("X-Cache"))
	}
	if n := s.sim.Stats().TotalRequests; n != 1 {
		t.Fatalf("origin requests %d, want 1", n)
	}
	// Past the TTL it is a miss again.
	s.clk.Advance(30 * time.Second)
	if resp4, _ := s.get(t, "/v2/stocks/AAPL/quotes/latest"); resp4.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("after TTL: %s", resp4.Header.Get("X-Cache"))
	}
	// The optimizer's windows saw 2 hits and 2 misses, in the minutes of the
	// service's clock.
	if err := s.svc.Windows.Flush(s.ctx); err != nil {
		t.Fatal(err)
	}
	ws, err := hitrate.NewWindows(s.rdb, hitrate.WindowsOptions{}).Recent(s.ctx, "stock_quote", 2, s.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	var hits, misses int64
	for _, w := range ws {
		hits, misses = hits+w.Hits, misses+w.Misses
	}
	if hits != 2 || misses != 2 {
		t.Fatalf("windows: %d hits %d misses, want 2 and 2", hits, misses)
	}
}

func TestBatchQuotesWithInvalidAndUnknown(t *testing.T) {
	s := newStack(t)
	s.get(t, "/v2/stocks/MSFT/quotes/latest") // MSFT in L1
	resp, body := s.get(t, "/v2/stocks/quotes/latest?symbols=aapl,MSFT,bad$sym,ZZZZZ,AAPL")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Cache") != "MIXED" {
		t.Fatalf("X-Cache %s", resp.Header.Get("X-Cache"))
	}
	var b struct {
		Quotes map[string]json.RawMessage
		Meta   map[string]struct {
			Source, Cache, FetchedAt string
			AgeMs                    int64 `json:"age_ms"`
		}
		Errors map[string]struct{ Status, Message string }
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Quotes) != 2 || b.Quotes["AAPL"] == nil || b.Quotes["MSFT"] == nil {
		t.Fatalf("quotes %v", b.Quotes)
	}
	if b.Meta["AAPL"].Cache != "MISS" || b.Meta["MSFT"].Cache != "HIT-L1" || b.Meta["AAPL"].Source != "alpaca-sim" {
		t.Fatalf("meta %+v", b.Meta)
	}
	if b.Errors["bad$sym"].Status != "invalid" || b.Errors["ZZZZZ"].Status != "not_found" || len(b.Errors) != 2 {
		t.Fatalf("errors %+v", b.Errors)
	}
	if contains(s.keys(t), "ZZZZZ") || contains(s.keys(t), "BAD") {
		t.Fatalf("a key was created for a bad or unknown symbol: %v", s.keys(t))
	}
}

func TestOriginDownIs503AndNotCached(t *testing.T) {
	s := newStack(t)
	s.sim.SetFault(alpacasim.HTML500)
	resp, body := s.get(t, "/v2/stocks/AAPL/quotes/latest")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	m := decode(t, body)
	if _, ok := m["code"]; !ok || strings.Contains(body, "alpaca:") || strings.Contains(body, "http") {
		t.Fatalf("error body leaks or has the wrong shape: %s", body)
	}
	if contains(s.keys(t), "opitios:v2:stock_quote:") {
		t.Fatal("a failure was cached")
	}
	resp, body = s.get(t, "/v2/stocks/quotes/latest?symbols=AAPL,MSFT")
	if resp.StatusCode != 503 {
		t.Fatalf("batch with nothing served: %d %s", resp.StatusCode, body)
	}
	s.sim.SetFault(alpacasim.None)
	if resp, _ := s.get(t, "/v2/stocks/AAPL/quotes/latest"); resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("after recovery %d", resp.StatusCode)
	}
}

func TestSingleUnknownSymbolIs404(t *testing.T) {
	s := newStack(t)
	resp, body := s.get(t, "/v2/stocks/ZZZZZ/quotes/latest")
	if resp.StatusCode != 404 || !strings.Contains(body, `"code":40410000`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestBarsAndChainAreCachedByQuery(t *testing.T) {
	s := newStack(t)
	q := "/v2/stocks/AAPL/bars?timeframe=1Hour&start=2026-11-24&end=2026-11-25&limit=5"
	resp, body := s.get(t, q)
	if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var bars struct {
		Bars          []map[string]any
		Symbol        string
		NextPageToken *string `json:"next_page_token"`
	}
	if err := json.Unmarshal([]byte(body), &bars); err != nil || len(bars.Bars) != 5 || bars.Symbol != "AAPL" || bars.NextPageToken == nil {
		t.Fatalf("bars %v %+v", err, bars)
	}
	if resp, _ := s.get(t, q); resp.Header.Get("X-Cache") != "HIT-L1" {
		t.Fatal("same query not cached")
	}
	if resp, _ := s.get(t, q+"&sort=desc"); resp.Header.Get("X-Cache") != "MISS" {
		t.Fatal("a different query shared a key")
	}
	resp, body = s.get(t, "/v2/stocks/bars?symbols=AAPL,MSFT,bad!&timeframe=1Day&start=2026-11-16&end=2026-11-24")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var multi struct {
		Bars   map[string][]map[string]any
		Meta   map[string]map[string]any
		Errors map[string]map[string]string
	}
	if err := json.Unmarshal([]byte(body), &multi); err != nil || len(multi.Bars["AAPL"]) == 0 || len(multi.Bars["MSFT"]) == 0 || multi.Errors["bad!"]["status"] != "invalid" {
		t.Fatalf("multi bars %v %s", err, body)
	}
	resp, body = s.get(t, "/v1beta1/options/snapshots/SPY?type=call&limit=10")
	if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("chain %d %s", resp.StatusCode, body)
	}
	var chain struct {
		Snapshots map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(body), &chain); err != nil || len(chain.Snapshots) != 10 {
		t.Fatalf("chain %v %d", err, len(chain.Snapshots))
	}
	for occ := range chain.Snapshots {
		if !strings.HasPrefix(occ, "SPY") || !strings.Contains(occ, "C") {
			t.Fatalf("contract %s", occ)
		}
	}
}

func TestMarketStatus(t *testing.T) {
	s := newStack(t)
	cases := []struct {
		at, session, next, end string
	}{
		{"2026-11-26T12:00:00-05:00", "closed", "pre_market", "2026-11-27T04:00:00-05:00"},
		{"2026-11-27T12:59:59-05:00", "regular", "after_hours", "2026-11-27T13:00:00-05:00"},
		{"2026-11-27T13:00:00-05:00", "after_hours", "closed", "2026-11-27T17:00:00-05:00"},
		{"2026-03-09T08:00:00Z", "pre_market", "regular", "2026-03-09T09:30:00-04:00"},
	}
	for _, c := range cases {
		resp, body := s.get(t, "/v1/market/status?at="+strings.ReplaceAll(c.at, "+", "%2B"))
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.at, resp.StatusCode, body)
		}
		if m["session"] != c.session || m["next_session"] != c.next || m["session_end"] != c.end || m["next_change"] != c.end {
			t.Errorf("%s: %s", c.at, body)
		}
	}
	if resp, _ := s.get(t, "/v1/market/status?at=tomorrow"); resp.StatusCode != 400 {
		t.Fatalf("bad at: %d", resp.StatusCode)
	}
	resp, body := s.get(t, "/v1/market/status")
	if resp.StatusCode != 200 || !strings.Contains(body, `"session":"regular"`) {
		t.Fatalf("now: %s", body)
	}
}

func TestHealth(t *testing.T) {
	s := newStack(t)
	resp, body := s.get(t, "/healthz")
	if resp.StatusCode != 200 || body != `{"status":"ok","l2":"ok"}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestMethodsAndRoutes(t *testing.T) {
	s := newStack(t)
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		r := s.invoke(t, m, "/v2/stocks/AAPL/quotes/latest", "")
		if r.StatusCode != http.StatusMethodNotAllowed || r.Headers["Allow"] != "GET" {
			t.Errorf("%s: %d", m, r.StatusCode)
		}
	}
	// Outside the API's version prefixes: 404 without the origin.
	for _, p := range []string{"/", "/v3/stocks/quotes/latest", "/healthz/", "/stocks/AAPL/quotes/latest"} {
		if r := s.invoke(t, "GET", p, ""); r.StatusCode != 404 || !strings.Contains(r.Body, `"code":40410000`) {
			t.Errorf("%s: %d %s", p, r.StatusCode, r.Body)
		}
	}
	if len(s.keys(t)) != 0 {
		t.Fatalf("keys created: %v", s.keys(t))
	}
	// Under them, a path no route matches is passed through: the origin's
	// 404 comes back in Alpaca's shape, and nothing is cached.
	for _, p := range []string{"/v2/stocks", "/v2/stocks/AAPL", "/v2/stocks/AAPL/quotes/latest/x"} {
		if r := s.invoke(t, "GET", p, ""); r.StatusCode != 404 || !strings.Contains(r.Body, `"code":40410000`) {
			t.Errorf("%s: %d %s", p, r.StatusCode, r.Body)
		}
	}
	for _, k := range s.keys(t) {
		if !strings.Contains(k, "budget") {
			t.Errorf("pass-through wrote %s", k)
		}
	}
}
