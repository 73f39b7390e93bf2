package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opitios/opitios-alpaca/events"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// TestSingleAndMultiFormsShareEntries: a symbol fetched by the
// single-symbol form is served to the multi-symbol form from the same
// entry, and the bodies are Alpaca's.
func TestSingleAndMultiFormsShareEntries(t *testing.T) {
	b := newBed(t)
	one := b.get(t, "/v2/stocks/aapl/trades/latest", "")
	if one.StatusCode != 200 || !strings.HasPrefix(one.Body, `{"symbol":"AAPL","trade":{`) {
		t.Fatalf("single: %d %s", one.StatusCode, one.Body)
	}
	many := b.get(t, "/v2/stocks/trades/latest", "symbols=AAPL")
	if many.Headers[api.HeaderCache] != api.CacheHitL1 || !strings.HasPrefix(many.Body, `{"trades":{"AAPL":{`) {
		t.Fatalf("multi: %s %s", many.Headers[api.HeaderCache], many.Body)
	}
	if b.calls() != 1 {
		t.Fatalf("%d origin calls, want 1", b.calls())
	}
	if !b.mr.Exists("opitios:v2:stock_quote:AAPL:TRADE") {
		t.Fatalf("keys %v", b.mr.Keys())
	}
}

// TestSnapshotBodies: the single snapshot spreads the snapshot after
// "symbol"; the multi form is a bare map with no additive keys.
func TestSnapshotBodies(t *testing.T) {
	b := newBed(t)
	one := b.get(t, "/v2/stocks/AAPL/snapshot", "")
	if one.Body != `{"symbol":"AAPL","latestQuote":{"ap":1.01,"bp":1}}` {
		t.Fatalf("single: %s", one.Body)
	}
	many := b.get(t, "/v2/stocks/snapshots", "symbols=AAPL,MSFT,A$")
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(many.Body), &m); err != nil || len(m) != 2 || m["AAPL"] == nil || m["MSFT"] == nil {
		t.Fatalf("multi: %s", many.Body)
	}
	if many.Headers[api.HeaderCache] != api.CacheMixed {
		t.Fatalf("X-Cache %q, want MIXED", many.Headers[api.HeaderCache])
	}
}

// TestCryptoRoutes: crypto symbols and locations are validated, entries
// are crypto_quote.
func TestCryptoRoutes(t *testing.T) {
	b := newBed(t)
	r := b.get(t, "/v1beta3/crypto/us/latest/quotes", "symbols=btc/usd,ETH%2FUSD")
	if r.StatusCode != 200 || !strings.Contains(r.Body, `"BTC/USD"`) || !strings.Contains(r.Body, `"ETH/USD"`) {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if !b.mr.Exists("opitios:v2:crypto_quote:BTC/USD") {
		t.Fatalf("keys %v", b.mr.Keys())
	}
	for _, c := range []struct{ path, query string }{
		{"/v1beta3/crypto/eu/latest/quotes", "symbols=BTC/USD"},
		{"/v1beta3/crypto/us/latest/quotes", "symbols=BTCUSD"},
		{"/v1beta1/crypto-perps/global/latest/pricing", "symbols=BTC/USD"},
	} {
		if r := b.get(t, c.path, c.query); r.StatusCode != 400 {
			t.Errorf("%s?%s: %d, want 400", c.path, c.query, r.StatusCode)
		}
	}
}

// TestNewsClass: an open-ended news query is news (60 s); a window that
// ended more than an hour before now is settled, historical_data.
func TestNewsClass(t *testing.T) {
	b := newBed(t)
	b.get(t, "/v1beta1/news", "symbols=AAPL")
	b.get(t, "/v1beta1/news", "symbols=AAPL&end=2026-11-20")
	var news, hist int
	for _, k := range b.mr.Keys() {
		switch {
		case strings.HasPrefix(k, "opitios:v2:news:"):
			news++
			if ttl := b.mr.TTL(k); ttl != 60e9 {
				t.Errorf("%s TTL %v, want 60s", k, ttl)
			}
		case strings.HasPrefix(k, "opitios:v2:historical_data:"):
			hist++
		}
	}
	if news != 1 || hist != 1 {
		t.Fatalf("keys %v", b.mr.Keys())
	}
}

// TestLargeBodiesAreGzipped: a body of at least api.MinGzipBytes is
// gzipped for a client that accepts it; a small one, or a client that does
// not, gets it as it is.
func TestLargeBodiesAreGzipped(t *testing.T) {
	b := newBed(t)
	plain := b.get(t, "/v1beta1/news", "symbols=AAPL")
	if plain.IsBase64Encoded || plain.Headers["Vary"] != "Accept-Encoding" || len(plain.Body) < api.MinGzipBytes {
		t.Fatalf("without Accept-Encoding: base64 %v Vary %q, %d bytes", plain.IsBase64Encoded, plain.Headers["Vary"], len(plain.Body))
	}
	for _, ae := range []string{"gzip", "deflate, gzip;q=0.5", "*"} {
		resp, err := b.h.Handle(context.Background(), event("GET", "/v1beta1/news", "symbols=AAPL", map[string]string{"accept-encoding": ae}))
		if err != nil || resp.Headers["Content-Encoding"] != "gzip" || !resp.IsBase64Encoded {
			t.Fatalf("%q: %v %v", ae, resp.Headers, err)
		}
		body, err := events.Body(true, resp.Headers, resp.Body)
		if err != nil || string(body) != plain.Body {
			t.Fatalf("%q: gunzipped body differs (%v)", ae, err)
		}
	}
	for _, ae := range []string{"gzip;q=0", "br", "identity"} {
		resp, _ := b.h.Handle(context.Background(), event("GET", "/v1beta1/news", "symbols=AAPL", map[string]string{"accept-encoding": ae}))
		if resp.IsBase64Encoded {
			t.Errorf("%q: compressed", ae)
		}
	}
	small, _ := b.h.Handle(context.Background(), event("GET", "/v2/stocks/AAPL/quotes/latest", "", map[string]string{"accept-encoding": "gzip"}))
	if small.IsBase64Encoded || small.Headers["Content-Encoding"] != "" {
		t.Fatalf("a quote was compressed: %v", small.Headers)
	}
}

// countingLimiter counts the origin budget's admissions.
type countingLimiter struct{ n atomic.Int64 }

func (l *countingLimiter) Wait(context.Context) error { l.n.Add(1); return nil }

// TestPassThrough: a GET under the API that no route matches is forwarded
// with its path and query, attributed BYPASS, counted against the budget,
// and never cached.
func TestPassThrough(t *testing.T) {
	var got []string
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RequestURI())
		if r.URL.Path == "/v2/stocks/meta/missing" {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"code":40410000,"message":"endpoint not found"}`))
			return
		}
		_, _ = w.Write([]byte(`{"new":"route"}`))
	}))
	t.Cleanup(origin.Close)
	lim := &countingLimiter{}
	clk := market.NewManualClock(regular)
	c := cache.New(cache.Options{Clock: clk})
	h := api.New(api.Config{Cache: c, Clock: clk, Origin: alpaca.New(alpaca.Config{BaseURL: origin.URL, Limiter: lim})})
	for range 2 {
		resp, err := h.Handle(context.Background(), event("GET", "/v1beta1/brand/new", "b=2&a=1", nil))
		if err != nil || resp.StatusCode != 200 || resp.Body != `{"new":"route"}` || resp.Headers[api.HeaderCache] != api.CacheBypass ||
			resp.Headers[api.HeaderDataSource] != "alpaca" || resp.Headers["Cache-Control"] != "no-store" {
			t.Fatalf("%d %v %s", resp.StatusCode, resp.Headers, resp.Body)
		}
	}
	resp, _ := h.Handle(context.Background(), event("GET", "/v2/stocks/meta/missing", "", nil))
	if resp.StatusCode != 404 || resp.Body != `{"code":40410000,"message":"endpoint not found"}` {
		t.Fatalf("origin's 404: %d %s", resp.StatusCode, resp.Body)
	}
	if len(got) != 3 || got[0] != "/v1beta1/brand/new?a=1&b=2" || lim.n.Load() != 3 {
		t.Fatalf("origin saw %v, budget admitted %d", got, lim.n.Load())
	}
	for _, p := range []string{"/v2/a/../b", "/v2/a//b", "/v2/a%2Fb", "/v2/./a"} {
		if resp, _ := h.Handle(context.Background(), event("GET", p, "", nil)); resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", p, resp.StatusCode)
		}
	}
	if len(got) != 3 {
		t.Fatalf("refused paths reached the origin: %v", got)
	}
}
