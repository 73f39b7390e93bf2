package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
	sdk "github.com/alpacahq/alpaca-trade-api-go/v3/marketdata/stream"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// The program wires the environment to the hub: against a simulator's
// streams, /healthz turns 200 and the SDK receives quotes at /v2/iex with
// a key from OPITIOS_CLIENT_KEYS.
func TestRunServesStreams(t *testing.T) {
	start := time.Now()
	session := time.Date(2026, 3, 10, 11, 0, 0, 0, market.NewYork)
	clock := market.ClockFunc(func() time.Time { return session.Add(time.Since(start)) })
	sim := alpacasim.New(alpacasim.Config{KeyID: "k", SecretKey: "s", Clock: clock})
	up := httptest.NewServer(alpacasim.NewStreams(sim, alpacasim.StreamConfig{Tick: 20 * time.Millisecond}))
	defer up.Close()
	port := strconv.Itoa(redistest.FreePort(t))
	env := map[string]string{
		"ALPACA_API_KEY_ID": "k", "ALPACA_API_SECRET_KEY": "s", "STREAM_URL": up.URL,
		"OPITIOS_CLIENT_KEYS": "me:my-secret", "PORT": port,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not 200 within 10 s (%v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var quotes atomic.Int64
	cl := sdk.NewStocksClient(marketdata.IEX, sdk.WithBaseURL(base+"/v2"), sdk.WithCredentials("me", "my-secret"),
		sdk.WithQuotes(func(sdk.Quote) { quotes.Add(1) }, "AAPL"))
	cctx, ccancel := context.WithCancel(context.Background())
	if err := cl.Connect(cctx); err != nil {
		t.Fatal(err)
	}
	for quotes.Load() < 3 {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatal("no quotes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ccancel()
	<-cl.Terminated()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}
