package alpaca

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/shared/metrics"
)

const okQuotes = `{"quotes":{"AAPL":{"ap":1}}}`

func TestRateLimitWaitsForResetInsideDeadline(t *testing.T) {
	e := newEnv(t, nil)
	reset := e.clock.Now().Add(2 * time.Second)
	e.handle(script(
		respond(429, `{"code":42910000,"message":"rate limit exceeded"}`,
			"X-RateLimit-Limit", "200", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", epoch(reset)),
		respond(200, okQuotes, "X-RateLimit-Limit", "200", "X-RateLimit-Remaining", "199", "X-RateLimit-Reset", epoch(reset.Add(time.Minute))),
	))
	m, err := e.c.LatestStockQuotes(e.ctx(t, 10*time.Second), []string{"AAPL"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Values["AAPL"]) != `{"ap":1}` {
		t.Errorf("values %v", m.Values)
	}
	if got := e.clock.Sleeps(); !slices.Equal(got, []time.Duration{2 * time.Second}) {
		t.Errorf("sleeps %v, want exactly until the reset [2s]", got)
	}
	if got := e.rec.Results(); !slices.Equal(got, []string{metrics.UpstreamRateLimited.String(), metrics.UpstreamOK.String()}) {
		t.Errorf("recorded %v", got)
	}
	if e.lim.calls.Load() != 2 {
		t.Errorf("limiter called %d times for 2 attempts", e.lim.calls.Load())
	}
	want := RateLimit{Limit: 200, Remaining: 199, Reset: reset.Add(time.Minute)}
	if got := e.c.LastRateLimit(); got != want {
		t.Errorf("LastRateLimit %+v, want %+v", got, want)
	}
	if len(e.rec.rls) != 2 || e.rec.rls[0].Remaining != 0 || e.rec.rls[1] != want {
		t.Errorf("recorded rate limits %+v", e.rec.rls)
	}
}

func TestRetryAfterWinsOverReset(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter func(now time.Time) string
		want       time.Duration
	}{
		{"seconds", func(time.Time) string { return "1" }, time.Second},
		{"http date", func(now time.Time) string { return now.Add(3 * time.Second).UTC().Format(http.TimeFormat) }, 3 * time.Second},
		{"unparseable falls back to reset", func(time.Time) string { return "soon" }, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			now := e.clock.Now()
			e.handle(script(
				respond(429, ``, "Retry-After", tt.retryAfter(now), "X-RateLimit-Reset", epoch(now.Add(5*time.Second))),
				respond(200, okQuotes),
			))
			if _, err := e.c.LatestStockQuotes(e.ctx(t, 10*time.Second), []string{"AAPL"}, ""); err != nil {
				t.Fatal(err)
			}
			if got := e.clock.Sleeps(); !slices.Equal(got, []time.Duration{tt.want}) {
				t.Errorf("sleeps %v, want [%s]", got, tt.want)
			}
		})
	}
}

func TestRateLimitPastDeadlineFailsAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	reset := e.clock.Now().Add(30 * time.Second)
	e.handle(respond(429, `{"code":42910000,"message":"rate limit exceeded"}`,
		"X-RateLimit-Limit", "200", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", epoch(reset)))
	_, err := e.getQuote(e.ctx(t, 5*time.Second))
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err %v, want ErrRateLimited", err)
	}
	ae := asError(t, err)
	if !ae.Reset.Equal(reset) || ae.RetryAfter != 30*time.Second || ae.Status != 429 || ae.Code != 42910000 {
		t.Errorf("error %+v", ae)
	}
	if e.requests.Load() != 1 || len(e.clock.Sleeps()) != 0 {
		t.Errorf("%d requests, sleeps %v: want 1 and none", e.requests.Load(), e.clock.Sleeps())
	}
}

func TestRateLimitWithoutRetriesLeft(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.MaxRetries = -1 })
	e.handle(respond(429, ``, "X-RateLimit-Reset", epoch(e.clock.Now().Add(time.Second))))
	_, err := e.getQuote(e.ctx(t, 10*time.Second))
	if !errors.Is(err, ErrRateLimited) || e.requests.Load() != 1 {
		t.Errorf("err %v after %d requests", err, e.requests.Load())
	}
}

func TestRateLimitWithoutHeadersBacksOff(t *testing.T) {
	e := newEnv(t, script(respond(429, ``), respond(200, okQuotes)))
	if _, err := e.c.LatestStockQuotes(e.ctx(t, 10*time.Second), []string{"AAPL"}, ""); err != nil {
		t.Fatal(err)
	}
	if got := e.clock.Sleeps(); !slices.Equal(got, []time.Duration{25 * time.Millisecond}) {
		t.Errorf("sleeps %v, want the first backoff [25ms]", got)
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	e := newEnv(t, script(respond(500, `{"message":"internal"}`), respond(503, `<html>busy</html>`), respond(200, okQuotes)))
	m, err := e.c.LatestStockQuotes(e.ctx(t, 10*time.Second), []string{"AAPL"}, "")
	if err != nil || len(m.Values) != 1 {
		t.Fatalf("%+v, %v", m, err)
	}
	// Rand is 0.5: half of 50ms, then half of 100ms.
	if got := e.clock.Sleeps(); !slices.Equal(got, []time.Duration{25 * time.Millisecond, 50 * time.Millisecond}) {
		t.Errorf("sleeps %v", got)
	}
	if got := e.rec.Results(); !slices.Equal(got, []string{metrics.UpstreamServerError.String(), metrics.UpstreamServerError.String(), metrics.UpstreamOK.String()}) {
		t.Errorf("recorded %v", got)
	}
	if e.lim.calls.Load() != 3 {
		t.Errorf("limiter called %d times for 3 attempts", e.lim.calls.Load())
	}
}

func TestBackoffScheduleIsCappedFullJitter(t *testing.T) {
	const ms = time.Millisecond
	for _, tt := range []struct {
		rand float64
		want []time.Duration
	}{
		{1, []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms, 1000 * ms}},
		{0.25, []time.Duration{12500 * time.Microsecond, 25 * ms, 50 * ms, 100 * ms, 200 * ms, 250 * ms, 250 * ms, 250 * ms}},
		{0, []time.Duration{0, 0, 0, 0, 0, 0, 0, 0}},
	} {
		e := newEnv(t, respond(500, ``), func(c *Config) {
			c.MaxRetries = 8
			c.Rand = func() float64 { return tt.rand }
		})
		_, err := e.getQuote(e.ctx(t, time.Minute))
		ae := asError(t, err)
		if ae.Kind != ErrUnavailable || ae.Status != 500 || ae.Attempts != 9 || e.requests.Load() != 9 {
			t.Errorf("rand %v: %v after %d requests", tt.rand, err, e.requests.Load())
		}
		if got := e.clock.Sleeps(); !slices.Equal(got, tt.want) {
			t.Errorf("rand %v: sleeps %v, want %v", tt.rand, got, tt.want)
		}
	}
}

func TestBackoffNeverSleepsPastTheDeadline(t *testing.T) {
	e := newEnv(t, respond(502, ``), func(c *Config) { c.Rand = func() float64 { return 1 } })
	_, err := e.getQuote(e.ctx(t, 120*time.Millisecond))
	// 50ms fits (ends at 50 < 120), 100ms more would end at 150 > 120.
	ae := asError(t, err)
	if ae.Kind != ErrUnavailable || ae.Attempts != 2 || !errors.Is(err, context.DeadlineExceeded) || ae.Status != 502 {
		t.Errorf("error %+v", ae)
	}
	if got := e.clock.Sleeps(); !slices.Equal(got, []time.Duration{50 * time.Millisecond}) {
		t.Errorf("sleeps %v", got)
	}
}

// TestOriginClockApartFromRealTime gives the client an origin clock a year
// away from real time, as a simulated market's may be, with the default
// Sleep: the origin's reset is read on the origin's clock, but whether a
// wait ends before the context's deadline is judged in real time.
func TestOriginClockApartFromRealTime(t *testing.T) {
	for _, years := range []int{-1, 1} {
		origin := time.Unix(time.Now().AddDate(years, 0, 0).Unix(), 0)
		originNow := market.ClockFunc(func() time.Time { return origin })

		// A reset 2 s away on the origin's clock does not fit in 300 ms.
		e := newEnv(t, respond(429, `{"message":"slow down"}`, "X-RateLimit-Reset", epoch(origin.Add(2*time.Second))),
			func(c *Config) { c.Sleep, c.Clock = nil, originNow })
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		_, err := e.getQuote(ctx)
		cancel()
		ae := asError(t, err)
		if ae.Kind != ErrRateLimited || ae.RetryAfter != 2*time.Second || !ae.Reset.Equal(origin.Add(2*time.Second)) ||
			ae.Attempts != 1 || time.Since(start) > 200*time.Millisecond {
			t.Errorf("origin clock %+d year: %+v after %s, want the 429 at once with a 2s wait", years, ae, time.Since(start))
		}

		// A 5xx retried after no backoff fits in 10 s.
		e = newEnv(t, script(respond(503, ``), respond(200, okQuotes)),
			func(c *Config) { c.Sleep, c.Clock, c.Rand = nil, originNow, func() float64 { return 0 } })
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		m, err := e.c.LatestStockQuotes(ctx, []string{"AAPL"}, "")
		cancel()
		if err != nil || string(m.Values["AAPL"]) != `{"ap":1}` || e.requests.Load() != 2 {
			t.Errorf("origin clock %+d year: %v after %d requests, want the retry's answer", years, err, e.requests.Load())
		}
	}
}

func TestHungOriginIsCutAtTheDeadline(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}, func(c *Config) { c.Sleep, c.Clock = nil, nil })
	defer close(release)
	const deadline = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	_, err := e.c.LatestStockQuotes(ctx, []string{"AAPL"}, "")
	elapsed := time.Since(start)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if elapsed > deadline+100*time.Millisecond {
		t.Errorf("returned after %s, deadline was %s", elapsed, deadline)
	}
	if got := e.rec.Results(); len(got) != 1 || got[0] != metrics.UpstreamTimeout.String() {
		t.Errorf("recorded %v, want one timeout", got)
	}
}

func TestFinalStatusesAreNotRetried(t *testing.T) {
	const sip = "subscription does not permit querying recent SIP data"
	refused, client := metrics.UpstreamCredentialsRefused.String(), metrics.UpstreamClientError.String()
	tests := []struct {
		status  int
		body    string
		kind    error
		code    int
		message string
		result  string
	}{
		{400, `{"code":40010001,"message":"invalid timeframe"}`, ErrInvalidRequest, 40010001, "invalid timeframe", client},
		{422, `{"code":42210000,"message":"invalid symbol"}`, ErrInvalidRequest, 42210000, "invalid symbol", client},
		{414, `<html>URI Too Long</html>`, ErrInvalidRequest, 0, "", client},
		{401, `{"message":"unauthorized."}`, ErrUnauthorized, 0, "unauthorized.", refused},
		{403, "<html><head><title>403 Forbidden</title></head><body>nginx</body></html>", ErrUnauthorized, 0, "", refused},
		{403, `{"message":"forbidden."}`, ErrUnauthorized, 0, "forbidden.", refused},
		{403, `{"message":"Forbidden"}`, ErrUnauthorized, 0, "Forbidden", refused},
		{403, ``, ErrUnauthorized, 0, "", refused},
		{403, `{"message":"` + sip + `"}`, ErrForbidden, 0, sip, client},
		{403, `{"code":40310000,"message":"OPRA agreement is not signed"}`, ErrForbidden, 40310000, "OPRA agreement is not signed", client},
		{404, `{"message":"Not Found"}`, ErrNotFound, 0, "Not Found", client},
		{405, ``, ErrUnavailable, 0, "", client},
		{302, ``, ErrUnavailable, 0, "", client},
	}
	for _, tt := range tests {
		e := newEnv(t, respond(tt.status, tt.body, "Location", "http://127.0.0.1:1/elsewhere"))
		_, err := e.getQuote(e.ctx(t, 10*time.Second))
		ae := asError(t, err)
		if !errors.Is(err, tt.kind) || ae.Status != tt.status || ae.Code != tt.code || ae.Message != tt.message {
			t.Errorf("HTTP %d %s: %+v, want kind %v code %d message %q", tt.status, tt.body, ae, tt.kind, tt.code, tt.message)
		}
		if e.requests.Load() != 1 || len(e.clock.Sleeps()) != 0 {
			t.Errorf("HTTP %d: %d requests, want 1", tt.status, e.requests.Load())
		}
		if got := e.rec.Results(); !slices.Equal(got, []string{tt.result}) {
			t.Errorf("HTTP %d %s: recorded %v, want %s", tt.status, tt.body, got, tt.result)
		}
	}
}

// A 403 that echoes the service's key is about the key, whatever else it
// says, and the echo never reaches the error.
func TestRefusalEchoingTheKeyIsACredentialRefusal(t *testing.T) {
	e := newEnv(t, respond(403, `{"message":"key `+testKeyID+` does not permit SIP"}`))
	_, err := e.getQuote(e.ctx(t, 10*time.Second))
	if !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden) || strings.Contains(err.Error(), testKeyID) {
		t.Fatalf("err %v, want ErrUnauthorized without the key", err)
	}
}

func TestRefusalKind(t *testing.T) {
	tests := []struct {
		status  int
		message string
		want    error
	}{
		{401, "subscription does not permit querying recent SIP data", ErrUnauthorized},
		{401, "", ErrUnauthorized},
		{403, "", ErrUnauthorized},
		{403, "  FORBIDDEN.  ", ErrUnauthorized},
		{403, "Unauthorized.", ErrUnauthorized},
		{403, "access denied", ErrUnauthorized},
		{403, "request is not authorized", ErrUnauthorized},
		{403, "key [redacted] is not allowed", ErrUnauthorized},
		{403, "subscription does not permit querying recent SIP data", ErrForbidden},
		{403, "OPRA agreement is not signed", ErrForbidden},
		{403, "forbidden: your subscription does not include the opra feed", ErrForbidden},
	}
	for _, tt := range tests {
		if got := refusalKind(tt.status, tt.message); got != tt.want {
			t.Errorf("refusalKind(%d, %q) = %v, want %v", tt.status, tt.message, got, tt.want)
		}
	}
}

func TestMalformedBodyIsRetried(t *testing.T) {
	bodies := []string{`{"quotes":{"AAPL":{"ap":1}`, `<html>oops</html>`, `{"quotes":5}`, `{"other":{}}`, ``}
	for _, b := range bodies {
		e := newEnv(t, script(respond(200, b), respond(200, okQuotes)))
		m, err := e.c.LatestStockQuotes(e.ctx(t, 10*time.Second), []string{"AAPL"}, "")
		if err != nil || string(m.Values["AAPL"]) != `{"ap":1}` || e.requests.Load() != 2 {
			t.Errorf("body %q: %+v, %v after %d requests", b, m, err, e.requests.Load())
		}
	}
	e := newEnv(t, respond(200, `{"quotes":{"AAPL":`))
	_, err := e.c.LatestStockQuotes(e.ctx(t, 10*time.Second), []string{"AAPL"}, "")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errMalformed) || e.requests.Load() != 4 {
		t.Errorf("always malformed: %v after %d requests", err, e.requests.Load())
	}
	if got := e.rec.Results(); !slices.Equal(got, []string{"server_error", "server_error", "server_error", "server_error"}) {
		t.Errorf("recorded %v", got)
	}
}

func TestConnectionErrorIsRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	e := newEnv(t, respond(200, okQuotes), func(c *Config) { c.BaseURL = "http://" + addr })
	_, err = e.getQuote(e.ctx(t, 10*time.Second))
	ae := asError(t, err)
	if ae.Kind != ErrUnavailable || ae.Attempts != 4 || ae.Cause == nil {
		t.Errorf("error %+v", ae)
	}
	if got := e.rec.Results(); !slices.Equal(got, []string{"network_error", "network_error", "network_error", "network_error"}) {
		t.Errorf("recorded %v", got)
	}
}

func TestLimiterRefusalIsReturnedAndStopsTheCall(t *testing.T) {
	refusal := errors.New("budget spent")
	e := newEnv(t, respond(200, okQuotes))
	e.lim.err = refusal
	_, err := e.getQuote(e.ctx(t, time.Second))
	if !errors.Is(err, refusal) || e.requests.Load() != 0 {
		t.Errorf("err %v after %d requests", err, e.requests.Load())
	}
	m, err := e.c.LatestStockQuotes(e.ctx(t, time.Second), []string{"AAPL"}, "")
	var ce *ChunkError
	if !errors.As(err, &ce) || !errors.Is(err, refusal) || len(m.Values) != 0 || !slices.Equal(ce.Failed, []string{"AAPL"}) {
		t.Errorf("multi: %+v, %v", m, err)
	}
}

func TestCredentialsNeverInErrors(t *testing.T) {
	echo := `{"code":40310000,"message":"key ` + testKeyID + ` with secret ` + testSecret + ` is not allowed"}`
	handlers := []http.HandlerFunc{
		respond(403, echo),
		respond(400, echo),
		respond(429, echo, "X-RateLimit-Reset", "9999999999"),
		respond(500, echo),
		respond(200, `{"quotes":`),
		func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
	}
	for i, h := range handlers {
		e := newEnv(t, h, func(c *Config) { c.Sleep, c.Clock = nil, nil })
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := e.getQuote(ctx)
		cancel()
		if err == nil {
			t.Fatalf("handler %d: no error", i)
		}
		for _, s := range []string{err.Error(), asError(t, err).Message} {
			if strings.Contains(s, testKeyID) || strings.Contains(s, testSecret) {
				t.Errorf("handler %d: credentials in error %q", i, s)
			}
		}
	}
}

func TestErrorMessageIsShort(t *testing.T) {
	long := strings.Repeat("é", 300)
	e := newEnv(t, respond(400, `{"message":"`+long+`"}`))
	_, err := e.getQuote(e.ctx(t, time.Second))
	msg := asError(t, err).Message
	if len(msg) > maxMessageLen || len(msg) < maxMessageLen-1 || !strings.HasPrefix(long, msg) {
		t.Errorf("message of %d bytes: %q", len(msg), msg)
	}
}

func TestBodiesAreDrainedForKeepAlive(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(script(
		respond(500, strings.Repeat("x", 100<<10)),
		respond(429, `{"message":"slow down"}`),
		respond(200, okQuotes),
		respond(404, `{"message":"nope"}`),
		respond(200, okQuotes),
	))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	clock := newFakeTime()
	c := New(Config{BaseURL: srv.URL, HTTPClient: srv.Client(), Sleep: clock.Sleep, Clock: clock})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.LatestStockQuotes(ctx, []string{"AAPL"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LatestStockQuotes(ctx, []string{"AAPL"}, ""); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := c.LatestStockQuotes(ctx, []string{"AAPL"}, ""); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 sequential requests, want 1 (bodies not drained)", n)
	}
}

// A 2xx body over the size limit is refused, not retried (the origin would
// send it again), and nothing of it is returned.
func TestBodyOverTheLimitIsRefused(t *testing.T) {
	defer func(n int) { maxBodyBytes = n }(maxBodyBytes)
	maxBodyBytes = 64
	atLimit := `{"quotes":{"AAPL":{"ap":1}},"pad":"` + strings.Repeat("x", 64-37) + `"}`
	if len(atLimit) != 64 {
		t.Fatalf("test body of %d bytes", len(atLimit))
	}
	e := newEnv(t, respond(200, atLimit))
	if m, err := e.c.LatestStockQuotes(e.ctx(t, time.Second), []string{"AAPL"}, ""); err != nil || string(m.Values["AAPL"]) != `{"ap":1}` {
		t.Errorf("body at the limit: %+v, %v", m, err)
	}

	e = newEnv(t, respond(200, atLimit[:63]+` }`))
	p, err := e.c.GetPage(e.ctx(t, time.Second), EndpointStockQuotes, "/v2/stocks/quotes/latest", "symbols=AAPL", "iex", false)
	ae := asError(t, err)
	if ae.Kind != ErrUnavailable || !errors.Is(err, errBodyTooLarge) || ae.Status != 200 || ae.Attempts != 1 || p.Body != nil {
		t.Errorf("body over the limit: %+v, %q", ae, p.Body)
	}
	if e.requests.Load() != 1 || len(e.clock.Sleeps()) != 0 {
		t.Errorf("%d requests, sleeps %v: want 1 and none", e.requests.Load(), e.clock.Sleeps())
	}
	if got := e.rec.Results(); !slices.Equal(got, []string{metrics.UpstreamServerError.String()}) {
		t.Errorf("recorded %v", got)
	}
	m, err := e.c.LatestStockQuotes(e.ctx(t, time.Second), []string{"AAPL"}, "")
	var ce *ChunkError
	if !errors.As(err, &ce) || !errors.Is(err, errBodyTooLarge) || len(m.Values) != 0 || !slices.Equal(ce.Failed, []string{"AAPL"}) {
		t.Errorf("multi over the limit: %+v, %v", m, err)
	}
}
