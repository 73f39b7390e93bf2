package cache

import (
	"context"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// TestClassTTLsAtExactInstants: each class's TTL where sessions matter
// (the close, a weekend, a holiday), and whether an entry survives the
// session change that ends a session-bound one.
func TestClassTTLsAtExactInstants(t *testing.T) {
	p := DefaultPolicy()
	cal := market.Default()
	cases := []struct {
		at   time.Time
		dt   DataType
		want time.Duration
	}{
		{ny(2026, 11, 25, 12, 0, 0), StockQuote, 30 * time.Second},
		{ny(2026, 11, 25, 15, 59, 50), StockQuote, 10 * time.Second}, // cut at the close
		{ny(2026, 11, 25, 15, 59, 50), CryptoQuote, 30 * time.Second},
		{ny(2026, 11, 28, 12, 0, 0), StockQuote, 300 * time.Second}, // Saturday: closed ×10
		{ny(2026, 11, 28, 12, 0, 0), CryptoQuote, 30 * time.Second}, // crypto trades on Saturday
		{ny(2026, 12, 25, 12, 0, 0), CryptoQuote, 30 * time.Second}, // and on Christmas
		{ny(2026, 12, 25, 12, 0, 0), OptionQuote, 600 * time.Second},
		{ny(2026, 11, 25, 15, 59, 50), Screener, 60 * time.Second},
		{ny(2026, 11, 28, 3, 0, 0), News, 60 * time.Second},
		{ny(2026, 11, 28, 3, 0, 0), Reference, time.Hour},
		{ny(2026, 11, 25, 15, 30, 0), HistoricalData, 30 * time.Minute},
	}
	for _, c := range cases {
		if got := p.EntryTTL(c.dt, cal.SpanAt(c.at), c.at); got != c.want {
			t.Errorf("%s at %s: TTL %v, want %v", c.dt, c.at, got, c.want)
		}
	}
}

// TestCryptoEntrySurvivesTheClose: fetched 5 s before the close, a crypto
// entry is served 3 s after it, from L1 and from L2 (the session changed,
// crypto does not care), and not after its 30 s, while a stock quote
// fetched at the same instant ends at the close.
func TestCryptoEntrySurvivesTheClose(t *testing.T) {
	clk := market.NewManualClock(ny(2026, 11, 27, 12, 59, 55)) // Black Friday closes at 13:00
	c := newTestCache(t, redistest.Client(t), clk, nil)
	o := &origin{}
	ctx := context.Background()
	id := ids(t, 1)[0]
	for _, dt := range []DataType{CryptoQuote, StockQuote} {
		if _, err := c.Get(ctx, dt, id, o.fetch); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(8 * time.Second) // 13:00:03, after hours
	for _, c2 := range []struct {
		dt    DataType
		layer Layer
	}{{CryptoQuote, LayerL1}, {StockQuote, LayerOrigin}} {
		r, err := c.Get(ctx, c2.dt, id, o.fetch)
		if err != nil || r.Layer != c2.layer {
			t.Errorf("%s after the close: layer %v %v, want %v", c2.dt, r.Layer, err, c2.layer)
		}
	}
	c.PurgeL1()
	if r, err := c.Get(ctx, CryptoQuote, id, o.fetch); err != nil || r.Layer != LayerL2 {
		t.Errorf("crypto from L2 after the close: %v %v", r.Layer, err)
	}
	clk.Advance(23 * time.Second) // 31 s after the fetch
	if r, err := c.Get(ctx, CryptoQuote, id, o.fetch); err != nil || r.Layer != LayerOrigin {
		t.Errorf("crypto 31 s old: %v %v, want a new fetch", r.Layer, err)
	}
}

// TestSessionBound names the classes that follow the market session.
func TestSessionBound(t *testing.T) {
	want := map[DataType]bool{StockQuote: true, OptionQuote: true, HistoricalData: true,
		CryptoQuote: false, Reference: false, Screener: false, News: false}
	for _, dt := range DataTypes {
		if dt.SessionBound() != want[dt] {
			t.Errorf("%s.SessionBound() = %v", dt, dt.SessionBound())
		}
	}
	if len(want) != len(DataTypes) {
		t.Errorf("DataTypes = %v", DataTypes)
	}
}
