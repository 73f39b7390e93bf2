package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// recorder is a handler that keeps the last event it was given.
type recorder struct {
	ev events.APIGatewayV2HTTPRequest
}

func (r *recorder) handle(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r.ev = ev
	return events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"X-Cache": "MISS"},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}}, Body: "hello"}, nil
}

func allowDev(_ context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	if ev.Headers["apca-api-key-id"] == "dev" && ev.Headers["apca-api-secret-key"] == "dev-secret" {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{"key_id": "dev"}}, nil
	}
	if ev.Headers["apca-api-key-id"] == "boom" {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, errors.New("authorizer crashed")
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, nil
}

func serve(t *testing.T, g *Gateway, method, target string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	resp := w.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestEventShapeAndResponse(t *testing.T) {
	rec := &recorder{}
	g := &Gateway{Routes: []string{"/v2/stocks/{symbol}/bars", "/healthz"}, Handler: rec.handle, Authorizer: allowDev, Public: map[string]bool{"/healthz": true}}
	auth := map[string]string{"APCA-API-KEY-ID": "dev", "APCA-API-SECRET-KEY": "dev-secret", "X-Custom": "v"}
	resp, body := serve(t, g, "POST", "/v2/stocks/AAPL/bars?timeframe=1Day&a=1&a=2", auth, "payload")
	if resp.StatusCode != 201 || body != "hello" || resp.Header.Get("X-Cache") != "MISS" || len(resp.Header.Values("X-Multi")) != 2 {
		t.Fatalf("response %d %q %v", resp.StatusCode, body, resp.Header)
	}
	ev := rec.ev
	switch {
	case ev.Version != "2.0" || ev.RouteKey != "POST /v2/stocks/{symbol}/bars" || ev.RawPath != "/v2/stocks/AAPL/bars":
		t.Fatalf("route %q %q", ev.RouteKey, ev.RawPath)
	case ev.RawQueryString != "timeframe=1Day&a=1&a=2" || ev.QueryStringParameters["a"] != "1,2":
		t.Fatalf("query %q %v", ev.RawQueryString, ev.QueryStringParameters)
	case ev.PathParameters["symbol"] != "AAPL":
		t.Fatalf("path parameters %v", ev.PathParameters)
	case ev.Headers["x-custom"] != "v" || ev.Headers["apca-api-key-id"] != "dev":
		t.Fatalf("headers are not lower-cased: %v", ev.Headers)
	case ev.RequestContext.RequestID == "" || ev.RequestContext.Stage != "$default" || ev.RequestContext.HTTP.Method != "POST" || ev.RequestContext.TimeEpoch == 0:
		t.Fatalf("request context %+v", ev.RequestContext)
	case ev.RequestContext.Authorizer == nil || ev.RequestContext.Authorizer.Lambda["key_id"] != "dev":
		t.Fatalf("authorizer context %+v", ev.RequestContext.Authorizer)
	}
	if b, _ := base64.StdEncoding.DecodeString(ev.Body); !ev.IsBase64Encoded || string(b) != "payload" {
		t.Fatalf("body %q", ev.Body)
	}
}

func TestAuthorization(t *testing.T) {
	rec := &recorder{}
	g := &Gateway{Routes: []string{"/q", "/healthz"}, Handler: rec.handle, Authorizer: allowDev, Public: map[string]bool{"/healthz": true}}
	cases := []struct {
		hdr  map[string]string
		want int
	}{
		{nil, 401},
		{map[string]string{"APCA-API-KEY-ID": "dev"}, 401},
		{map[string]string{"APCA-API-KEY-ID": "dev", "APCA-API-SECRET-KEY": "wrong"}, 403},
		{map[string]string{"APCA-API-KEY-ID": "boom", "APCA-API-SECRET-KEY": "x"}, 500},
		{map[string]string{"APCA-API-KEY-ID": "dev", "APCA-API-SECRET-KEY": "dev-secret"}, 201},
	}
	for _, c := range cases {
		if resp, _ := serve(t, g, "GET", "/q", c.hdr, ""); resp.StatusCode != c.want {
			t.Errorf("%v: %d, want %d", c.hdr, resp.StatusCode, c.want)
		}
	}
	if resp, _ := serve(t, g, "GET", "/healthz", nil, ""); resp.StatusCode != 201 {
		t.Errorf("public route: %d", resp.StatusCode)
	}
	for _, p := range []string{"/", "/q/x", "/nope", "/healthz/"} {
		if resp, body := serve(t, g, "GET", p, nil, ""); resp.StatusCode != 404 || body != `{"code":40410000,"message":"Not Found"}` {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
}

// checkRefusal fails unless a refusal is Alpaca's error shape as JSON, with
// the code of its status.
func checkRefusal(t *testing.T, name string, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: %d, want %d (%s)", name, resp.StatusCode, status, body)
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", name, ct)
	}
	var e struct {
		Code    int     `json:"code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != status*100000+10000 || e.Message == nil || *e.Message == "" {
		t.Errorf("%s: body %s, want {\"code\":%d,\"message\":...}", name, body, status*100000+10000)
	}
}

// TestRefusalsAreAlpacaErrors: every answer the gateway gives of its own is
// {"code","message"} JSON.
func TestRefusalsAreAlpacaErrors(t *testing.T) {
	rec := &recorder{}
	fails := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, errors.New("handler crashed")
	}
	g := &Gateway{Routes: []string{"/q", "/fail"}, Handler: rec.handle, Authorizer: allowDev}
	dev := map[string]string{"APCA-API-KEY-ID": "dev", "APCA-API-SECRET-KEY": "dev-secret"}
	cases := []struct {
		name, target string
		hdr          map[string]string
		status       int
	}{
		{"no route", "/nope", dev, 404},
		{"no keys", "/q", nil, 401},
		{"wrong secret", "/q", map[string]string{"APCA-API-KEY-ID": "dev", "APCA-API-SECRET-KEY": "x"}, 403},
		{"authorizer failure", "/q", map[string]string{"APCA-API-KEY-ID": "boom", "APCA-API-SECRET-KEY": "x"}, 500},
	}
	for _, c := range cases {
		resp, body := serve(t, g, "GET", c.target, c.hdr, "")
		checkRefusal(t, c.name, resp, body, c.status)
	}
	g = &Gateway{Routes: []string{"/fail"}, Handler: fails}
	resp, body := serve(t, g, "GET", "/fail", nil, "")
	checkRefusal(t, "handler failure", resp, body, 500)
}

// TestOversizeRequestsAreRefusedAsJSON: over HTTP, through a server
// configured as the gateway asks, a request line or header block over API
// Gateway's quota is refused by the gateway in Alpaca's shape (never by
// net/http in plain text), and the handler never runs.
func TestOversizeRequestsAreRefusedAsJSON(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewUnstartedServer(&Gateway{Routes: []string{"/q"}, Handler: rec.handle})
	srv.Config.MaxHeaderBytes = ServerMaxHeaderBytes
	srv.Start()
	t.Cleanup(srv.Close)
	get := func(target string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get("/q?a=1", nil); resp.StatusCode != 201 {
		t.Fatalf("a small request: %d %s", resp.StatusCode, body)
	}
	rec.ev = events.APIGatewayV2HTTPRequest{}
	for _, n := range []int{MaxRequestBytes, 15 << 10, 100 << 10, 900 << 10} {
		resp, body := get("/q?pad="+strings.Repeat("x", n), nil)
		checkRefusal(t, fmt.Sprintf("%d-byte query", n), resp, body, 414)
	}
	many := map[string]string{}
	for i := range 1000 {
		many[fmt.Sprintf("X-H-%d", i)] = strings.Repeat("v", 8)
	}
	resp, body := get("/q", many)
	checkRefusal(t, "1000 headers", resp, body, 431)
	resp, body = get("/q?pad="+strings.Repeat("x", 6<<10), map[string]string{"X-Big": strings.Repeat("v", 6<<10)})
	checkRefusal(t, "query and header together", resp, body, 431)
	if rec.ev.RawPath != "" {
		t.Errorf("the handler ran for an oversize request: %q", rec.ev.RawPath)
	}
}

// TestAuthorizerVerdictsAreCached: with AuthorizerCacheTTL, the authorizer
// runs once per pair of identity values per TTL, for allows and denies, as
// API Gateway's result caching does; failures are not cached.
func TestAuthorizerVerdictsAreCached(t *testing.T) {
	rec := &recorder{}
	calls := 0
	counting := func(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		calls++
		return allowDev(ctx, ev)
	}
	now := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
	g := &Gateway{Routes: []string{"/q"}, Handler: rec.handle, Authorizer: counting, AuthorizerCacheTTL: 30 * time.Second,
		Clock: market.ClockFunc(func() time.Time { return now })}
	dev := map[string]string{"APCA-API-KEY-ID": "dev", "APCA-API-SECRET-KEY": "dev-secret"}
	bad := map[string]string{"APCA-API-KEY-ID": "dev", "APCA-API-SECRET-KEY": "wrong"}
	boom := map[string]string{"APCA-API-KEY-ID": "boom", "APCA-API-SECRET-KEY": "x"}
	steps := []struct {
		hdr       map[string]string
		advance   time.Duration
		status    int
		callsThen int
	}{
		{dev, 0, 201, 1},
		{dev, 29 * time.Second, 201, 1}, // cached
		{bad, 0, 403, 2},
		{bad, 0, 403, 2},               // a deny is cached too
		{dev, 1 * time.Second, 201, 3}, // expired
		{boom, 0, 500, 4},
		{boom, 0, 500, 5}, // a failure is not
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		resp, body := serve(t, g, "GET", "/q", s.hdr, "")
		if resp.StatusCode != s.status || calls != s.callsThen {
			t.Fatalf("step %d: status %d (%s), %d authorizer calls; want %d, %d", i, resp.StatusCode, body, calls, s.status, s.callsThen)
		}
	}
	if rec.ev.RequestContext.Authorizer == nil || rec.ev.RequestContext.Authorizer.Lambda["key_id"] != "dev" {
		t.Fatalf("a cached allow lost its context: %+v", rec.ev.RequestContext.Authorizer)
	}
}

func TestMatchTemplate(t *testing.T) {
	g := &Gateway{Routes: []string{"/v2/stocks/{symbol}/quotes/latest", "/v2/stocks/quotes/latest", "/healthz", "/{a}/{b}"}}
	cases := []struct {
		path, tmpl string
		params     map[string]string
	}{
		{"/v2/stocks/AAPL/quotes/latest", "/v2/stocks/{symbol}/quotes/latest", map[string]string{"symbol": "AAPL"}},
		{"/v2/stocks/quotes/latest", "/v2/stocks/quotes/latest", nil},
		{"/healthz", "/healthz", nil},
		{"/x/y", "/{a}/{b}", map[string]string{"a": "x", "b": "y"}},
		{"/v2/stocks//quotes/latest", "", nil},
		{"/x/", "", nil},
		{"/healthz/", "", nil},
		{"/", "", nil},
		{"", "", nil},
	}
	for _, c := range cases {
		tmpl, params, ok := g.match(c.path)
		if ok != (c.tmpl != "") || tmpl != c.tmpl || fmt.Sprint(params) != fmt.Sprint(c.params) {
			t.Errorf("match(%q) = %q %v %v; want %q %v", c.path, tmpl, params, ok, c.tmpl, c.params)
		}
	}
}

// TestGreedyRoutes: a /{proxy+} template takes every longer path under its
// prefix, after the templates listed before it.
func TestGreedyRoutes(t *testing.T) {
	g := &Gateway{Routes: []string{"/v2/stocks/{symbol}/bars", "/v2/{proxy+}"}}
	for _, c := range []struct {
		path, tmpl, proxy string
		ok                bool
	}{
		{"/v2/stocks/AAPL/bars", "/v2/stocks/{symbol}/bars", "", true},
		{"/v2/stocks/meta/new/thing", "/v2/{proxy+}", "stocks/meta/new/thing", true},
		{"/v2/x", "/v2/{proxy+}", "x", true},
		{"/v2/", "", "", false},
		{"/v2", "", "", false},
		{"/v3/x", "", "", false},
	} {
		tmpl, params, ok := g.match(c.path)
		if ok != c.ok || tmpl != c.tmpl || params["proxy"] != c.proxy {
			t.Errorf("match(%q) = %q %v %v, want %q proxy=%q %v", c.path, tmpl, params, ok, c.tmpl, c.proxy, c.ok)
		}
	}
}
