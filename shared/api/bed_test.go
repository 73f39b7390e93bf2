package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
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
// counts its calls and keeps the query of the last page call. It never
// fails, so any error status the API answers is the API's own decision,
// made without the origin.
type fakeOrigin struct {
	calls atomic.Int64

	mu        sync.Mutex
	lastQuery url.Values
}

var _ api.Origin = (*fakeOrigin)(nil)

// latestValue is the fake value of a symbol on a Latest route.
func latestValue(call alpaca.LatestCall) string {
	switch {
	case strings.Contains(call.Path, "snapshots"):
		return `{"latestQuote":{"ap":1.01,"bp":1}}`
	case strings.HasPrefix(call.Path, "/v1beta1/options/"):
		return `{"ap":1.01,"as":1,"bp":1,"bs":1,"c":"A","t":"2026-11-25T19:00:00Z"}`
	}
	return `{"ap":1.01,"as":1,"bp":1,"bs":1,"t":"2026-11-25T19:00:00Z"}`
}

func (o *fakeOrigin) Latest(_ context.Context, call alpaca.LatestCall, symbols []string) (alpaca.Multi, error) {
	o.calls.Add(1)
	m := alpaca.Multi{Values: make(map[string]json.RawMessage, len(symbols)), Source: "alpaca/" + call.Feed}
	for _, s := range symbols {
		m.Values[s] = json.RawMessage(latestValue(call))
	}
	return m, nil
}

const fakeBars = `[{"t":"2026-11-24T05:00:00Z","o":1,"h":1,"l":1,"c":1,"v":1,"n":1,"vw":1}]`

func (o *fakeOrigin) GetPage(_ context.Context, _, path, query, feed string, _ bool) (alpaca.Page, error) {
	o.calls.Add(1)
	q, _ := url.ParseQuery(query)
	o.mu.Lock()
	o.lastQuery = q
	o.mu.Unlock()
	body := `{}`
	switch {
	case path == "/v1beta1/news":
		body = `{"news":[{"id":1,"headline":"` + strings.Repeat("x", 4000) + `"}],"next_page_token":null}`
	case strings.HasPrefix(path, "/v1beta1/options/snapshots/"):
		und := strings.TrimPrefix(path, "/v1beta1/options/snapshots/")
		body = `{"snapshots":{"` + und + `261127C00600000":{}},"next_page_token":null}`
	case path == "/v2/stocks/bars":
		var parts []string
		for _, s := range strings.Split(q.Get("symbols"), ",") {
			parts = append(parts, `"`+s+`":`+fakeBars)
		}
		body = `{"bars":{` + strings.Join(parts, ",") + `},"next_page_token":null}`
	case strings.HasSuffix(path, "/bars"):
		sym := strings.TrimSuffix(strings.TrimPrefix(path, "/v2/stocks/"), "/bars")
		body = `{"bars":` + fakeBars + `,"symbol":"` + sym + `","next_page_token":null}`
	}
	return alpaca.Page{Body: []byte(body), Source: "alpaca/" + feed}, nil
}

// chainParams are the chain filters of the last page call, as the origin
// received them.
func (o *fakeOrigin) chainParams() alpaca.ChainParams {
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.lastQuery
	limit, _ := strconv.Atoi(q.Get("limit"))
	return alpaca.ChainParams{Type: q.Get("type"), StrikeGTE: q.Get("strike_price_gte"), StrikeLTE: q.Get("strike_price_lte"),
		Expiration: q.Get("expiration_date"), ExpirationGTE: q.Get("expiration_date_gte"), ExpirationLTE: q.Get("expiration_date_lte"),
		RootSymbol: q.Get("root_symbol"), UpdatedSince: q.Get("updated_since"), PageToken: q.Get("page_token"),
		Feed: q.Get("feed"), Limit: limit}
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
	clk := market.NewManualClock(regular)
	c := cache.New(cache.Options{Redis: rdb, Clock: clk, Logger: quiet})
	o := &fakeOrigin{}
	return &bed{h: api.New(api.Config{Cache: c, Origin: o, Clock: clk, Logger: quiet}), mr: mr, origin: o}
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
