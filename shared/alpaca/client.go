// Package alpaca is a thin client of Alpaca's Market Data API (the origin of
// the cache), written over net/http rather than the official SDK because the
// SDK takes no context, hides the rate-limit headers and retries blindly.
//
// Two generic methods serve every route:
//
//   - Client.Latest makes a multi-symbol call described by a LatestCall
//     (path, the member holding the per-symbol map or none, query, feed,
//     symbols per call): it splits the symbol list into chunks, fetches
//     them concurrently and every page of each, and returns one
//     json.RawMessage per symbol holding exactly the bytes the origin sent
//     for it. A failed chunk leaves the others' answers and a *ChunkError.
//   - Client.GetPage fetches one page of any route and returns its body
//     byte for byte, checked to be JSON unless it is raw (an image).
//
// LatestStockQuotes, LatestOptionQuotes and OptionChain are the calls the
// prefetch job makes, the first two written as LatestCalls.
//
// Every call is bounded by its context: retries (5xx, timeouts, connection
// errors, malformed bodies, 429) back off with full jitter or wait for the
// origin's rate-limit reset, and never sleep past the deadline. Failures
// are *Error values whose Kind is one of the Err* sentinels.
//
// Every HTTP attempt, retries included, first waits on Config.Limiter, so a
// fleet-wide budget (package budget) can never be exceeded by retries.
//
// A 401 or 403 is never retried. It is either a refusal of the request under
// the account's plan (ErrForbidden, the client's answer) or a refusal of the
// service's own credentials (ErrUnauthorized, a deployment fault, recorded
// as metrics.UpstreamCredentialsRefused); refusalKind states the rule.
package alpaca

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// Defaults of Config.
const (
	DefaultBaseURL               = "https://data.alpaca.markets"
	DefaultStockFeed             = "iex"
	DefaultOptionFeed            = "indicative"
	DefaultMaxRetries            = 3
	DefaultMaxConcurrency        = 4
	DefaultMaxStockURLSymbolsLen = 1500
)

// Source values. A response carrying header SimulatorHeader: true has
// Source SourceSimulator, so simulated data is never mistaken for market
// data; otherwise Source is "alpaca/" + the feed that was requested.
const (
	SimulatorHeader = "X-Alpaca-Simulator"
	SourceSimulator = "alpaca-sim"
)

// Endpoint templates, as passed to Recorder.UpstreamRequest and shown in
// errors (symbols never appear there, which keeps metric dimensions bounded).
const (
	EndpointStockQuotes  = "/v2/stocks/quotes/latest"
	EndpointOptionQuotes = "/v1beta1/options/quotes/latest"
	EndpointOptionChain  = "/v1beta1/options/snapshots/{underlying}"
)

const (
	userAgent = "opitios-alpaca"

	backoffBase = 50 * time.Millisecond
	backoffCap  = time.Second

	// maxRateLimitWait bounds a 429 wait when the context has no deadline:
	// Alpaca's window is a minute, so a longer wait means a confused header.
	maxRateLimitWait = time.Minute

	maxOptionSymbols = 100
	maxErrorBody     = 64 << 10
	maxDrain         = 1 << 20
	maxMessageLen    = 200
)

// maxBodyBytes bounds a 2xx body (a 10,000-bar page is about 1 MB); a
// variable so that tests can lower it.
var maxBodyBytes = 64 << 20

// Limiter gates every HTTP attempt. Wait returns nil when the attempt may
// go ahead, or an error (returned to the caller wrapped, so errors.Is and
// errors.As see it) when it may not.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Recorder receives the client's measurements. It is called from the
// goroutines of concurrent chunks and must be safe for concurrent use.
type Recorder interface {
	// UpstreamRequest is called once per HTTP attempt with the endpoint
	// template, how it ended and the attempt's duration.
	UpstreamRequest(endpoint string, result metrics.UpstreamResult, d time.Duration)
	// RateLimit is called with the X-RateLimit-* headers of every response
	// that carries them.
	RateLimit(rl RateLimit)
}

// RateLimit is the origin's account quota as its X-RateLimit-* headers last
// described it. The zero value means no response has carried them yet.
type RateLimit struct {
	Limit, Remaining int
	Reset            time.Time // X-RateLimit-Reset, epoch seconds
}

// Config configures a Client; zero fields take the defaults documented here.
type Config struct {
	BaseURL string // market data host, default DefaultBaseURL
	// KeyID and SecretKey are sent as APCA-API-KEY-ID and
	// APCA-API-SECRET-KEY. They never appear in an error or a log line; an
	// origin message that echoes either is redacted.
	KeyID, SecretKey string
	StockFeed        string // default DefaultStockFeed
	OptionFeed       string // default DefaultOptionFeed
	// HTTPClient defaults to DefaultHTTPClient(). A client supplied here
	// should refuse redirects, as the default does: Go forwards custom
	// headers, the credentials included, to a redirect's target.
	HTTPClient *http.Client
	Limiter    Limiter  // optional; Wait is called before every HTTP attempt
	Recorder   Recorder // optional
	// MaxRetries is the number of retries after the first attempt:
	// 0 means DefaultMaxRetries, a negative value means none.
	MaxRetries int
	// MaxConcurrency bounds the chunks of one call in flight at once,
	// default DefaultMaxConcurrency.
	MaxConcurrency int
	// MaxStockURLSymbolsLen bounds the escaped, comma-joined symbol list of
	// one stock request (Alpaca answers 414 to long URLs), default
	// DefaultMaxStockURLSymbolsLen. A single longer symbol goes alone.
	MaxStockURLSymbolsLen int
	Rand                  func() float64 // jitter in [0,1), default math/rand/v2.Float64
	// Sleep waits between attempts; default a timer that ends early with
	// ctx.Err(). The client's own durations (an attempt's latency, whether a
	// wait ends before ctx's deadline) are measured on Sleep's time line:
	// real time with the default Sleep, whatever Clock reads; Clock with an
	// injected one, which is taken to advance Clock (a test's fake time).
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock is the origin's clock, which a 429's X-RateLimit-Reset or
	// Retry-After date is read against (a simulated origin's clock may be
	// set apart from the real one); default market.SystemClock.
	Clock market.Clock
}

// Client calls the origin. It is safe for concurrent use.
type Client struct {
	cfg        Config
	baseURL    string
	maxRetries int

	// elapsed reads Sleep's time line (see Config.Sleep).
	elapsed func() time.Time

	mu     sync.Mutex
	lastRL RateLimit
}

// DefaultHTTPClient returns the process-wide client every Client uses unless
// Config.HTTPClient is set: one pooled keep-alive transport (dial 2 s, TLS
// handshake 3 s, response header 5 s, idle connections kept 90 s, 64 idle
// per host, HTTP/2 attempted) that refuses redirects.
func DefaultHTTPClient() *http.Client { return defaultHTTPClient() }

var defaultHTTPClient = sync.OnceValue(func() *http.Client {
	dialer := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   3 * time.Second,
			ResponseHeaderTimeout: 5 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   64,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
})

// New returns a Client for cfg, with defaults filled in.
func New(cfg Config) *Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.StockFeed == "" {
		cfg.StockFeed = DefaultStockFeed
	}
	if cfg.OptionFeed == "" {
		cfg.OptionFeed = DefaultOptionFeed
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.MaxStockURLSymbolsLen <= 0 {
		cfg.MaxStockURLSymbolsLen = DefaultMaxStockURLSymbolsLen
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Clock == nil {
		cfg.Clock = market.SystemClock
	}
	elapsed := cfg.Clock.Now
	if cfg.Sleep == nil {
		cfg.Sleep, elapsed = market.Sleep, time.Now
	}
	c := &Client{
		cfg:        cfg,
		baseURL:    strings.TrimRight(cfg.BaseURL, "/"),
		maxRetries: cfg.MaxRetries,
		elapsed:    elapsed,
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	return c
}

// LastRateLimit returns the X-RateLimit-* headers of the latest response
// that carried them (the zero RateLimit before any did).
func (c *Client) LastRateLimit() RateLimit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastRL
}

// source names the origin of an answer fetched with feed ("" for a route
// without feeds).
func source(feed string, sim bool) string {
	switch {
	case sim:
		return SourceSimulator
	case feed == "":
		return "alpaca"
	}
	return "alpaca/" + feed
}

// outcome classifies one HTTP attempt.
type outcome int

const (
	done      outcome = iota // success, or a final error
	retry                    // 5xx, timeout, connection error, malformed body
	rateLimit                // 429
)

// attempt is the result of one HTTP attempt.
type attempt struct {
	outcome outcome
	result  metrics.UpstreamResult
	sim     bool
	err     *Error        // nil on success
	wait    time.Duration // on a 429: how long the origin asked us to wait (0 unknown)
	reset   time.Time     // on a 429: X-RateLimit-Reset
}

// get fetches rawURL and hands a 2xx body to parse, retrying as the package
// documentation says. A parse error counts as a malformed body and is
// retried. It reports whether the answer came from the simulator.
func (c *Client) get(ctx context.Context, endpoint, rawURL string, parse func([]byte) error) (sim bool, err error) {
	var last *Error
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return false, c.unavailable(endpoint, n, last, err)
		}
		if c.cfg.Limiter != nil {
			if err := c.cfg.Limiter.Wait(ctx); err != nil {
				return false, &limiterError{endpoint: endpoint, err: err}
			}
		}
		start := c.elapsed()
		a := c.do(ctx, endpoint, rawURL, parse)
		if c.cfg.Recorder != nil {
			c.cfg.Recorder.UpstreamRequest(endpoint, a.result, c.elapsed().Sub(start))
		}
		attempts := n + 1
		switch a.outcome {
		case done:
			if a.err != nil {
				a.err.Attempts = attempts
				return false, a.err
			}
			return a.sim, nil
		case rateLimit:
			d := a.wait
			if d <= 0 {
				d = c.backoff(n)
			}
			if n >= c.maxRetries || !c.fits(ctx, d) {
				a.err.Attempts = attempts
				return false, a.err
			}
			if err := c.cfg.Sleep(ctx, d); err != nil {
				return false, c.unavailable(endpoint, attempts, a.err, err)
			}
		case retry:
			last = a.err
			if err := ctx.Err(); err != nil {
				return false, c.unavailable(endpoint, attempts, last, err)
			}
			if n >= c.maxRetries {
				return false, c.unavailable(endpoint, attempts, last, nil)
			}
			d := c.backoff(n)
			if !c.fits(ctx, d) {
				return false, c.unavailable(endpoint, attempts, last, context.DeadlineExceeded)
			}
			if err := c.cfg.Sleep(ctx, d); err != nil {
				return false, c.unavailable(endpoint, attempts, last, err)
			}
		}
	}
}

// backoff is the full-jitter delay before retry n+1: a uniform draw from
// [0, min(1 s, 50 ms · 2^n)).
func (c *Client) backoff(n int) time.Duration {
	ceiling := backoffCap
	if n < 5 {
		ceiling = min(backoffCap, backoffBase<<n)
	}
	return time.Duration(c.cfg.Rand() * float64(ceiling))
}

// fits reports whether a sleep of d ends strictly before ctx's deadline
// (or, without a deadline, whether d is at most maxRateLimitWait), both on
// Sleep's time line.
func (c *Client) fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	if !ok {
		return d <= maxRateLimitWait
	}
	return c.elapsed().Add(d).Before(deadline)
}

// unavailable builds the ErrUnavailable error of a call that made attempts
// attempts, the last of which failed with last (nil if none reached the
// origin), and was ended by cause (nil: retries exhausted).
func (c *Client) unavailable(endpoint string, attempts int, last *Error, cause error) *Error {
	e := &Error{Kind: ErrUnavailable, Endpoint: endpoint, Attempts: attempts, Cause: cause}
	if last != nil {
		e.Status, e.Code, e.Message = last.Status, last.Code, last.Message
		if e.Cause == nil {
			e.Cause = last.Cause
		}
	}
	return e
}

// do makes one HTTP attempt.
func (c *Client) do(ctx context.Context, endpoint, rawURL string, parse func([]byte) error) attempt {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return attempt{outcome: done, result: metrics.UpstreamClientError,
			err: &Error{Kind: ErrInvalidRequest, Endpoint: endpoint, Message: "cannot build the request URL"}}
	}
	if c.cfg.KeyID != "" {
		req.Header.Set("APCA-API-KEY-ID", c.cfg.KeyID)
	}
	if c.cfg.SecretKey != "" {
		req.Header.Set("APCA-API-SECRET-KEY", c.cfg.SecretKey)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")

	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return c.transportFailure(ctx, endpoint, err)
	}
	defer resp.Body.Close()
	c.observeRateLimit(resp.Header)
	sim := strings.EqualFold(resp.Header.Get(SimulatorHeader), "true")

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		body, err := io.ReadAll(io.LimitReader(resp.Body, int64(maxBodyBytes)+1))
		if err != nil {
			return c.transportFailure(ctx, endpoint, err)
		}
		if len(body) > maxBodyBytes {
			return attempt{outcome: done, result: metrics.UpstreamServerError,
				err: &Error{Kind: ErrUnavailable, Endpoint: endpoint, Status: resp.StatusCode, Cause: errBodyTooLarge}}
		}
		if err := parse(body); err != nil {
			return attempt{outcome: retry, result: metrics.UpstreamServerError,
				err: &Error{Kind: ErrUnavailable, Endpoint: endpoint, Status: resp.StatusCode, Cause: errMalformed}}
		}
		return attempt{outcome: done, result: metrics.UpstreamOK, sim: sim}
	}

	return c.failure(endpoint, resp)
}

// failure classifies a non-2xx answer (its body read for Alpaca's message,
// the rest drained): a 429 waits for the origin's reset, a 5xx is retried,
// anything else is final.
func (c *Client) failure(endpoint string, resp *http.Response) attempt {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	e := &Error{Endpoint: endpoint, Status: resp.StatusCode}
	e.Code, e.Message = c.errorMessage(body)
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
		a := attempt{outcome: rateLimit, result: metrics.UpstreamRateLimited, err: e}
		a.wait, a.reset = c.rateLimitWait(resp.Header)
		if a.wait > 0 {
			e.RetryAfter, e.Reset = a.wait, a.reset
		}
		return a
	case s >= 500:
		e.Kind = ErrUnavailable
		return attempt{outcome: retry, result: metrics.UpstreamServerError, err: e}
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity || s == http.StatusRequestURITooLong:
		e.Kind = ErrInvalidRequest
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		e.Kind = refusalKind(s, e.Message)
		if e.Kind == ErrUnauthorized {
			return attempt{outcome: done, result: metrics.UpstreamCredentialsRefused, err: e}
		}
	case s == http.StatusNotFound:
		e.Kind = ErrNotFound
	default:
		// Another 4xx, or a redirect refused: our own fault, not the caller's.
		e.Kind = ErrUnavailable
	}
	return attempt{outcome: done, result: metrics.UpstreamClientError, err: e}
}

// transportFailure classifies an error from sending the request or reading
// the response: always retried (get stops when ctx is done).
func (c *Client) transportFailure(ctx context.Context, endpoint string, err error) attempt {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL holds symbols, not secrets, but adds nothing
	}
	result := metrics.UpstreamNetwork
	var ne net.Error
	if ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		result = metrics.UpstreamTimeout
	}
	return attempt{outcome: retry, result: result, err: &Error{Kind: ErrUnavailable, Endpoint: endpoint, Cause: err}}
}

// errorMessage extracts Alpaca's {"code","message"} from an error body; an
// HTML page or anything else yields nothing. The message is cut to
// maxMessageLen bytes and the credentials are redacted from it.
func (c *Client) errorMessage(body []byte) (int, string) {
	var eb struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
	}
	if json.Unmarshal(body, &eb) != nil {
		return 0, ""
	}
	code, _ := strconv.Atoi(eb.Code.String())
	msg := eb.Message
	for _, secret := range []string{c.cfg.SecretKey, c.cfg.KeyID} {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, redactedMark)
		}
	}
	if len(msg) > maxMessageLen {
		cut := maxMessageLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	return code, msg
}

// rateLimitWait reads how long a 429 asks us to wait: Retry-After (seconds
// or an HTTP date) when present, else until X-RateLimit-Reset. It returns 0
// when neither gives a wait in the future.
func (c *Client) rateLimitWait(h http.Header) (time.Duration, time.Time) {
	now := c.cfg.Clock.Now()
	if ra := h.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && secs > 0 {
			d := time.Duration(secs) * time.Second
			return d, now.Add(d)
		}
		if t, err := http.ParseTime(ra); err == nil && t.After(now) {
			return t.Sub(now), t
		}
	}
	if reset, ok := parseEpoch(h.Get("X-RateLimit-Reset")); ok && reset.After(now) {
		return reset.Sub(now), reset
	}
	return 0, time.Time{}
}

func parseEpoch(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// observeRateLimit records the X-RateLimit-* headers when all three are
// present and well formed.
func (c *Client) observeRateLimit(h http.Header) {
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, ok := parseEpoch(h.Get("X-RateLimit-Reset"))
	if err1 != nil || err2 != nil || !ok {
		return
	}
	rl := RateLimit{Limit: limit, Remaining: remaining, Reset: reset}
	c.mu.Lock()
	c.lastRL = rl
	c.mu.Unlock()
	if c.cfg.Recorder != nil {
		c.cfg.Recorder.RateLimit(rl)
	}
}

// limiterError wraps a Limiter's refusal, naming the endpoint; errors.Is and
// errors.As see the Limiter's error through it.
type limiterError struct {
	endpoint string
	err      error
}

func (e *limiterError) Error() string {
	return "alpaca: GET " + e.endpoint + ": origin budget: " + e.err.Error()
}

func (e *limiterError) Unwrap() error { return e.err }
