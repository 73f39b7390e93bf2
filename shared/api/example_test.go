package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// exampleOrigin answers latest stock quotes with a fixed quote.
type exampleOrigin struct{ api.Origin }

func (exampleOrigin) Latest(_ context.Context, call alpaca.LatestCall, symbols []string) (alpaca.Multi, error) {
	m := alpaca.Multi{Values: map[string]json.RawMessage{}, Source: "alpaca/" + call.Feed}
	for _, s := range symbols {
		m.Values[s] = json.RawMessage(`{"ap":187.5,"bp":187.4}`)
	}
	return m, nil
}

func ExampleHandler_Handle() {
	clk := market.NewManualClock(time.Date(2026, 11, 25, 14, 0, 0, 0, market.NewYork))
	h := api.New(api.Config{
		Cache:  cache.New(cache.Options{Clock: clk}), // add Redis for L2
		Origin: exampleOrigin{},
		Clock:  clk,
	})
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/v2/stocks/AAPL/quotes/latest"}
	ev.RequestContext.HTTP.Method = "GET"

	resp, _ := h.Handle(context.Background(), ev)
	fmt.Println(resp.StatusCode, resp.Headers["X-Cache"], resp.Headers["X-Data-Source"], resp.Body)

	clk.Advance(5 * time.Second)
	resp, _ = h.Handle(context.Background(), ev)
	fmt.Println(resp.Headers["X-Cache"], resp.Headers["Age"], resp.Headers["Cache-Control"], resp.Headers["X-Market-Session"])
	// Output:
	// 200 MISS alpaca/iex {"symbol":"AAPL","quote":{"ap":187.5,"bp":187.4}}
	// HIT-L1 5 private, max-age=30 regular
}
