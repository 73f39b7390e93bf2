// Package api turns API Gateway HTTP API (payload 2.0) requests into cache
// reads and Alpaca-compatible responses with source attribution
// (docs/design.md, "The API").
//
// A handler validates everything before any cache or origin work; maps
// failures to HTTP statuses at this edge only (never a 500 for a known
// failure, never an internal message in a body); and answers with Alpaca's
// bodies, byte for byte, plus the attribution headers and, on multi-symbol
// routes, the additive "meta" and "errors" keys.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// Origin is the part of the Alpaca client the API calls (*alpaca.Client).
type Origin interface {
	// Latest answers a multi-symbol route per symbol.
	Latest(ctx context.Context, call alpaca.LatestCall, symbols []string) (alpaca.Multi, error)
	// GetPage answers one request with its body as it came.
	GetPage(ctx context.Context, endpoint, path, query, feed string, raw bool) (alpaca.Page, error)
}

// Recorder receives the API's metrics (*metrics.Recorder).
type Recorder interface {
	APIRequest(route string, status int, d time.Duration)
	DataAge(dataType metrics.DataType, age time.Duration)
	Batch(size int, d time.Duration)
}

// WindowFeed tallies hits and misses per data type into the per-minute
// windows the prefetch optimizer reads (*hitrate.WindowFeed).
type WindowFeed interface {
	Observe(dataType string, hit bool, latency time.Duration)
}

// HotFeed counts requested stock symbols for prefetch (*hotset.Feed).
type HotFeed interface {
	Bump(symbols ...string)
}

// Config wires a Handler.
type Config struct {
	Cache      *cache.Cache
	Origin     Origin
	Clock      market.Clock     // nil: market.SystemClock; give the cache's
	Calendar   *market.Calendar // nil: market.Default(); give the cache's
	Recorder   Recorder         // nil: none
	Hot        HotFeed          // nil: none
	Windows    WindowFeed       // nil: none
	Logger     *slog.Logger     // nil: slog.Default()
	StockFeed  string           // the origin client's default stock feed, default "iex"
	OptionFeed string           // the origin client's default option feed, default "indicative"
}

// Handler serves the API. It is safe for concurrent use.
type Handler struct {
	cache      *cache.Cache
	origin     Origin
	clock      market.Clock
	cal        *market.Calendar
	rec        Recorder
	hot        HotFeed
	win        WindowFeed
	log        *slog.Logger
	stockFeed  string
	optionFeed string
}

// New returns a Handler.
func New(c Config) *Handler {
	h := &Handler{cache: c.Cache, origin: c.Origin, clock: c.Clock, cal: c.Calendar, rec: c.Recorder, hot: c.Hot,
		win: c.Windows, log: c.Logger, stockFeed: c.StockFeed, optionFeed: c.OptionFeed}
	if h.clock == nil {
		h.clock = market.SystemClock
	}
	if h.cal == nil {
		h.cal = market.Default()
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.stockFeed == "" {
		h.stockFeed = alpaca.DefaultStockFeed
	}
	if h.optionFeed == "" {
		h.optionFeed = alpaca.DefaultOptionFeed
	}
	return h
}

// request is one request in flight.
type request struct {
	ctx   context.Context
	ev    *events.APIGatewayV2HTTPRequest
	rt    *catalog.Route
	q     query
	param string    // the path parameter ({symbol}, {underlying}, ...), raw
	now   time.Time // on the handler's clock
	start time.Time // wall clock, for latencies
}

// Handle serves one API Gateway request. It returns an error only if ctx is
// already done before any work; every other outcome is a response.
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	start := time.Now()
	p := path(&ev)
	id, param, known := catalog.Match(p)
	name := routeName(id, known, p)
	defer func() {
		if v := recover(); v != nil {
			h.log.ErrorContext(ctx, "api: panic", "route", name, "panic", v)
			resp = ErrorResponse(http.StatusInternalServerError, "internal error")
		}
		resp = compress(&ev, resp)
		if h.rec != nil {
			h.rec.APIRequest(name, resp.StatusCode, time.Since(start))
		}
		h.logRequest(ctx, &ev, name, resp, time.Since(start))
	}()
	if refusal, refused := refuse(&ev, known, p); refused {
		return refusal, nil
	}
	q, err := parseQuery(ev.RawQueryString)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	r := &request{ctx: ctx, ev: &ev, q: q, param: param, now: h.clock.Now(), start: start}
	if !known {
		return h.passThrough(r, p), nil
	}
	r.rt = &catalog.Routes[id]
	return h.serve(r), nil
}

// Route names of requests no catalog row matches.
const (
	RoutePassThrough = "pass_through"
	RouteNotFound    = "not_found"
)

// routeName is the metrics and log name of a request's route.
func routeName(id catalog.ID, known bool, p string) string {
	switch {
	case known:
		return catalog.Routes[id].Path
	case catalog.UnderAPI(p):
		return RoutePassThrough
	}
	return RouteNotFound
}

// refuse answers what no route may serve: a path outside the API, a method
// other than GET, oversized headers.
func refuse(ev *events.APIGatewayV2HTTPRequest, known bool, p string) (events.APIGatewayV2HTTPResponse, bool) {
	switch {
	case !known && !catalog.UnderAPI(p):
		return ErrorResponse(http.StatusNotFound, "endpoint not found"), true
	case method(ev) != http.MethodGet:
		r := ErrorResponse(http.StatusMethodNotAllowed, "method not allowed: use GET")
		r.Headers["Allow"] = http.MethodGet
		return r, true
	case headerBytes(ev) > MaxHeaderBytes:
		return ErrorResponse(http.StatusRequestHeaderFieldsTooLarge, "request headers too large"), true
	}
	return events.APIGatewayV2HTTPResponse{}, false
}

// serve answers a catalog route through its shape's path.
func (h *Handler) serve(r *request) events.APIGatewayV2HTTPResponse {
	switch r.rt.Shape {
	case catalog.Latest:
		if r.rt.Multi() {
			return h.latestMulti(r)
		}
		return h.latestOne(r)
	case catalog.Page:
		return h.page(r)
	}
	if r.rt.Path == catalog.PathHealth {
		return h.health(r)
	}
	return h.marketStatus(r)
}

// MaxHeaderBytes bounds a request's header names and values, as API
// Gateway's HTTP API does (10 KiB).
const MaxHeaderBytes = 10 << 10

func headerBytes(ev *events.APIGatewayV2HTTPRequest) int {
	n := 0
	for k, v := range ev.Headers {
		n += len(k) + len(v)
	}
	return n
}

func path(ev *events.APIGatewayV2HTTPRequest) string {
	if ev.RawPath != "" {
		return ev.RawPath
	}
	return ev.RequestContext.HTTP.Path
}

func method(ev *events.APIGatewayV2HTTPRequest) string {
	if m := ev.RequestContext.HTTP.Method; m != "" {
		return strings.ToUpper(m)
	}
	return http.MethodGet
}

func (h *Handler) logRequest(ctx context.Context, ev *events.APIGatewayV2HTTPRequest, rt string, resp events.APIGatewayV2HTTPResponse, d time.Duration) {
	lvl := slog.LevelInfo
	if resp.StatusCode >= 500 {
		lvl = slog.LevelWarn
	}
	if !h.log.Enabled(ctx, lvl) {
		return
	}
	keyID := ""
	if a := ev.RequestContext.Authorizer; a != nil {
		if s, ok := a.Lambda["key_id"].(string); ok {
			keyID = s
		}
	}
	// The record goes to the handler directly: Logger.LogAttrs would also
	// walk the stack for the caller's PC, which no handler here prints. It
	// carries the request id and route itself, so it is handled without
	// ctx, whose values a context handler would otherwise search, layer by
	// layer, for the same two fields.
	r := slog.NewRecord(time.Now(), lvl, "request", 0)
	r.AddAttrs(
		slog.String("request_id", ev.RequestContext.RequestID),
		slog.String("route", rt),
		slog.Int("status", resp.StatusCode),
		slog.String("cache", resp.Headers[HeaderCache]),
		slog.Float64("latency_ms", float64(d.Microseconds())/1000),
		slog.String("key_id", keyID),
	)
	_ = h.log.Handler().Handle(context.Background(), r)
}
