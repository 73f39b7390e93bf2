package alpacasim_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// friday is the default test instant: 10:00 New York time on the day after
// Thanksgiving 2026, an early-close day (regular session until 13:00).
var friday = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

const (
	testKey    = "test-key"
	testSecret = "test-secret"
)

func fixed(t time.Time) market.Clock { return market.ClockFunc(func() time.Time { return t }) }

// movable is a clock tests can set.
type movable struct{ t time.Time }

func (m *movable) Now() time.Time { return m.t }

func newSim(t *testing.T, cfg alpacasim.Config) (*alpacasim.Server, *httptest.Server) {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = fixed(friday)
	}
	return alpacasim.NewTestServer(t, cfg)
}

// sdk is the official Alpaca client pointed at the simulator, with retries
// effectively off (RetryLimit 0 means the default, 10).
func sdk(ts *httptest.Server) *marketdata.Client {
	return marketdata.NewClient(marketdata.ClientOpts{
		BaseURL:    ts.URL,
		APIKey:     testKey,
		APISecret:  testSecret,
		RetryLimit: 1,
		RetryDelay: time.Millisecond,
	})
}

type reply struct {
	status int
	header http.Header
	body   string
}

// get performs one authenticated GET.
func get(t *testing.T, ts *httptest.Server, path string) reply {
	t.Helper()
	return do(t, ts, http.MethodGet, path, map[string]string{
		"APCA-API-KEY-ID": testKey, "APCA-API-SECRET-KEY": testSecret,
	})
}

func do(t *testing.T, ts *httptest.Server, method, path string, headers map[string]string) reply {
	t.Helper()
	r, err := try(ts, method, path, headers)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// try performs one request; safe to call from any goroutine.
func try(ts *httptest.Server, method, path string, headers map[string]string) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, ts.URL+path, nil)
	if err != nil {
		return reply{}, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{resp.StatusCode, resp.Header, string(b)}, nil
}

var occPattern = regexp.MustCompile(`^[A-Z]{1,6}\d{6}[CP]\d{8}$`)

// session reports whether t lies in the extended session [04:00, 20:00) (or
// the early-close equivalent) of a trading day.
func inExtendedSession(t time.Time) bool {
	y, m, d := t.In(market.NewYork).Date()
	h := market.Default().Day(y, m, d)
	return h.Trading && !t.Before(h.PreOpen) && t.Before(h.AfterClose)
}

func inRegularSession(t time.Time) bool {
	y, m, d := t.In(market.NewYork).Date()
	h := market.Default().Day(y, m, d)
	return h.Trading && !t.Before(h.Open) && !t.After(h.Close)
}

// nyMidnightOfTradingDay reports whether t is New York midnight of a trading
// day.
func nyMidnightOfTradingDay(t time.Time) bool {
	ny := t.In(market.NewYork)
	y, m, d := ny.Date()
	return ny.Hour() == 0 && ny.Minute() == 0 && ny.Second() == 0 && ny.Nanosecond() == 0 &&
		market.Default().Day(y, m, d).Trading
}

func checkQuote(t *testing.T, sym string, q marketdata.Quote, now time.Time) {
	t.Helper()
	if q.BidPrice <= 0 || q.AskPrice <= 0 || q.BidPrice > q.AskPrice {
		t.Errorf("%s: bid %v ask %v", sym, q.BidPrice, q.AskPrice)
	}
	if q.BidSize == 0 || q.AskSize == 0 {
		t.Errorf("%s: sizes %d/%d", sym, q.BidSize, q.AskSize)
	}
	if q.Timestamp.After(now) || !inExtendedSession(q.Timestamp) {
		t.Errorf("%s: quote time %v (now %v) outside a session", sym, q.Timestamp, now)
	}
	if q.AskExchange == "" || q.BidExchange == "" || len(q.Conditions) == 0 {
		t.Errorf("%s: exchanges %q/%q conditions %v", sym, q.AskExchange, q.BidExchange, q.Conditions)
	}
	if q.Tape != "A" && q.Tape != "B" && q.Tape != "C" {
		t.Errorf("%s: tape %q", sym, q.Tape)
	}
}

func checkBar(t *testing.T, what string, b marketdata.Bar) {
	t.Helper()
	if b.Open <= 0 || b.Close <= 0 || b.Low <= 0 ||
		b.High < max(b.Open, b.Close) || b.Low > min(b.Open, b.Close) ||
		b.VWAP < b.Low || b.VWAP > b.High || b.Volume == 0 || b.TradeCount == 0 {
		t.Errorf("%s: bad bar %+v", what, b)
	}
}

func checkOptionQuote(t *testing.T, sym string, q marketdata.OptionQuote, now time.Time) {
	t.Helper()
	if q.BidPrice <= 0 || q.AskPrice <= 0 || q.BidPrice > q.AskPrice || q.BidSize == 0 || q.AskSize == 0 {
		t.Errorf("%s: bad option quote %+v", sym, q)
	}
	if q.Timestamp.After(now) || !inRegularSession(q.Timestamp) {
		t.Errorf("%s: option quote time %v outside a regular session", sym, q.Timestamp)
	}
	if q.Condition == "" || q.AskExchange == "" || q.BidExchange == "" {
		t.Errorf("%s: option quote fields %+v", sym, q)
	}
}

func checkOptionSnapshot(t *testing.T, sym string, s marketdata.OptionSnapshot, now time.Time) {
	t.Helper()
	if s.LatestQuote == nil || s.LatestTrade == nil || s.Greeks == nil {
		t.Fatalf("%s: incomplete snapshot %+v", sym, s)
	}
	checkOptionQuote(t, sym, *s.LatestQuote, now)
	tr := s.LatestTrade
	if tr.Price <= 0 || tr.Size == 0 || tr.Timestamp.After(now) || !inRegularSession(tr.Timestamp) {
		t.Errorf("%s: bad trade %+v", sym, *tr)
	}
	put := sym[len(sym)-9] == 'P'
	d := s.Greeks.Delta
	if (put && (d <= -1 || d >= 0)) || (!put && (d <= 0 || d >= 1)) {
		t.Errorf("%s: delta %v", sym, d)
	}
	if s.Greeks.Gamma < 0 || s.Greeks.Vega < 0 || s.ImpliedVolatility <= 0 || s.ImpliedVolatility > 3 {
		t.Errorf("%s: greeks %+v iv %v", sym, *s.Greeks, s.ImpliedVolatility)
	}
}
