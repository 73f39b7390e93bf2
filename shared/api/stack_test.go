package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/gateway"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// regular is a Wednesday afternoon in the regular session.
var regular = time.Date(2026, 11, 25, 14, 0, 0, 0, market.NewYork)

// stack is the whole service on one machine: a private redis-server, the
// simulator as the origin, the API handler behind the local gateway.
type stack struct {
	clk    *market.ManualClock
	sim    *alpacasim.Server
	svc    *service.Service
	rdb    *redis.Client
	srv    *httptest.Server // the gateway, no authorizer
	simURL string
	ctx    context.Context
}

func newStack(t *testing.T) *stack {
	t.Helper()
	clk := market.NewManualClock(regular)
	sim, simSrv := alpacasim.NewTestServer(t, alpacasim.Config{Clock: clk, KeyID: "sim-key", SecretKey: "sim-secret", Seed: 7})
	rs := redistest.StartServer(t)
	svc, err := service.New(service.Config{
		Redis:  cache.RedisConfig{URL: "redis://" + rs.Addr, Timeout: time.Second},
		Alpaca: alpaca.Config{BaseURL: simSrv.URL, KeyID: "sim-key", SecretKey: "sim-secret"},
		Clock:  clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	gw := &gateway.Gateway{Routes: catalog.Templates(), Handler: svc.API.Handle, Clock: clk}
	srv := httptest.NewUnstartedServer(gw)
	srv.Config.MaxHeaderBytes = gateway.ServerMaxHeaderBytes
	srv.Start()
	t.Cleanup(srv.Close)
	return &stack{clk: clk, sim: sim, svc: svc, rdb: rs.Client(), srv: srv, simURL: simSrv.URL, ctx: context.Background()}
}

// get calls the API over HTTP.
func (s *stack) get(t *testing.T, pathQuery string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(s.srv.URL + pathQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// invoke calls the handler directly with an event.
func (s *stack) invoke(t *testing.T, method, path, rawQuery string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, RawQueryString: rawQuery}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	resp, err := s.svc.API.Handle(s.ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// keys lists every key in the private Redis, except the rate limiter's.
func (s *stack) keys(t *testing.T) []string {
	t.Helper()
	ks, err := s.rdb.Keys(s.ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func decode(t *testing.T, body string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}
