package stream_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
	sdk "github.com/alpacahq/alpaca-trade-api-go/v3/marketdata/stream"
	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
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

// Ten SDK clients on one key all receive, over exactly one upstream
// connection.
func TestTenClientsOneUpstream(t *testing.T) {
	clock := runningClock()
	s := startSim(t, clock)
	h := startHub(t, testOptions(s, clock, newRedis(t)))
	cs := make([]*counts, 10)
	for i := range cs {
		cs[i] = &counts{}
		sdkClient(t, h.url, cs[i], "AAPL", "MSFT")
	}
	eventually(t, 10*time.Second, "every client receives quotes and trades", func() bool {
		for _, c := range cs {
			if c.quotes.Load() == 0 || c.trades.Load() == 0 {
				return false
			}
		}
		return true
	})
	if st := simStats(t, s); st.Connections != 1 || st.Total != 1 || st.Refused != 0 {
		t.Fatalf("simulator stream connections = %+v, want exactly one", st)
	}
}

// A dropped upstream and a silent one are both survived: the hub
// reconnects, resubscribes, clients keep receiving, and there is never more
// than one upstream connection.
func TestUpstreamDropAndSilenceSurvived(t *testing.T) {
	clock := runningClock()
	s := startSim(t, clock)
	h := startHub(t, testOptions(s, clock, newRedis(t)))
	var c counts
	sdkClient(t, h.url, &c, "AAPL")
	receiving := func(what string) {
		t.Helper()
		n := c.quotes.Load()
		eventually(t, 10*time.Second, what, func() bool { return c.quotes.Load() > n+3 })
		if st := simStats(t, s); st.Connections != 1 || st.Refused != 0 {
			t.Fatalf("%s: simulator stream connections = %+v, want one", what, st)
		}
	}
	receiving("quotes before any fault")

	simPost(t, s, "/_sim/stream/drop")
	eventually(t, 5*time.Second, "a second upstream connection", func() bool { return simStats(t, s).Total == 2 })
	receiving("quotes after the drop")

	simPost(t, s, "/_sim/stream/silence?on=true")
	drops := h.hub.Stats().UpstreamDrops.Load()
	eventually(t, 5*time.Second, "the silent upstream declared dead", func() bool {
		return h.hub.Stats().UpstreamDrops.Load() > drops
	})
	simPost(t, s, "/_sim/stream/silence?on=false")
	receiving("quotes after the silence")
	if n := h.hub.Stats().UpstreamConnects.Load(); n < 3 {
		t.Fatalf("upstream sessions = %d, want 3", n)
	}
}

// Two hubs on one Redis hold one upstream between them, and a client of
// either receives; stopping the holder hands the upstream over, and the
// client of the survivor goes on receiving.
func TestTwoHubsOneUpstream(t *testing.T) {
	clock := runningClock()
	s := startSim(t, clock)
	rdb := newRedis(t)
	a := startHub(t, testOptions(s, clock, rdb))
	eventually(t, 5*time.Second, "hub A connected", func() bool { return a.hub.Stats().UpstreamConnected.Load() == 1 })
	b := startHub(t, testOptions(s, clock, rdb))
	// A client of the standby B receives, through A's upstream.
	var c counts
	sdkClient(t, b.url, &c, "AAPL")
	eventually(t, 5*time.Second, "B's client receives through A", func() bool { return c.quotes.Load() > 3 })
	if st := simStats(t, s); st.Total != 1 || st.Refused != 0 || b.hub.Stats().UpstreamConnects.Load() != 0 {
		t.Fatalf("with two hubs: simulator %+v, B connects %d; want one upstream, A's", st, b.hub.Stats().UpstreamConnects.Load())
	}
	a.stop()
	n := c.quotes.Load()
	eventually(t, 5*time.Second, "B takes over and its client still receives", func() bool {
		return b.hub.Stats().UpstreamConnects.Load() == 1 && c.quotes.Load() > n+3
	})
	if st := simStats(t, s); st.Connections != 1 || st.Refused != 0 {
		t.Fatalf("after the handover: simulator %+v, want one connection", st)
	}
}

// A holder cut off from Redis (as good as dead to the fleet) stops using
// the upstream before its lease lapses; the standby takes over after the
// lapse, with never two upstream connections.
func TestLeaseLapseHandsOver(t *testing.T) {
	clock := runningClock()
	s := startSim(t, clock)
	rdbA := redis.NewClient(&redis.Options{Addr: redistest.Addr(t)})
	newRedis(t) // clears the leases
	a := startHub(t, testOptions(s, clock, rdbA))
	eventually(t, 5*time.Second, "A connected", func() bool { return a.hub.Stats().UpstreamConnected.Load() == 1 })
	b := startHub(t, testOptions(s, clock, redistest.Client(t)))
	_ = rdbA.Close() // A can no longer renew
	eventually(t, 10*time.Second, "B holds the upstream", func() bool { return b.hub.Stats().UpstreamConnected.Load() == 1 })
	if a.hub.Stats().UpstreamConnected.Load() != 0 {
		t.Fatal("A still connected after B took over")
	}
	if st := simStats(t, s); st.Refused != 0 || st.Total != 2 {
		t.Fatalf("simulator %+v: want two connections in turn, none refused", st)
	}
}

// While another program holds the account's stream, Alpaca refuses the
// hub with 406: the hub counts it, backs off and connects once the other
// program leaves.
func TestUpstreamRefused406(t *testing.T) {
	clock := runningClock()
	s := startSim(t, clock)
	other := dialRawAt(t, s.url, "/v2/iex")
	other.expect(`[{"T":"success","msg":"connected"}]`)
	other.send(`{"action":"auth","key":"` + simKey + `","secret":"` + simSecret + `"}`)
	other.expect(`[{"T":"success","msg":"authenticated"}]`)
	h := startHub(t, testOptions(s, clock, nil))
	eventually(t, 5*time.Second, "the hub refused and counting it", func() bool {
		return h.hub.Stats().UpstreamErrors.Load() > 0 && simStats(t, s).Refused > 0
	})
	if h.hub.Stats().UpstreamConnected.Load() != 0 {
		t.Fatal("hub connected while another program holds the stream")
	}
	_ = other.conn.CloseNow()
	eventually(t, 5*time.Second, "the hub connected after the other program left", func() bool {
		return h.hub.Stats().UpstreamConnected.Load() == 1
	})
}
