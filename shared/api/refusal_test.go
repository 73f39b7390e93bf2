package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opitios/opitios-alpaca/dev/gateway"
	"github.com/opitios/opitios-alpaca/dev/logtest"
	"github.com/opitios/opitios-alpaca/dev/promsink"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/logging"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/service"
)

const (
	sipRefusal  = "subscription does not permit querying recent SIP data"
	originKeyID = "AKREFUSALTEST0001"
	originKey   = "origin-secret-never-shown"
)

// countingOrigin is a stub Alpaca that counts the requests it gets and
// answers each with what answer returns for its symbols.
type countingOrigin struct {
	calls  atomic.Int64
	answer atomic.Pointer[func(symbols string) (int, string)]
}

func (o *countingOrigin) set(f func(symbols string) (int, string)) { o.answer.Store(&f) }

func (o *countingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.calls.Add(1)
	status, body := (*o.answer.Load())(r.URL.Query().Get("symbols"))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// quotesOf answers a quotes call with a quote for each symbol.
func quotesOf(symbols string) string {
	var b strings.Builder
	b.WriteString(`{"quotes":{`)
	for i, s := range strings.Split(symbols, ",") {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + s + `":{"ap":1,"bp":1,"t":"2026-11-25T19:00:00Z"}`)
	}
	b.WriteString(`}}`)
	return b.String()
}

type refusalStack struct {
	origin *countingOrigin
	svc    *service.Service
	srv    *httptest.Server
	logs   *logtest.Buffer
	reg    *prometheus.Registry
}

// newRefusalStack is the service over a private Redis (so both cache
// layers are in play) with the counting origin.
func newRefusalStack(t *testing.T) *refusalStack {
	t.Helper()
	o := &countingOrigin{}
	o.set(func(s string) (int, string) { return 200, quotesOf(s) })
	osrv := httptest.NewServer(o)
	t.Cleanup(osrv.Close)
	rs := redistest.StartServer(t)
	logs, reg := &logtest.Buffer{}, prometheus.NewRegistry()
	svc, err := service.New(service.Config{
		Redis:   cache.RedisConfig{URL: "redis://" + rs.Addr, Timeout: time.Second},
		Alpaca:  alpaca.Config{BaseURL: osrv.URL, KeyID: originKeyID, SecretKey: originKey},
		Clock:   market.NewManualClock(regular),
		Logger:  logging.NewLogger(logs, "json", 0),
		Metrics: metrics.New(metrics.Options{Sink: promsink.New(reg)}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	srv := httptest.NewServer(&gateway.Gateway{Routes: catalog.Templates(), Handler: svc.API.Handle})
	t.Cleanup(srv.Close)
	return &refusalStack{origin: o, svc: svc, srv: srv, logs: logs, reg: reg}
}

func (s *refusalStack) get(t *testing.T, pathQuery string) (*http.Response, map[string]json.RawMessage) {
	t.Helper()
	st := &stack{srv: s.srv}
	resp, body := st.get(t, pathQuery)
	return resp, decode(t, body)
}

// refused sums opitios_upstream_requests_total{result="credentials_refused"}.
func (s *refusalStack) refused(t *testing.T) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "opitios_upstream_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == metrics.UpstreamCredentialsRefused.String() {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func errorBody(t *testing.T, m map[string]json.RawMessage) (code int, message string) {
	t.Helper()
	if len(m) != 2 || json.Unmarshal(m["code"], &code) != nil || json.Unmarshal(m["message"], &message) != nil {
		t.Fatalf("not Alpaca's error shape {code, message}: %v", m)
	}
	return code, message
}

// A plan refusal is the client's answer: 403 with Alpaca's message, no
// Retry-After, and nothing cached, so asking twice asks the origin twice.
func TestPlanRefusalIs403WithAlpacasMessageAndNotCached(t *testing.T) {
	s := newRefusalStack(t)
	s.origin.set(func(string) (int, string) { return 403, `{"message":"` + sipRefusal + `"}` })
	for i := 1; i <= 2; i++ {
		resp, m := s.get(t, "/v2/stocks/AAPL/quotes/latest?feed=sip")
		code, msg := errorBody(t, m)
		if resp.StatusCode != http.StatusForbidden || code != 40310000 || msg != sipRefusal {
			t.Fatalf("request %d: %d %d %q, want 403 40310000 %q", i, resp.StatusCode, code, msg, sipRefusal)
		}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			t.Fatalf("request %d: Retry-After %q on a refusal", i, ra)
		}
		if n := s.origin.calls.Load(); n != int64(i) {
			t.Fatalf("after request %d: %d origin calls, want %d (a refusal was cached or retried)", i, n, i)
		}
	}
	if s.refused(t) != 0 {
		t.Fatal("a plan refusal was counted as a credential refusal")
	}
}

// The service's own credentials refused is a server fault: 502 without the
// key or the origin's words, logged at error level, counted, not cached.
func TestCredentialRefusalIs502LoggedCountedAndNotCached(t *testing.T) {
	for _, answer := range []struct {
		status int
		body   string
	}{
		{401, `{"message":"unauthorized."}`},
		{403, `{"message":"forbidden."}`},
		{403, `<html><head><title>403 Forbidden</title></head></html>`},
	} {
		s := newRefusalStack(t)
		s.origin.set(func(string) (int, string) { return answer.status, answer.body })
		for i := 1; i <= 2; i++ {
			resp, m := s.get(t, "/v2/stocks/AAPL/quotes/latest")
			code, msg := errorBody(t, m)
			if resp.StatusCode != http.StatusBadGateway || code != 50210000 || resp.Header.Get("Retry-After") != "" {
				t.Fatalf("%d %s, request %d: %d %d Retry-After %q", answer.status, answer.body, i, resp.StatusCode, code, resp.Header.Get("Retry-After"))
			}
			if strings.Contains(msg, originKeyID) || strings.Contains(msg, originKey) || strings.Contains(msg, "orbidden") || !strings.Contains(msg, "credentials") {
				t.Fatalf("502 message %q", msg)
			}
			if n := s.origin.calls.Load(); n != int64(i) {
				t.Fatalf("after request %d: %d origin calls, want %d", i, n, i)
			}
		}
		if got := s.refused(t); got != 2 {
			t.Errorf("%d %s: credentials_refused counted %v times, want 2", answer.status, answer.body, got)
		}
		logs := s.logs.String()
		if !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, "refused the service's credentials") || strings.Contains(logs, originKey) {
			t.Errorf("%d %s: no error-level line, or the secret is in it:\n%s", answer.status, answer.body, logs)
		}
	}
}

// In a batch, the symbols the origin refuses are listed in "errors" with
// Alpaca's message while the cached ones are served; when nothing can be
// served the whole answer is the refusal.
func TestBatchRefusalIsListedPerSymbol(t *testing.T) {
	s := newRefusalStack(t)
	if resp, _ := s.get(t, "/v2/stocks/quotes/latest?symbols=MSFT"); resp.StatusCode != 200 {
		t.Fatalf("warming MSFT: %d", resp.StatusCode)
	}
	s.origin.set(func(string) (int, string) { return 403, `{"message":"` + sipRefusal + `"}` })
	resp, m := s.get(t, "/v2/stocks/quotes/latest?symbols=MSFT,AAPL")
	var errs map[string]struct{ Status, Message string }
	if err := json.Unmarshal(m["errors"], &errs); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d errors %s: %v", resp.StatusCode, m["errors"], err)
	}
	if e := errs["AAPL"]; len(errs) != 1 || e.Status != api.StatusFailed || e.Message != sipRefusal {
		t.Fatalf("errors %+v, want AAPL failed with Alpaca's message", errs)
	}
	if !strings.Contains(string(m["quotes"]), `"MSFT"`) {
		t.Fatalf("MSFT not served: %s", m["quotes"])
	}
	resp, m = s.get(t, "/v2/stocks/quotes/latest?symbols=AAPL,IBM")
	if _, msg := errorBody(t, m); resp.StatusCode != http.StatusForbidden || msg != sipRefusal {
		t.Fatalf("batch with nothing served: %d %q", resp.StatusCode, msg)
	}
	if n := s.origin.calls.Load(); n != 3 {
		t.Fatalf("%d origin calls, want 3 (one per request)", n)
	}
}
