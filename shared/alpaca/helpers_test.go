package alpaca

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/shared/metrics"
)

const (
	testKeyID  = "AKTESTKEYID0123456789"
	testSecret = "sk-very-secret-0123456789abcdef"
)

// fakeTime is an injected clock: Sleep records the duration and advances
// Now by it instead of sleeping.
type fakeTime struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeTime() *fakeTime {
	// The next whole second: X-RateLimit-Reset (epoch seconds) is then exact,
	// and a context deadline set relative to it is in the real future too.
	return &fakeTime{now: time.Unix(time.Now().Unix()+1, 0)}
}

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeTime) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// recorder is a Recorder that keeps everything.
type recorder struct {
	mu      sync.Mutex
	results []string
	eps     []string
	rls     []RateLimit
}

func (r *recorder) UpstreamRequest(endpoint string, result metrics.UpstreamResult, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.eps = append(r.eps, endpoint)
	r.results = append(r.results, result.String())
}

func (r *recorder) RateLimit(rl RateLimit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rls = append(r.rls, rl)
}

func (r *recorder) Results() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.results...)
}

// countingLimiter counts Wait calls and fails them with err when set.
type countingLimiter struct {
	calls atomic.Int64
	err   error
}

func (l *countingLimiter) Wait(context.Context) error {
	l.calls.Add(1)
	return l.err
}

// testEnv is a Client wired to an httptest server, a fake clock and a
// recorder.
type testEnv struct {
	c        *Client
	srv      *httptest.Server
	clock    *fakeTime
	rec      *recorder
	lim      *countingLimiter
	requests atomic.Int64
	h        atomic.Pointer[http.HandlerFunc]
}

// handle makes h the server's handler from now on.
func (e *testEnv) handle(h http.HandlerFunc) { e.h.Store(&h) }

// newEnv starts a server running h (counting requests; nil: set it later
// with handle) and a Client with
// credentials, a fake clock, Rand fixed at 0.5 and a counting limiter;
// mod may adjust the Config before New.
func newEnv(t *testing.T, h http.HandlerFunc, mod ...func(*Config)) *testEnv {
	t.Helper()
	e := &testEnv{clock: newFakeTime(), rec: &recorder{}, lim: &countingLimiter{}}
	if h != nil {
		e.handle(h)
	}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		(*e.h.Load())(w, r)
	}))
	t.Cleanup(e.srv.Close)
	hc := *e.srv.Client()
	hc.CheckRedirect = DefaultHTTPClient().CheckRedirect
	cfg := Config{
		BaseURL:    e.srv.URL,
		KeyID:      testKeyID,
		SecretKey:  testSecret,
		HTTPClient: &hc,
		Limiter:    e.lim,
		Recorder:   e.rec,
		Rand:       func() float64 { return 0.5 },
		Sleep:      e.clock.Sleep,
		Clock:      e.clock,
	}
	for _, m := range mod {
		m(&cfg)
	}
	e.c = New(cfg)
	return e
}

// ctx returns a context whose deadline is d after the fake clock's now.
func (e *testEnv) ctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), e.clock.Now().Add(d))
	t.Cleanup(cancel)
	return ctx
}

// script answers the i-th request with steps[i] (the last step repeats).
func script(steps ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	}
}

func respond(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func epoch(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// asError returns err as *Error or fails the test.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *alpaca.Error", err, err)
	}
	return e
}

// Single-quote route, fetched as one page: the path every single-request
// call of the client shares.
const (
	endpointQuote = "/v2/stocks/{symbol}/quotes/latest"
	pathQuote     = "/v2/stocks/AAPL/quotes/latest"
)

// getQuote fetches AAPL's latest quote with GetPage, feed iex.
func (e *testEnv) getQuote(ctx context.Context) (Page, error) {
	return e.c.GetPage(ctx, endpointQuote, pathQuote, "feed=iex", "iex", false)
}
