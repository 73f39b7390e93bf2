package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHandlerRefusalCodesBeginWithTheStatus: every refusal of the handler
// is Alpaca's shape with a code that begins with its status, 431 included.
func TestHandlerRefusalCodesBeginWithTheStatus(t *testing.T) {
	b := newBed(t)
	big := map[string]string{}
	for i := range 2000 {
		big[fmt.Sprintf("x-h-%d", i)] = "v"
	}
	cases := []struct {
		method, path, query string
		hdr                 map[string]string
		status              int
	}{
		{"GET", "/v2/stocks/A$/quotes/latest", "", nil, 400},
		{"GET", "/nothing", "", nil, 404},
		{"GET", "/v2/x/../y", "", nil, 400},
		{"POST", "/v2/stocks/AAPL/quotes/latest", "", nil, 405},
		{"GET", "/v2/stocks/AAPL/quotes/latest", "", big, 431},
	}
	for _, c := range cases {
		r, err := b.h.Handle(t.Context(), event(c.method, c.path, c.query, c.hdr))
		if err != nil || r.StatusCode != c.status {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, r.StatusCode, err, c.status)
			continue
		}
		checkErrorShape(t, r.StatusCode, r.Headers, r.Body)
	}
	if b.calls() != 0 || b.keys() != 0 {
		t.Fatalf("refusals made %d origin calls and wrote %d keys", b.calls(), b.keys())
	}
}

// TestOversizeRequestsOverHTTPAreJSON: through the local gateway, a query
// or header block over API Gateway's quota is refused in Alpaca's JSON
// shape, whatever its size, and touches neither Redis nor the origin.
func TestOversizeRequestsOverHTTPAreJSON(t *testing.T) {
	s := newStack(t)
	for _, n := range []int{11 << 10, 15 << 10, 17 << 10, 100 << 10} {
		resp, body := s.get(t, "/v2/stocks/quotes/latest?symbols=AAPL&pad="+strings.Repeat("x", n))
		checkHTTPRefusal(t, fmt.Sprintf("%d-byte query", n), resp, body)
	}
	req, _ := http.NewRequest("GET", s.srv.URL+"/v2/stocks/AAPL/quotes/latest", nil)
	for i := range 2000 {
		req.Header.Set(fmt.Sprintf("X-H-%d", i), strings.Repeat("v", 8))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkHTTPRefusal(t, "2000 headers", resp, string(body))
	if ks := s.keys(t); len(ks) != 0 {
		t.Fatalf("oversize requests created keys: %v", ks)
	}
	if n := s.sim.Stats().TotalRequests; n != 0 {
		t.Fatalf("oversize requests reached the origin %d times", n)
	}
}

// checkHTTPRefusal fails unless resp is a 4xx in Alpaca's error shape.
func checkHTTPRefusal(t *testing.T, name string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("%s: %d, want a 4xx (%.80s)", name, resp.StatusCode, body)
		return
	}
	h := map[string]string{"Content-Type": resp.Header.Get("Content-Type")}
	checkErrorShape(t, resp.StatusCode, h, body)
}
