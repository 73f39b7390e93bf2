// Package alpacasim is an HTTP simulator of Alpaca's Market Data API. It
// serves, on the data host's paths (route templates as counted in Stats):
//
//	stocks   /v2/stocks/{quotes,trades,bars}/latest, /v2/stocks/{symbol}/{quotes,trades,bars}/latest,
//	         /v2/stocks/snapshots, /v2/stocks/{symbol}/snapshot,
//	         /v2/stocks/{bars,trades,quotes,auctions}, /v2/stocks/{symbol}/{bars,trades,quotes,auctions},
//	         /v2/stocks/meta/exchanges, /v2/stocks/meta/conditions/{ticktype}
//	options  /v1beta1/options/{quotes,trades}/latest, /v1beta1/options/{bars,trades},
//	         /v1beta1/options/snapshots, /v1beta1/options/snapshots/{underlying},
//	         /v1beta1/options/meta/exchanges, /v1beta1/options/meta/conditions/{ticktype}
//	crypto   /v1beta3/crypto/{loc}/{bars,trades,quotes}, /v1beta3/crypto/{loc}/latest/{bars,trades,quotes,orderbooks},
//	         /v1beta3/crypto/{loc}/snapshots, /v1beta1/crypto-perps/{loc}/latest/{bars,trades,quotes,pricing,orderbooks}
//	other    /v1beta1/news, /v1/corporate-actions, /v1beta1/corporate-actions,
//	         /v1beta1/screener/stocks/most-actives, /v1beta1/screener/{market_type}/movers,
//	         /v1beta1/logos/{symbol}, /v1beta1/forex/latest/rates, /v1beta1/forex/rates, /v2/calendar
//
// It serves Alpaca's paths, parameters, JSON shapes, error bodies and
// X-RateLimit-* headers, so the official SDK decodes its answers, and adds one
// header of its own, X-Alpaca-Simulator: true, on every response, so nothing it
// says is ever mistaken for market data.
//
// The data are a deterministic function of the random seed (Config.Seed),
// the symbol and the instant: the same Config.Clock reading gives the same
// bytes, and prices move smoothly as the clock moves. Everything is built from
// events that agree with each other:
//   - A stock has one quote in each second of its extended sessions (from
//     shared/market's calendar) and 1–24 trades in each minute, each priced
//     within the spread of the quote in force at its instant. The latest
//     quote or trade is the last one at or before now of the same series the
//     history routes page through; outside sessions it is the one from the
//     end of the last session.
//   - A 1-minute bar aggregates exactly the trades of its minute; the latest
//     bar is the last complete minute bar. Longer stock bars are sampled from
//     the same price path, so they agree with the trades only approximately
//     (their volume and count are expected values): aggregating every trade
//     of a year of daily bars would be too slow for the load tests.
//   - A stock snapshot's parts are what the latest routes and the daily bars
//     route answer at the same instant; auctions print at the daily bar's
//     open and close.
//   - Option contracts trade 0–4 times a minute in regular sessions at their
//     theoretical value clamped to the spread; option bars aggregate those
//     trades and do not exist without them. An option snapshot's latest trade
//     and minute bar come from them; its daily bars are sampled.
//   - Crypto pairs and perpetuals trade around the clock, weekends and NYSE
//     holidays included: a quote each second, 1–6 trades a minute, a buyer at
//     the ask and a seller at the bid. Intraday crypto bars aggregate the
//     trades, longer ones are sampled; bars tile UTC days.
//
// For tests it injects faults at run time (latency, an error rate, a request
// budget per minute, hangs, HTML error pages, truncated bodies, rate-limit
// storms, rejected keys, vanishing symbols) and counts requests per route.
//
// Decisions where Alpaca's behaviour is not documented:
//   - A well-formed but unknown symbol on a single-symbol route
//     (/v2/stocks/{symbol}/...) answers 404 {"code":40410000,...}; the
//     simulator never invents an empty quote. Multi-symbol endpoints leave
//     unknown symbols out of their maps, except /v2/stocks/snapshots, which
//     maps them to null.
//   - A malformed symbol is a 400 with code 42210000.
//   - Symbols are case-sensitive: "aapl" is unknown.
//   - start and end given as YYYY-MM-DD mean the start and the end of that day
//     in New York; without start, history begins at the start of today.
//   - Stock bar history begins on 2016-01-01, as Alpaca's does.
//   - Weekly bars cover Monday–Sunday and monthly bars calendar months (N-month
//     bars start in January, April, ... for N = 3); both are stamped at New
//     York midnight of the first trading day they contain.
//   - Intraday bars tile each trading day from 04:00 New York time, the last
//     one cut at the after-hours close; only complete ones are served. Daily,
//     weekly and monthly bars cover the regular session and include the
//     period in progress, up to now.
//   - Page tokens are opaque (base64 of the next item's key and time); limit
//     counts items across symbols and pages run symbol by symbol; sort=desc
//     reverses the order within each symbol.
//   - An empty single-symbol history page is "bars":null (or trades, quotes,
//     auctions), as Alpaca's Go backend writes a nil slice. An auction day
//     whose close has not happened has "c":null.
//   - The stock condition tables are the same for the three tapes; their
//     ticktype must be trade or quote, the tape A, B or C.
//   - A crypto loc other than "us", or a perpetuals loc other than "global",
//     answers 404 endpoint not found.
//   - A perpetual's index price is its spot pair's mid, its mark price the
//     perpetual's own mid; the funding rate is a third of the premium, capped
//     at ±0.375 %; funding is every 8 hours from 00:00 UTC.
//   - News: 2–5 articles per known stock per New York day, one symbol each,
//     ids growing with created_at; the default sort is desc; without start
//     the archive begins on 2015-01-01; one article in five has no content.
//   - Corporate actions: quarterly cash dividends and rare splits, dated by
//     their ex-date (which is also the process date); v1beta1 answers the
//     shape of v1 (the one the JavaScript SDK 3.x reads from v1beta1) without
//     the items' ids; limit 1–1000, default 100.
//   - The screener ranks the known stocks on their latest daily bar (and the
//     previous close for movers); crypto movers rank the USD pairs.
//   - Logos are 32×32 PNGs drawn from the symbol, for known stocks and crypto
//     bases; placeholder=true gives a grey one for unknown symbols.
//   - Forex rates exist at each bar stamp while the market is open (Sunday
//     17:00 to Friday 17:00 New York); the latest rate on a weekend is
//     Friday's 16:59.
//   - With RateLimitPerMinute 0 nothing is refused and X-RateLimit-Limit
//     advertises 2147483647.
//   - Outside the years of shared/market's table (2025–2028) the calendar
//     follows weekday rules, so the simulator's /v2/calendar and its bars
//     treat those years' holidays as trading days: consistent with each
//     other, not with history.
//   - Settlement dates count trading days that are also bank business days
//     (Columbus and Veterans Day excluded): T+1 from 2024-05-28, T+2 from
//     2017-09-05, T+3 before.
//   - feed=iex quotes and trades come from exchange V; feed=delayed_sip
//     answers as of 15 minutes ago; the other stock feeds give the SIP-like
//     data.
//   - The option feeds opra and indicative give the same data; currency
//     other than USD is a 400, since the simulator has no exchange rates.
package alpacasim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// DefaultAddr is where the standalone simulator listens unless told otherwise.
const DefaultAddr = "127.0.0.1:9100"

// Config configures a Server. The zero value is a usable simulator on the
// system clock that accepts any key pair.
type Config struct {
	// Addr is the listen address of the standalone program (dev/alpacasim/cmd/alpaca-sim);
	// the Server itself does not listen. Empty means DefaultAddr.
	Addr string

	// KeyID and SecretKey are the credentials requests must carry in
	// APCA-API-KEY-ID and APCA-API-SECRET-KEY. An empty value accepts any
	// non-empty header. A missing or wrong header gets a 403 HTML page.
	KeyID, SecretKey string

	// Latency is added to every request, ended early if the request's
	// context ends.
	Latency time.Duration

	// ErrorRate is the fraction of requests, in [0, 1], answered 500
	// {"code":50010000,"message":"internal server error"}, chosen by a
	// pseudo-random sequence fixed by Seed.
	ErrorRate float64

	// RateLimitPerMinute is the request budget of each clock minute; the
	// requests beyond it get 429. 0 means unlimited.
	RateLimitPerMinute int

	// Clock is the simulator's now: it fixes quotes, bars, expirations and
	// the rate-limit window. Nil means market.SystemClock.
	Clock market.Clock

	// Calendar gives the trading days and sessions. Nil means
	// market.Default().
	Calendar *market.Calendar

	// Seed fixes the simulated market (base prices, volatilities, volumes)
	// and the error-rate sequence.
	Seed int64
}

// Fault is a misbehaviour switched on at run time with Server.SetFault. It
// applies to every authenticated API request (never to /_sim/ endpoints)
// until switched off with None.
type Fault int32

// The faults.
const (
	None           Fault = iota // behave normally
	Hang                        // answer nothing until the request's context ends, or for 10 s and then normally
	HTML500                     // 500 with an HTML page, as a failing gateway sends
	TruncatedJSON               // 200 whose JSON body stops half way (Content-Length matches what is sent)
	RateLimitStorm              // every request is refused with 429
	Unauthorized                // every request is refused with the 403 HTML page
)

var faultNames = [...]string{"none", "hang", "html500", "truncated_json", "rate_limit_storm", "unauthorized"}

// String returns the fault's name as ParseFault accepts it.
func (f Fault) String() string {
	if f >= 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// ParseFault returns the fault named s (see Fault.String).
func ParseFault(s string) (Fault, bool) {
	for i, n := range faultNames {
		if n == s {
			return Fault(i), true
		}
	}
	return None, false
}

// hangCap bounds the Hang fault, so that a client without a deadline still
// gets an answer.
const hangCap = 10 * time.Second

// unlimited is the X-RateLimit-Limit advertised when no limit is configured.
const unlimited = math.MaxInt32

// Stats counts the API requests received since creation or the last Reset.
// /_sim/ requests are not counted.
type Stats struct {
	TotalRequests int64            `json:"total_requests"`
	ByPath        map[string]int64 `json:"by_path"` // route template -> requests; only non-zero entries
}

// Server is the simulator: an http.Handler, safe for concurrent use.
type Server struct {
	cfg    Config
	seed   uint64
	clock  market.Clock
	days   *days
	stocks map[string]*stock

	latency   atomic.Int64  // time.Duration
	errorRate atomic.Uint64 // math.Float64bits
	rateLimit atomic.Int64
	fault     atomic.Int32
	seq       atomic.Uint64 // requests drawn against the error rate

	vanishMu sync.Mutex
	vanished atomic.Pointer[map[string]struct{}] // copy on write

	total   atomic.Int64
	byRoute [numRoutes]atomic.Int64 // indexed by routeID

	rlMu     sync.Mutex
	rlWindow int64 // unix minute of the current window
	rlCount  int64

	exps atomic.Pointer[expirationSet]

	cryptoOnce sync.Once
	crypto     map[string]*cryptoAsset
	forexOnce  sync.Once
	forex      map[string]*cryptoAsset
}

// New returns a simulator configured by cfg.
func New(cfg Config) *Server {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Clock == nil {
		cfg.Clock = market.SystemClock
	}
	if cfg.Calendar == nil {
		cfg.Calendar = market.Default()
	}
	s := &Server{
		cfg:    cfg,
		seed:   uint64(cfg.Seed),
		clock:  cfg.Clock,
		days:   newDays(cfg.Calendar),
		stocks: make(map[string]*stock),
	}
	for _, l := range loadListings() {
		s.stocks[l.symbol] = newStock(s.seed, l)
	}
	s.SetLatency(cfg.Latency)
	s.SetErrorRate(cfg.ErrorRate)
	s.SetRateLimit(cfg.RateLimitPerMinute)
	s.vanished.Store(&map[string]struct{}{})
	return s
}

// Config returns the configuration the server was created with, defaults
// filled in. Run-time changes (SetLatency and the like) are not reflected.
func (s *Server) Config() Config { return s.cfg }

// SetLatency sets the delay added to every request from now on.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(max(d, 0))) }

// SetErrorRate sets the fraction of requests answered 500 from now on,
// clamped to [0, 1].
func (s *Server) SetErrorRate(f float64) {
	if math.IsNaN(f) {
		f = 0
	}
	s.errorRate.Store(math.Float64bits(min(max(f, 0), 1)))
}

// SetRateLimit sets the request budget per clock minute from now on; 0 means
// unlimited.
func (s *Server) SetRateLimit(perMinute int) { s.rateLimit.Store(int64(max(perMinute, 0))) }

// SetFault switches fault f on (None switches faults off).
func (s *Server) SetFault(f Fault) { s.fault.Store(int32(f)) }

// Vanish makes symbol unknown from now on: a stock symbol disappears from
// quotes and bars; an option underlying's chain and contracts disappear with
// it; an OCC symbol disappears from option answers. It cannot be undone.
func (s *Server) Vanish(symbol string) {
	s.vanishMu.Lock()
	defer s.vanishMu.Unlock()
	old := *s.vanished.Load()
	next := make(map[string]struct{}, len(old)+1)
	for k := range old {
		next[k] = struct{}{}
	}
	next[symbol] = struct{}{}
	s.vanished.Store(&next)
}

func (s *Server) isVanished(symbol string) bool {
	m := *s.vanished.Load()
	if len(m) == 0 {
		return false
	}
	_, ok := m[symbol]
	return ok
}

// lookup returns the stock for a known, present symbol.
func (s *Server) lookup(symbol string) (*stock, bool) {
	st, ok := s.stocks[symbol]
	if !ok || s.isVanished(symbol) {
		return nil, false
	}
	return st, true
}

// Stats returns the request counts.
func (s *Server) Stats() Stats {
	st := Stats{TotalRequests: s.total.Load(), ByPath: make(map[string]int64)}
	for i := range s.byRoute {
		if n := s.byRoute[i].Load(); n > 0 {
			st.ByPath[routeName(routeID(i))] = n
		}
	}
	return st
}

// Reset zeroes the request counts, the rate-limit window and the error-rate
// sequence. Faults, latency, limits and vanished symbols are unchanged.
func (s *Server) Reset() {
	s.total.Store(0)
	for i := range s.byRoute {
		s.byRoute[i].Store(0)
	}
	s.rlMu.Lock()
	s.rlWindow, s.rlCount = 0, 0
	s.rlMu.Unlock()
	s.seq.Store(0)
}

// request is what a route handler needs.
type request struct {
	r     *http.Request
	param string // the path parameter
	now   time.Time
}

// apiError is an error answer in Alpaca's shape.
type apiError struct {
	status int
	code   int
	msg    string
}

func badRequest(msg string) *apiError { return &apiError{http.StatusBadRequest, 42210000, msg} }
func notFound(msg string) *apiError   { return &apiError{http.StatusNotFound, 40410000, msg} }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled keeps the pool from holding on to the buffers of huge answers.
const maxPooled = 1 << 20

// ServeHTTP answers one request.
//
// Order of checks for API routes: count, latency, 404 unknown path, 405 wrong
// method, 403 bad keys (or the Unauthorized fault), the other faults, the
// rate limit (429), the error rate (500), then the route itself.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveSim(w, r)
		return
	}
	rt, param := match(r.URL.Path)
	s.total.Add(1)
	s.byRoute[rt].Add(1)
	hdr := w.Header()
	hdr.Set("X-Alpaca-Simulator", "true")

	if d := time.Duration(s.latency.Load()); d > 0 && !sleep(r.Context(), d) {
		return
	}
	if rt == routeUnmatched {
		writeError(w, &apiError{http.StatusNotFound, 40410000, "endpoint not found"})
		return
	}
	if r.Method != http.MethodGet {
		hdr.Set("Allow", http.MethodGet)
		writeError(w, &apiError{http.StatusMethodNotAllowed, 40510000, "method not allowed"})
		return
	}
	fault := Fault(s.fault.Load())
	if fault == Unauthorized || !s.authorized(r) {
		writeHTML(w, http.StatusForbidden, forbiddenPage)
		return
	}
	now := s.clock.Now()
	switch fault {
	case Hang:
		if !sleep(r.Context(), hangCap) {
			return
		}
	case HTML500:
		writeHTML(w, http.StatusInternalServerError, errorPage)
		return
	case RateLimitStorm:
		s.setRateHeaders(hdr, s.limitNow(), 0, now.Unix()/60*60+60)
		writeError(w, &apiError{http.StatusTooManyRequests, 42910000, "rate limit exceeded"})
		return
	}
	limit, remaining, reset, ok := s.take(now)
	s.setRateHeaders(hdr, limit, remaining, reset)
	if !ok {
		writeError(w, &apiError{http.StatusTooManyRequests, 42910000, "rate limit exceeded"})
		return
	}
	if rate := math.Float64frombits(s.errorRate.Load()); rate > 0 {
		if unit(s.seed^0x5eed_e770, s.seq.Add(1)) < rate {
			writeError(w, &apiError{http.StatusInternalServerError, 50010000, "internal server error"})
			return
		}
	}

	s.answer(w, rt, request{r: r, param: param, now: now}, fault == TruncatedJSON)
}

// answer runs the route's handler and writes its body or its error; a
// truncated answer stops half way.
func (s *Server) answer(w http.ResponseWriter, rt routeID, req request, truncated bool) {
	bp := bufPool.Get().(*[]byte)
	body, apiErr := routes[rt].h(s, (*bp)[:0], req)
	if apiErr != nil {
		writeError(w, apiErr)
	} else {
		if truncated {
			body = body[:len(body)/2]
		}
		hdr := w.Header()
		hdr.Set("Content-Type", routes[rt].contentType())
		hdr.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	}
	if cap(body) <= maxPooled {
		*bp = body[:0]
		bufPool.Put(bp)
	}
}

// sleep waits d or until ctx ends, and reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) authorized(r *http.Request) bool {
	id := r.Header.Get("APCA-API-KEY-ID")
	secret := r.Header.Get("APCA-API-SECRET-KEY")
	return credentialOK(id, s.cfg.KeyID) && credentialOK(secret, s.cfg.SecretKey)
}

func credentialOK(got, want string) bool {
	if want == "" {
		return got != ""
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) limitNow() int64 {
	if n := s.rateLimit.Load(); n > 0 {
		return n
	}
	return unlimited
}

// take counts one request against the window of now's minute and reports
// the headers to send and whether the request is within the budget.
func (s *Server) take(now time.Time) (limit, remaining, reset int64, ok bool) {
	win := now.Unix() / 60
	s.rlMu.Lock()
	if win != s.rlWindow {
		s.rlWindow, s.rlCount = win, 0
	}
	s.rlCount++
	n := s.rlCount
	s.rlMu.Unlock()
	configured := s.rateLimit.Load()
	limit = s.limitNow()
	return limit, max(limit-n, 0), (win + 1) * 60, configured == 0 || n <= configured
}

func (s *Server) setRateHeaders(h http.Header, limit, remaining, reset int64) {
	h.Set("X-RateLimit-Limit", strconv.FormatInt(limit, 10))
	h.Set("X-RateLimit-Remaining", strconv.FormatInt(remaining, 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
}

func writeError(w http.ResponseWriter, e *apiError) {
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{e.code, e.msg})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

const (
	forbiddenPage = "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n</body>\r\n</html>\r\n"
	errorPage     = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n</body>\r\n</html>\r\n"
)

func writeHTML(w http.ResponseWriter, status int, page string) {
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(page))
}
