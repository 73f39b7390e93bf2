package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/aws/aws-lambda-go/events"
	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// fakeOrigin is an api.Origin that answers every symbol it is asked for,
// counts its calls and keeps the parameters of the last bars and chain
// calls. It never fails, so any error status the API answers is the API's
// own decision, made without the origin.
type fakeOrigin struct {
	calls atomic.Int64

	mu        sync.Mutex
	lastBars  alpaca.BarParams
	lastChain alpaca.ChainParams
}

var _ api.Origin = (*fakeOrigin)(nil)

func (o *fakeOrigin) multi(symbols []string, body, feed string) alpaca.Multi {
	o.calls.Add(1)
	m := alpaca.Multi{Values: make(map[string]json.RawMessage, len(symbols)), Source: "alpaca/" + feed}
	for _, s := range symbols {
		m.Values[s] = json.RawMessage(body)
	}
	return m
}

func (o *fakeOrigin) LatestStockQuotes(_ context.Context, symbols []string, feed string) (alpaca.Multi, error) {
	return o.multi(symbols, `{"ap":1.01,"as":1,"bp":1,"bs":1,"t":"2026-11-25T19:00:00Z"}`, feed), nil
}

func (o *fakeOrigin) LatestOptionQuotes(_ context.Context, symbols []string, feed string) (alpaca.Multi, error) {
	return o.multi(symbols, `{"ap":1.01,"as":1,"bp":1,"bs":1,"c":"A","t":"2026-11-25T19:00:00Z"}`, feed), nil
}

func (o *fakeOrigin) OptionSnapshots(_ context.Context, symbols []string, feed string) (alpaca.Multi, error) {
	return o.multi(symbols, `{"latestQuote":{"ap":1.01,"bp":1}}`, feed), nil
}

func (o *fakeOrigin) StockBars(_ context.Context, symbols []string, p alpaca.BarParams, _ bool) (alpaca.Bars, error) {
	o.calls.Add(1)
	o.mu.Lock()
	o.lastBars = p
	o.mu.Unlock()
	b := alpaca.Bars{Bars: make(map[string]json.RawMessage, len(symbols)), Source: "alpaca/" + p.Feed}
	for _, s := range symbols {
		b.Bars[s] = json.RawMessage(`[{"t":"2026-11-24T05:00:00Z","o":1,"h":1,"l":1,"c":1,"v":1,"n":1,"vw":1}]`)
	}
	return b, nil
}

func (o *fakeOrigin) OptionChain(_ context.Context, underlying string, p alpaca.ChainParams, _ bool) (alpaca.Chain, error) {
	o.calls.Add(1)
	o.mu.Lock()
	o.lastChain = p
	o.mu.Unlock()
	return alpaca.Chain{Snapshots: map[string]json.RawMessage{underlying + "261127C00600000": json.RawMessage(`{}`)},
		Source: "alpaca/" + p.Feed}, nil
}

func (o *fakeOrigin) chainParams() alpaca.ChainParams {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastChain
}

// bed is the API handler over a real two-level cache, its L2 an in-process
// Redis (miniredis), its origin a fakeOrigin, its clock stopped in the
// regular session.
type bed struct {
	h      *api.Handler
	mr     *miniredis.Miniredis
	origin *fakeOrigin
}

func newBed(tb testing.TB) *bed {
	tb.Helper()
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(mr.Close)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	tb.Cleanup(func() { _ = rdb.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := cache.New(cache.Options{Redis: rdb, Clock: market.NewManualClock(regular), Logger: quiet})
	o := &fakeOrigin{}
	return &bed{h: api.New(api.Config{Cache: c, Origin: o, Logger: quiet}), mr: mr, origin: o}
}

// event is a payload-2.0 event as API Gateway sends it.
func event(method, path, rawQuery string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, RawQueryString: rawQuery, Headers: headers}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	return ev
}

// get serves GET path?rawQuery.
func (b *bed) get(tb testing.TB, path, rawQuery string) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	resp, err := b.h.Handle(context.Background(), event("GET", path, rawQuery, nil))
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

// calls is how many times the origin has been called.
func (b *bed) calls() int64 { return b.origin.calls.Load() }

// keys is how many keys the L2 holds.
func (b *bed) keys() int { return len(b.mr.Keys()) }

// checkErrorShape fails unless an error answer is Alpaca's shape, as JSON:
// {"code": N, "message": "..."} where N begins with the status.
func checkErrorShape(t *testing.T, status int, headers map[string]string, body string) {
	t.Helper()
	if ct := headers["Content-Type"]; ct != "application/json" {
		t.Fatalf("%d: Content-Type %q, want application/json", status, ct)
	}
	var e struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code == nil || e.Message == nil {
		t.Fatalf("%d: body is not Alpaca's error shape: %s", status, body)
	}
	if *e.Code/100000 != status {
		t.Fatalf("%d: code %d does not begin with the status", status, *e.Code)
	}
}
