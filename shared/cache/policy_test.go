package cache

import (
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

func TestPolicyTTL(t *testing.T) {
	p := DefaultPolicy()
	cases := []struct {
		dt   DataType
		s    market.Session
		want time.Duration
	}{
		{StockQuote, market.Regular, 30 * time.Second},
		{StockQuote, market.PreMarket, 90 * time.Second},
		{StockQuote, market.AfterHours, 90 * time.Second},
		{StockQuote, market.Closed, 300 * time.Second},
		{OptionQuote, market.Regular, 60 * time.Second},
		{OptionQuote, market.PreMarket, 180 * time.Second},
		{OptionQuote, market.Closed, 600 * time.Second},
		{HistoricalData, market.Regular, time.Hour},
		{HistoricalData, market.AfterHours, 3 * time.Hour},
		{HistoricalData, market.Closed, 10 * time.Hour},
	}
	for _, c := range cases {
		if got := p.TTL(c.dt, c.s); got != c.want {
			t.Errorf("TTL(%s, %s) = %v, want %v", c.dt, c.s, got, c.want)
		}
	}
	var zero Policy
	if got := zero.TTL(StockQuote, market.Regular); got != 30*time.Second {
		t.Errorf("zero policy TTL = %v, want the default 30s", got)
	}
}

func TestPolicyClamp(t *testing.T) {
	p := DefaultPolicy()
	cases := []struct {
		dt      DataType
		in      time.Duration
		want    time.Duration
		clamped bool
	}{
		{StockQuote, 45 * time.Second, 30 * time.Second, true}, // never past the SLO
		{StockQuote, 15 * time.Second, 15 * time.Second, false},
		{StockQuote, 0, MinTTL, true},
		{StockQuote, -time.Second, MinTTL, true},
		{OptionQuote, 2 * time.Minute, time.Minute, true},
		{HistoricalData, 2 * time.Hour, time.Hour, true},
		{HistoricalData, 20 * time.Minute, 20 * time.Minute, false},
	}
	for _, c := range cases {
		q, clamped := p.WithBase(c.dt, c.in)
		if q.Base(c.dt) != c.want || clamped != c.clamped {
			t.Errorf("WithBase(%s, %v) = %v clamped=%v, want %v clamped=%v", c.dt, c.in, q.Base(c.dt), clamped, c.want, c.clamped)
		}
		if q.TTL(c.dt, market.Regular) > MaxAge(c.dt) {
			t.Errorf("regular TTL %v exceeds the SLO %v", q.TTL(c.dt, market.Regular), MaxAge(c.dt))
		}
	}
	if p.Base(StockQuote) != 30*time.Second {
		t.Error("WithBase changed the receiver")
	}
}

func TestEntryTTLCutAtSessionEnd(t *testing.T) {
	cal := market.Default()
	p := DefaultPolicy()
	cases := []struct {
		name string
		at   time.Time
		dt   DataType
		want time.Duration
	}{
		{"mid session", ny(2026, 11, 25, 11, 0, 0), StockQuote, 30 * time.Second},
		{"10s before the close", ny(2026, 11, 25, 15, 59, 50), StockQuote, 10 * time.Second},
		{"rounded down: never past the close", ny(2026, 11, 25, 15, 59, 50).Add(300 * time.Millisecond), StockQuote, 9 * time.Second},
		{"early close 2026-11-27", ny(2026, 11, 27, 12, 59, 45), OptionQuote, 15 * time.Second},
		{"pre-market x3", ny(2026, 11, 27, 8, 0, 0), StockQuote, 90 * time.Second},
		{"last 100ms is still 1s", ny(2026, 11, 25, 15, 59, 59).Add(900 * time.Millisecond), StockQuote, time.Second},
		{"thanksgiving closed x10", ny(2026, 11, 26, 12, 0, 0), StockQuote, 300 * time.Second},
		{"historical near close", ny(2026, 11, 25, 15, 30, 0), HistoricalData, 30 * time.Minute},
	}
	for _, c := range cases {
		if got := p.EntryTTL(c.dt, cal.SpanAt(c.at), c.at); got != c.want {
			t.Errorf("%s: EntryTTL = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestKey(t *testing.T) {
	cases := map[string]string{
		Key(StockQuote, "AAPL"):                         "opitios:v2:stock_quote:AAPL",
		Key(StockQuote, "brk.b"):                        "opitios:v2:stock_quote:BRK.B",
		Key(OptionQuote, "AAPL240426C00152500"):         "opitios:v2:option_quote:AAPL240426C00152500",
		Key(HistoricalData, "AAPL:1a2b"):                "opitios:v2:historical_data:AAPL:1A2B",
		lockKey("opitios:v2:stock_quote:AAPL"):          "opitios:v2:lock:stock_quote:AAPL",
		lockKey(Key(OptionQuote, "SPY261127P00600000")): "opitios:v2:lock:option_quote:SPY261127P00600000",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
