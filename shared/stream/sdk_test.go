package stream_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
	sdk "github.com/alpacahq/alpaca-trade-api-go/v3/marketdata/stream"

	"github.com/opitios/opitios-alpaca/shared/auth"
)

// counts counts what an SDK client received.
type counts struct{ trades, quotes, bars atomic.Int64 }

func sdkClient(t *testing.T, hubURL string, c *counts, syms ...string) *sdk.StocksClient {
	t.Helper()
	cl := sdk.NewStocksClient(marketdata.IEX,
		sdk.WithBaseURL(hubURL+"/v2"),
		sdk.WithCredentials(auth.DevKeyID, auth.DevSecret),
		sdk.WithTrades(func(tr sdk.Trade) {
			if tr.Price > 0 && tr.Symbol != "" && !tr.Timestamp.IsZero() {
				c.trades.Add(1)
			}
		}, syms...),
		sdk.WithQuotes(func(q sdk.Quote) {
			if q.AskPrice > 0 && q.BidPrice > 0 && q.Symbol != "" && !q.Timestamp.IsZero() {
				c.quotes.Add(1)
			}
		}, syms...),
		sdk.WithBars(func(b sdk.Bar) {
			if b.Close > 0 && b.Symbol != "" {
				c.bars.Add(1)
			}
		}, syms...),
	)
	ctx, cancel := context.WithCancel(context.Background())
	if err := cl.Connect(ctx); err != nil {
		cancel()
		t.Fatalf("SDK connect: %v", err)
	}
	t.Cleanup(func() { cancel(); <-cl.Terminated() })
	return cl
}

// The official SDK connects by base URL, subscribes and receives trades,
// quotes and minute bars.
func TestSDKReceivesTradesQuotesBars(t *testing.T) {
	// The market runs 60x real time from a minute's end, so a bar
	// completes within a second.
	start := time.Now()
	clock := clockFunc(func() time.Time { return session.Add(-2*time.Second + 60*time.Since(start)) })
	s := startSim(t, clock)
	h := startHub(t, testOptions(s, clock, newRedis(t)))
	var c counts
	sdkClient(t, h.url, &c, "AAPL", "MSFT")
	eventually(t, 10*time.Second, "trades, quotes and bars", func() bool {
		return c.trades.Load() > 0 && c.quotes.Load() > 0 && c.bars.Load() > 0
	})
}
