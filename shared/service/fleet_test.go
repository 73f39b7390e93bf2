package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// TestFleetStampedeMakesOneOriginCall runs four independent stacks (own L1,
// own origin client, one Redis), as four Lambda instances would, and fires
// 200 concurrent requests for one cold symbol across them: the origin must
// see exactly one request.
func TestFleetStampedeMakesOneOriginCall(t *testing.T) {
	clk := sessionClock()
	sim, simSrv := alpacasim.NewTestServer(t, alpacasim.Config{KeyID: "k", SecretKey: "s", Latency: 50 * time.Millisecond, Clock: clk})
	rs := redistest.StartServer(t)
	var fleet []*service.Service
	for range 4 {
		svc, err := service.New(service.Config{
			Redis:  cache.RedisConfig{URL: "redis://" + rs.Addr, Timeout: time.Second},
			Alpaca: alpaca.Config{BaseURL: simSrv.URL, KeyID: "k", SecretKey: "s"},
			Clock:  clk,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = svc.Close() })
		fleet = append(fleet, svc)
	}
	var wg sync.WaitGroup
	statuses := make(chan int, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r := (&faultStack{svc: fleet[i%4]}).get(ctx, "/v2/stocks/NVDA/quotes/latest", "")
			statuses <- r.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Fatalf("status %d", s)
		}
	}
	if n := sim.Stats().TotalRequests; n != 1 {
		t.Fatalf("the origin saw %d requests for one cold symbol across 4 instances, want 1", n)
	}
}
