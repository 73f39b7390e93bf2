package api

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
)

// MinGzipBytes is the smallest body compressed for a client that accepts
// gzip. Alpaca compresses bodies over 256 bytes; below a kilobyte the
// saving is a few hundred bytes, less than the work of compressing on a
// hit, so small answers (a quote, an error) go as they are.
const MinGzipBytes = 1024

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// compress gzips a successful JSON response of at least MinGzipBytes for a
// client whose Accept-Encoding allows gzip, returned as API Gateway's
// base64 body with Content-Encoding: gzip. Every other response is
// returned as it is, with Vary: Accept-Encoding on those that could have
// been compressed.
func compress(ev *events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	if resp.StatusCode != http.StatusOK || resp.IsBase64Encoded || len(resp.Body) < MinGzipBytes {
		return resp
	}
	resp.Headers["Vary"] = "Accept-Encoding"
	if !acceptsGzip(ev.Headers) {
		return resp
	}
	var buf bytes.Buffer
	buf.Grow(len(resp.Body) / 4)
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&buf)
	_, _ = w.Write([]byte(resp.Body))
	err := w.Close()
	gzipWriters.Put(w)
	if err != nil {
		return resp
	}
	resp.Body = base64.StdEncoding.EncodeToString(buf.Bytes())
	resp.IsBase64Encoded = true
	resp.Headers["Content-Encoding"] = "gzip"
	return resp
}

// acceptsGzip reports whether an Accept-Encoding header (API Gateway
// lower-cases header names) allows gzip: listed, or *, without q=0.
func acceptsGzip(headers map[string]string) bool {
	v, ok := headers["accept-encoding"]
	if !ok {
		v = headers["Accept-Encoding"]
	}
	for _, part := range strings.Split(v, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		return !strings.HasPrefix(q, "q=0") || strings.HasPrefix(q, "q=0.") && strings.Trim(q[4:], "0") != ""
	}
	return false
}

// binary is a 200 whose body is data, a JSON string of base64 (as stored
// for a binary route), sent as API Gateway's base64 body.
func binary(data []byte, hdr map[string]string) events.APIGatewayV2HTTPResponse {
	body := string(data)
	if len(body) >= 2 {
		body = body[1 : len(body)-1]
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: hdr, Body: body, IsBase64Encoded: true}
}
