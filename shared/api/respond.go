package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/budget"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/jsonenc"
	"github.com/opitios/opitios-alpaca/shared/market"
)

type response = events.APIGatewayV2HTTPResponse

// Attribution headers (docs/design.md, "The API").
const (
	HeaderCache         = "X-Cache"
	HeaderDataSource    = "X-Data-Source"
	HeaderMarketSession = "X-Market-Session"
)

// X-Cache values.
const (
	CacheHitL1 = "HIT-L1"
	CacheHitL2 = "HIT-L2"
	CacheMiss  = "MISS"
	CacheMixed = "MIXED"
)

// Alpaca-style error codes of this service's own errors.
const (
	codeBadRequest  = 40010001
	codeInternal    = 50010000
	codeBadGateway  = 50210000
	codeUnavailable = 50310000
)

// codeFor is the Alpaca-style code of a status: its own constant above,
// else, for any other 4xx, the status followed by 10000 (431 -> 43110000),
// so a code always begins with its status.
func codeFor(status int) int {
	switch status {
	case http.StatusBadRequest:
		return codeBadRequest
	case http.StatusBadGateway:
		return codeBadGateway
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return codeUnavailable
	}
	if status >= 400 && status < 500 {
		return status*100000 + 10000
	}
	return codeInternal
}

// ErrorResponse is a refusal in Alpaca's error shape, {"code": N,
// "message": "..."}, never cached. Every refusal of the API, and of the
// local gateway in front of it, is built here.
func ErrorResponse(status int, msg string) events.APIGatewayV2HTTPResponse {
	b := make([]byte, 0, 64+len(msg))
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(codeFor(status)), 10)
	b = append(b, `,"message":`...)
	b = jsonenc.AppendString(b, msg)
	b = append(b, '}')
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}

// classify maps an error to a status, a client message and, for 503s, a
// Retry-After in whole seconds. Messages never carry internal details.
//
// The origin's refusals are told apart by the alpaca package: a refusal
// under the account's plan or feed is the client's answer, 403 with
// Alpaca's own message and no Retry-After (asking again cannot change it);
// a refusal of the service's own credentials is this service's fault, a 502
// whose message names neither the key nor the origin's words.
func classify(err error, now time.Time) (status int, msg string, retryAfter int) {
	var bad *badRequest
	var nf *notFoundError
	var ex *budget.ExhaustedError
	var ae *alpaca.Error
	switch {
	case errors.As(err, &bad):
		return http.StatusBadRequest, bad.msg, 0
	case errors.As(err, &nf):
		return http.StatusNotFound, nf.msg, 0
	case errors.Is(err, cache.ErrNotFound), errors.Is(err, alpaca.ErrNotFound):
		return http.StatusNotFound, "not found", 0
	case errors.As(err, &ex):
		return http.StatusServiceUnavailable, "origin request budget exhausted, retry later", seconds(ex.RetryAfter)
	case errors.As(err, &ae) && errors.Is(err, alpaca.ErrRateLimited):
		wait := ae.RetryAfter
		if !ae.Reset.IsZero() {
			wait = max(wait, ae.Reset.Sub(now))
		}
		return http.StatusServiceUnavailable, "origin rate limit reached, retry later", seconds(wait)
	case errors.Is(err, alpaca.ErrForbidden):
		m := "the origin's plan does not permit this request"
		if ae != nil && ae.Message != "" {
			m = ae.Message
		}
		return http.StatusForbidden, m, 0
	case errors.Is(err, alpaca.ErrUnauthorized):
		return http.StatusBadGateway, "the origin refused this service's own credentials: a fault of this service, not of the request", 0
	case errors.Is(err, alpaca.ErrInvalidRequest):
		m := "the origin rejected the request"
		if ae != nil && ae.Message != "" {
			m += ": " + ae.Message
		}
		return http.StatusBadRequest, m, 0
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "timed out waiting for the origin, retry later", 1
	default:
		// Origin unavailable, an unexpected answer: not the client's
		// fault, and it may pass.
		return http.StatusServiceUnavailable, "origin unavailable, retry later", 1
	}
}

func seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// fail answers a request with the error's status, logging origin trouble
// once here, where it is handled: the origin refusing the service's
// credentials at error level (it fails every request until an operator
// acts), other server-side failures as warnings.
func (h *Handler) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	status, msg, retry := classify(err, h.clock.Now())
	switch {
	case status == http.StatusBadGateway:
		h.log.ErrorContext(ctx, "api: the origin refused the service's credentials", "err", err)
	case status >= 500:
		h.log.WarnContext(ctx, "api: origin failure", "err", err)
	}
	r := ErrorResponse(status, msg)
	if retry > 0 {
		r.Headers["Retry-After"] = strconv.Itoa(retry)
	}
	return r
}

// layerName is the X-Cache value of a result.
func layerName(r cache.Result) string {
	switch r.Layer {
	case cache.LayerL1:
		return CacheHitL1
	case cache.LayerL2:
		return CacheHitL2
	}
	return CacheMiss
}

// attribution computes the headers of a response served from results, all
// reckoned at the instant the cache last found them fresh (Result.At).
type attribution struct {
	cache   string
	sources []string
	age     time.Duration // the oldest
	left    time.Duration // the least freshness left
	at      time.Time
	n       int
}

func (a *attribution) add(r cache.Result) {
	l := layerName(r)
	age, left := r.Entry.Age(r.At), r.Entry.Left(r.At)
	switch {
	case a.n == 0:
		a.cache, a.age, a.left, a.at = l, age, left, r.At
	default:
		if a.cache != l {
			a.cache = CacheMixed
		}
		a.age, a.left = max(a.age, age), min(a.left, left)
		if r.At.After(a.at) {
			a.at = r.At
		}
	}
	if !slices.Contains(a.sources, r.Entry.DataSource) {
		a.sources = append(a.sources, r.Entry.DataSource)
	}
	a.n++
}

// headers returns the response headers. Per RFC 9111, a shared or private
// cache downstream keeps the response while max-age exceeds its current
// age, which starts at the Age header; so Age is the oldest entry's age,
// rounded up to whole seconds, and max-age is Age plus the least freshness
// left, rounded down: max-age − Age never exceeds what any entry has left.
// session is the market session at the instant the results were checked.
func (a *attribution) headers(session market.Session) map[string]string {
	h := map[string]string{
		"Content-Type":      "application/json",
		HeaderMarketSession: string(session),
	}
	if a.n == 0 {
		h["Cache-Control"] = "no-store"
		return h
	}
	slices.Sort(a.sources)
	age := ceilSeconds(a.age)
	h[HeaderCache] = a.cache
	h[HeaderDataSource] = strings.Join(a.sources, ",")
	h["Age"] = strconv.FormatInt(age, 10)
	h["Cache-Control"] = "private, max-age=" + strconv.FormatInt(age+int64(a.left/time.Second), 10)
	return h
}

// ceilSeconds is d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

func ok(body []byte, hdr map[string]string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: hdr, Body: string(body)}
}

// batchError is one entry of a batch's "errors".
type batchError struct {
	status  string
	message string
}

// Batch error statuses (docs/design.md, "The API").
const (
	StatusInvalid  = "invalid"
	StatusNotFound = "not_found"
	StatusFailed   = "failed"
	StatusTimeout  = "timeout"
)

func batchErrorOf(err error, now time.Time) batchError {
	switch {
	case errors.Is(err, cache.ErrNotFound):
		return batchError{StatusNotFound, "unknown symbol"}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return batchError{StatusTimeout, "timed out waiting for the origin"}
	case errors.Is(err, cache.ErrExpired):
		return batchError{StatusTimeout, "expired while waiting for the origin and could not be fetched again in time"}
	}
	_, msg, _ := classify(err, now)
	return batchError{StatusFailed, msg}
}

// appendMeta appends ,"meta":{SYM:{...}} for the served results, in key
// order, each age reckoned at the result's At.
func appendMeta(b []byte, keys []string, res map[string]cache.Result) []byte {
	b = append(b, `,"meta":{`...)
	for i, k := range keys {
		r := res[k]
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, k)
		b = append(b, `:{"source":`...)
		b = jsonenc.AppendString(b, r.Entry.DataSource)
		b = append(b, `,"cache":"`...)
		b = append(b, layerName(r)...)
		b = append(b, `","fetched_at":"`...)
		b = r.Entry.FetchedAt.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","age_ms":`...)
		b = strconv.AppendInt(b, r.Entry.Age(r.At).Milliseconds(), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendErrors appends ,"errors":{SYM:{"status","message"}} in key order;
// nothing when there are none.
func appendErrors(b []byte, errs map[string]batchError) []byte {
	if len(errs) == 0 {
		return b
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, `,"errors":{`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, k)
		b = append(b, `:{"status":`...)
		b = jsonenc.AppendString(b, errs[k].status)
		b = append(b, `,"message":`...)
		b = jsonenc.AppendString(b, errs[k].message)
		b = append(b, '}')
	}
	return append(b, '}')
}
