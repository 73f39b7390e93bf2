package main

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
	sdk "github.com/alpacahq/alpaca-trade-api-go/v3/marketdata/stream"

	"github.com/opitios/opitios-alpaca/shared/auth"
)

// `make run` serves the stream hub on the API's port at Alpaca's paths: the
// official SDK connects by base URL and receives quotes, and the REST
// route then answers the streamed quote from the cache.
func TestLocalStreamHub(t *testing.T) {
	p := startProgram(t, envNoRedisServer+"=1", envSimAt+"=2026-11-25T14:00:00-05:00", envPrefetchEvery+"=0")
	p.waitReady(t)
	ws := strings.Replace(p.api, "http://", "ws://", 1)
	for _, path := range []string{"/v2/iex", "/v1beta1/indicative", "/v1beta3/crypto/us", "/v1beta1/news"} {
		if !strings.Contains(p.stdout.String(), ws+path) {
			t.Errorf("the banner lacks %s:\n%s", ws+path, p.stdout)
		}
	}
	var quotes atomic.Int64
	cl := sdk.NewStocksClient(marketdata.IEX, sdk.WithBaseURL(p.api+"/v2"),
		sdk.WithCredentials(auth.DevKeyID, auth.DevSecret),
		sdk.WithQuotes(func(q sdk.Quote) {
			if q.Symbol == "AAPL" && q.AskPrice > 0 {
				quotes.Add(1)
			}
		}, "AAPL"))
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); <-cl.Terminated() }()
	if err := cl.Connect(ctx); err != nil {
		t.Fatalf("SDK connect: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for quotes.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no quotes within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // past a flush to L2
	r := getOK(t, p.api+"/v2/stocks/AAPL/quotes/latest")
	if src := r.header.Get("X-Data-Source"); src != "alpaca-sim+stream" || !strings.HasPrefix(r.header.Get("X-Cache"), "HIT") {
		t.Errorf("REST latest quote: X-Data-Source %q, X-Cache %q; want alpaca-sim+stream from the cache", src, r.header.Get("X-Cache"))
	}
	stopCleanly(t, p)
}
