package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
)

// CacheBypass is the X-Cache value of a response passed through uncached.
const CacheBypass = "BYPASS"

// maxPassThroughPath bounds the path of a passed-through request.
const maxPassThroughPath = 512

// passThrough forwards a GET under the API's version prefixes that no
// catalog route matches, uncached: a route Alpaca adds works the day it
// ships. The path must be plain (printable ASCII without '%', no empty or
// dot segments) and the query is re-encoded from its parsed form, so
// nothing unvalidated reaches the origin. The call counts against the
// origin budget like any other.
func (h *Handler) passThrough(r *request, p string) response {
	if !plainPath(p) {
		return h.fail(r.ctx, badf("invalid path"))
	}
	vals := make(url.Values, len(r.q))
	for k, v := range r.q {
		if !validText(k) || (v != "" && !validText(v)) {
			return h.fail(r.ctx, badf("invalid query parameter %s", excerpt(k)))
		}
		vals[k] = []string{v}
	}
	pg, err := h.origin.GetPage(r.ctx, RoutePassThrough, p, vals.Encode(), "", true)
	if err != nil {
		var ae *alpaca.Error
		if errors.As(err, &ae) && errors.Is(err, alpaca.ErrNotFound) && ae.Message != "" {
			return ErrorResponse(http.StatusNotFound, ae.Message)
		}
		return h.fail(r.ctx, err)
	}
	hdr := map[string]string{
		"Content-Type":      "application/json",
		"Cache-Control":     "no-store",
		HeaderCache:         CacheBypass,
		HeaderDataSource:    pg.Source,
		HeaderMarketSession: string(h.cal.SessionAt(r.now)),
	}
	if !json.Valid(pg.Body) {
		hdr["Content-Type"] = "application/octet-stream"
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: hdr,
			Body: base64.StdEncoding.EncodeToString(pg.Body), IsBase64Encoded: true}
	}
	return ok(pg.Body, hdr)
}

// plainPath reports whether p is a path that may be forwarded as it is.
func plainPath(p string) bool {
	if len(p) > maxPassThroughPath || !strings.HasPrefix(p, "/") {
		return false
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; c <= ' ' || c >= 0x7f || c == '%' || c == '\\' {
				return false
			}
		}
	}
	return true
}
