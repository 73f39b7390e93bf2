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
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// Origin is the part of the Alpaca client the API calls (*alpaca.Client).
type Origin interface {
	LatestStockQuotes(ctx context.Context, symbols []string, feed string) (alpaca.Multi, error)
	StockBars(ctx context.Context, symbols []string, p alpaca.BarParams, allPages bool) (alpaca.Bars, error)
	LatestOptionQuotes(ctx context.Context, symbols []string, feed string) (alpaca.Multi, error)
	OptionSnapshots(ctx context.Context, symbols []string, feed string) (alpaca.Multi, error)
	OptionChain(ctx context.Context, underlying string, p alpaca.ChainParams, allPages bool) (alpaca.Chain, error)
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
	Recorder   Recorder     // nil: none
	Hot        HotFeed      // nil: none
	Windows    WindowFeed   // nil: none
	Logger     *slog.Logger // nil: slog.Default()
	StockFeed  string       // the origin client's default stock feed, default "iex"
	OptionFeed string       // the origin client's default option feed, default "indicative"
}

// Handler serves the API. It is safe for concurrent use.
type Handler struct {
	cache      *cache.Cache
	origin     Origin
	rec        Recorder
	hot        HotFeed
	win        WindowFeed
	log        *slog.Logger
	stockFeed  string
	optionFeed string
}

// New returns a Handler.
func New(c Config) *Handler {
	h := &Handler{cache: c.Cache, origin: c.Origin, rec: c.Recorder, hot: c.Hot, win: c.Windows, log: c.Logger,
		stockFeed: c.StockFeed, optionFeed: c.OptionFeed}
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
	q     query
	param string    // the path parameter ({symbol} or {underlying}), raw
	now   time.Time // on the cache's clock
	start time.Time // wall clock, for latencies
}

// Handle serves one API Gateway request. It returns an error only if ctx is
// already done before any work; every other outcome is a response.
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	start := time.Now()
	rt, param, allowed := match(path(&ev))
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "api: panic", "route", rt.name, "panic", p)
			resp = ErrorResponse(http.StatusInternalServerError, "internal error")
		}
		if h.rec != nil {
			h.rec.APIRequest(rt.name, resp.StatusCode, time.Since(start))
		}
		h.logRequest(ctx, &ev, rt.name, resp, time.Since(start))
	}()
	switch {
	case rt.serve == nil && !allowed:
		return ErrorResponse(http.StatusNotFound, "route not found"), nil
	case method(&ev) != http.MethodGet:
		r := ErrorResponse(http.StatusMethodNotAllowed, "method not allowed: use GET")
		r.Headers["Allow"] = http.MethodGet
		return r, nil
	}
	if headerBytes(&ev) > MaxHeaderBytes {
		return ErrorResponse(http.StatusRequestHeaderFieldsTooLarge, "request headers too large"), nil
	}
	q, err := parseQuery(ev.RawQueryString)
	if err != nil {
		return h.fail(ctx, err), nil
	}
	r := &request{ctx: ctx, ev: &ev, q: q, param: param, now: h.cache.Now(), start: start}
	return rt.serve(h, r), nil
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

// route is one API route.
type route struct {
	name  string // the route template, the Route metric dimension
	serve func(*Handler, *request) events.APIGatewayV2HTTPResponse
}

// Route templates, as in the README's API table and the CDK stack.
const (
	RouteStockQuote      = "/v2/stocks/{symbol}/quotes/latest"
	RouteStockQuotes     = "/v2/stocks/quotes/latest"
	RouteStockBars       = "/v2/stocks/{symbol}/bars"
	RouteStocksBars      = "/v2/stocks/bars"
	RouteOptionQuotes    = "/v1beta1/options/quotes/latest"
	RouteOptionSnapshots = "/v1beta1/options/snapshots"
	RouteOptionChain     = "/v1beta1/options/snapshots/{underlying}"
	RouteMarketStatus    = "/v1/market/status"
	RouteHealth          = "/healthz"
	RouteNotFound        = "not_found"
)

// Routes lists every route template, for the stack and the local gateway.
var Routes = []string{RouteStockQuote, RouteStockQuotes, RouteStockBars, RouteStocksBars,
	RouteOptionQuotes, RouteOptionSnapshots, RouteOptionChain, RouteMarketStatus, RouteHealth}

var (
	routeStockQuote      = route{RouteStockQuote, (*Handler).stockQuote}
	routeStockQuotes     = route{RouteStockQuotes, (*Handler).stockQuotes}
	routeStockBars       = route{RouteStockBars, (*Handler).stockBars}
	routeStocksBars      = route{RouteStocksBars, (*Handler).stocksBars}
	routeOptionQuotes    = route{RouteOptionQuotes, (*Handler).optionQuotes}
	routeOptionSnapshots = route{RouteOptionSnapshots, (*Handler).optionSnapshots}
	routeOptionChain     = route{RouteOptionChain, (*Handler).optionChain}
	routeMarketStatus    = route{RouteMarketStatus, (*Handler).marketStatus}
	routeHealth          = route{RouteHealth, (*Handler).health}
)

// match finds the route of a path, and its path parameter. allowed is false
// for an unknown path. Matching is literal: no decoding, no dot segments.
func match(p string) (rt route, param string, allowed bool) {
	switch p {
	case RouteStockQuotes:
		return routeStockQuotes, "", true
	case RouteStocksBars:
		return routeStocksBars, "", true
	case RouteOptionQuotes:
		return routeOptionQuotes, "", true
	case RouteOptionSnapshots:
		return routeOptionSnapshots, "", true
	case RouteMarketStatus:
		return routeMarketStatus, "", true
	case RouteHealth:
		return routeHealth, "", true
	}
	if rest, ok := strings.CutPrefix(p, "/v2/stocks/"); ok {
		if sym, ok := strings.CutSuffix(rest, "/quotes/latest"); ok && sym != "" && !strings.Contains(sym, "/") {
			return routeStockQuote, sym, true
		}
		if sym, ok := strings.CutSuffix(rest, "/bars"); ok && sym != "" && !strings.Contains(sym, "/") {
			return routeStockBars, sym, true
		}
	}
	if u, ok := strings.CutPrefix(p, "/v1beta1/options/snapshots/"); ok && u != "" && !strings.Contains(u, "/") {
		return routeOptionChain, u, true
	}
	return route{name: RouteNotFound}, "", false
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
	// walk the stack for the caller's PC, which no handler here prints.
	r := slog.NewRecord(time.Now(), lvl, "request", 0)
	r.AddAttrs(
		slog.String("request_id", ev.RequestContext.RequestID),
		slog.String("route", rt),
		slog.Int("status", resp.StatusCode),
		slog.String("cache", resp.Headers[HeaderCache]),
		slog.Float64("latency_ms", float64(d.Microseconds())/1000),
		slog.String("key_id", keyID),
	)
	_ = h.log.Handler().Handle(ctx, r)
}
