// Package gateway is a local stand-in for Amazon API Gateway (HTTP API,
// payload format 2.0): it turns each HTTP request into the event API Gateway
// would send, applies a Lambda authorizer with simple responses first, runs
// the handler in-process, and writes its response back.
//
// It is what `make run` serves and what the end-to-end tests drive, so the
// handlers run exactly as in Lambda, only without the network hop.
//
// Every answer the gateway gives of its own (no route, no or refused
// credentials, a request over API Gateway's size quota, a failed handler)
// is Alpaca's error shape, {"code": N, "message": "..."} with Content-Type
// application/json, as the handler's own refusals are, so a client parses
// one shape whoever refused it. N is the status followed by 10000
// (404 -> 40410000).
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// Handler is a Lambda handler of HTTP API events.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Authorizer is a Lambda authorizer with simple responses.
type Authorizer func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error)

// Identity sources of the authorizer, as the stack declares them.
var IdentityHeaders = []string{"apca-api-key-id", "apca-api-secret-key"}

// Gateway serves routes through a handler. Routes are templates such as
// "/v2/stocks/{symbol}/bars"; every method reaches the handler (which
// answers 405 where it must), as an ANY route would.
type Gateway struct {
	Routes     []string
	Public     map[string]bool // templates served without the authorizer
	Handler    Handler
	Authorizer Authorizer   // nil: no authorization
	APIID      string       // default "local"
	Clock      market.Clock // default market.SystemClock
	MaxBody    int64        // default 1 MiB
	// AuthorizerCacheTTL is how long a verdict of the authorizer (allow or
	// deny, never a failure) is reused for the same identity source values,
	// as API Gateway's authorizer result caching does (the stack's
	// ResultsCacheTtl); 0 calls the authorizer for every request.
	AuthorizerCacheTTL time.Duration

	verdicts verdictCache
}

// maxBody caps a request body.
const maxBody = 1 << 20

// MaxRequestBytes is API Gateway's quota on a request's request line and
// headers together (HTTP API: 10 KiB). The gateway refuses a larger request
// before any authorizer or handler runs: 414 when the request line alone is
// over it, else 431.
const MaxRequestBytes = 10 << 10

// ServerMaxHeaderBytes is the http.Server MaxHeaderBytes to serve a Gateway
// with: far above MaxRequestBytes, so that an oversize request reaches the
// Gateway and is refused in Alpaca's error shape. net/http answers a request
// beyond it itself, in plain text, before any handler sees it.
const ServerMaxHeaderBytes = 1 << 20

func (g *Gateway) now() time.Time {
	if g.Clock != nil {
		return g.Clock.Now()
	}
	return market.SystemClock.Now()
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if status, msg := tooLarge(r); status != 0 {
		writeMessage(w, status, msg)
		return
	}
	rawPath := r.URL.EscapedPath()
	tmpl, params, ok := g.match(rawPath)
	if !ok {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	ev := g.event(r, rawPath, tmpl, params)
	ctx := r.Context()
	if g.Authorizer != nil && !g.Public[tmpl] {
		status, msg := g.authorize(ctx, r.Method, rawPath, &ev)
		if status != 0 {
			writeMessage(w, status, msg)
			return
		}
	}
	resp, err := g.Handler(ctx, ev)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writeResponse(w, resp)
}

// authorize runs the authorizer for ev as API Gateway does and, when it
// allows the request, sets its context on ev. Otherwise it returns the
// refusal's status and message: 401 without calling the authorizer when an
// identity header is missing, 403 when the authorizer denies, 500 when it
// fails.
func (g *Gateway) authorize(ctx context.Context, method, rawPath string, ev *events.APIGatewayV2HTTPRequest) (status int, msg string) {
	ids := make([]string, 0, len(IdentityHeaders))
	for _, h := range IdentityHeaders {
		v := ev.Headers[h]
		if v == "" {
			return http.StatusUnauthorized, "Unauthorized"
		}
		ids = append(ids, v)
	}
	key := strings.Join(ids, "\x00")
	res, ok := g.verdicts.get(key, g.now())
	if !ok {
		var err error
		if res, err = g.callAuthorizer(ctx, method, rawPath, ids, ev); err != nil {
			return http.StatusInternalServerError, "Internal Server Error"
		}
		if g.AuthorizerCacheTTL > 0 {
			g.verdicts.put(key, res, g.now().Add(g.AuthorizerCacheTTL))
		}
	}
	if !res.IsAuthorized {
		return http.StatusForbidden, "Forbidden"
	}
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: res.Context}
	return 0, ""
}

// callAuthorizer invokes the authorizer with the request API Gateway would
// send it for ev.
func (g *Gateway) callAuthorizer(ctx context.Context, method, rawPath string, ids []string, ev *events.APIGatewayV2HTTPRequest) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	return g.Authorizer(ctx, events.APIGatewayV2CustomAuthorizerV2Request{
		Version:               "2.0",
		Type:                  "REQUEST",
		RouteArn:              "arn:aws:execute-api:local:000000000000:" + g.apiID() + "/$default/" + method + rawPath,
		IdentitySource:        ids,
		RouteKey:              ev.RouteKey,
		RawPath:               ev.RawPath,
		RawQueryString:        ev.RawQueryString,
		Cookies:               ev.Cookies,
		Headers:               ev.Headers,
		QueryStringParameters: ev.QueryStringParameters,
		RequestContext:        ev.RequestContext,
		PathParameters:        ev.PathParameters,
	})
}

// maxVerdicts bounds the verdict cache: past it, the cache starts afresh.
const maxVerdicts = 10000

// verdictCache holds the authorizer's verdicts by identity source values
// until their expiry. It is safe for concurrent use; the zero value is
// empty.
type verdictCache struct {
	mu sync.Mutex
	m  map[string]cachedVerdict
}

type cachedVerdict struct {
	res   events.APIGatewayV2CustomAuthorizerSimpleResponse
	until time.Time
}

func (c *verdictCache) get(key string, now time.Time) (events.APIGatewayV2CustomAuthorizerSimpleResponse, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if !ok || !now.Before(v.until) {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, false
	}
	return v.res, true
}

func (c *verdictCache) put(key string, res events.APIGatewayV2CustomAuthorizerSimpleResponse, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVerdicts {
		c.m = make(map[string]cachedVerdict)
	}
	c.m[key] = cachedVerdict{res: res, until: until}
}

// writeResponse writes a handler's response: its headers, cookies, status
// (0 is 200) and body, decoded when base64-encoded.
func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// tooLarge checks r against MaxRequestBytes: the request line
// (method, target, protocol) plus every header name and value, Host
// included. It returns 0 when r is within it.
func tooLarge(r *http.Request) (status int, msg string) {
	line := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto)
	if line > MaxRequestBytes {
		return http.StatusRequestURITooLong, "request line too long: at most " + strconv.Itoa(MaxRequestBytes) + " bytes with the headers"
	}
	n := line + len("host") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	if n > MaxRequestBytes {
		return http.StatusRequestHeaderFieldsTooLarge, "request line and headers too large: at most " + strconv.Itoa(MaxRequestBytes) + " bytes"
	}
	return 0, ""
}

func (g *Gateway) apiID() string {
	if g.APIID != "" {
		return g.APIID
	}
	return "local"
}

// match finds the route template of a path and its path parameters. A
// template ending in /{proxy+} matches every longer path under its prefix;
// list it after the templates it must not shadow.
func (g *Gateway) match(path string) (string, map[string]string, bool) {
	for _, t := range g.Routes {
		if greedy, ok := strings.CutSuffix(t, "/{proxy+}"); ok {
			if strings.HasPrefix(path, greedy+"/") && len(path) > len(greedy)+1 {
				return t, map[string]string{"proxy": path[len(greedy)+1:]}, true
			}
			continue
		}
		if params, ok := matchTemplate(t, path); ok {
			return t, params, true
		}
	}
	return "", nil, false
}

// matchTemplate matches path against the template t, segment by segment: a
// {name} segment takes any non-empty segment as the parameter name, any
// other must be equal. The parameters' map is made only for a match.
func matchTemplate(t, path string) (map[string]string, bool) {
	n := strings.Count(t, "/")
	if n != strings.Count(path, "/") {
		return nil, false
	}
	type param struct{ name, value string }
	var found []param
	for range n + 1 {
		var ts, ps string
		ts, t, _ = strings.Cut(t, "/")
		ps, path, _ = strings.Cut(path, "/")
		if len(ts) >= 2 && ts[0] == '{' && ts[len(ts)-1] == '}' {
			if ps == "" {
				return nil, false
			}
			found = append(found, param{ts[1 : len(ts)-1], ps})
			continue
		}
		if ts != ps {
			return nil, false
		}
	}
	if len(found) == 0 {
		return nil, true
	}
	params := make(map[string]string, len(found))
	for _, p := range found {
		params[p.name] = p.value
	}
	return params, true
}

// event builds the payload-2.0 event API Gateway would send.
func (g *Gateway) event(r *http.Request, rawPath, tmpl string, params map[string]string) events.APIGatewayV2HTTPRequest {
	now := g.now()
	headers, qsp := eventHeaders(r), eventQuery(r)
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.String())
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              r.Method + " " + tmpl,
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: qsp,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     r.Method + " " + tmpl,
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    requestID(),
			APIID:        g.apiID(),
			DomainName:   r.Host,
			DomainPrefix: domainPrefix(r.Host),
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  r.Proto,
				SourceIP:  ip,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if r.Body != nil && r.ContentLength != 0 {
		limit := g.MaxBody
		if limit <= 0 {
			limit = maxBody
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, limit))
		ev.Body = base64.StdEncoding.EncodeToString(b)
		ev.IsBase64Encoded = true
	}
	return ev
}

// eventHeaders are r's headers as API Gateway passes them: names in lower
// case, repeated values joined with commas, cookies apart, Host included.
func eventHeaders(r *http.Request) map[string]string {
	headers := make(map[string]string, len(r.Header))
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	return headers
}

// eventQuery is r's query as API Gateway's queryStringParameters: repeated
// values joined with commas; nil when there is none.
func eventQuery(r *http.Request) map[string]string {
	q := r.URL.Query()
	if len(q) == 0 {
		return nil
	}
	qsp := make(map[string]string, len(q))
	for k, vs := range q {
		qsp[k] = strings.Join(vs, ",")
	}
	return qsp
}

// domainPrefix is the first label of host.
func domainPrefix(host string) string {
	p, _, _ := strings.Cut(host, ".")
	return p
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeMessage writes one of the gateway's own refusals as the API writes
// its own (api.ErrorResponse).
func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeResponse(w, api.ErrorResponse(status, msg))
}
