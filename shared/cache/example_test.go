package cache_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// quotes is a stand-in for the origin: it answers every symbol but ZZZZ.
func quotes(_ context.Context, ids []string) (map[string]cache.Item, error) {
	out := map[string]cache.Item{}
	for _, id := range ids {
		if id != "ZZZZ" {
			out[id] = cache.Item{Data: json.RawMessage(`{"ap":1.5,"bp":1.4}`), Source: "alpaca/iex"}
		}
	}
	return out, nil
}

func ExampleCache_Get() {
	clk := market.NewManualClock(time.Date(2026, 11, 25, 14, 0, 0, 0, market.NewYork)) // regular session
	c := cache.New(cache.Options{Clock: clk})                                          // L1 only: no Redis
	ctx := context.Background()

	r, _ := c.Get(ctx, cache.StockQuote, "AAPL", quotes)
	fmt.Println(r.Layer, r.Entry.TTL, string(r.Entry.Data))

	clk.Advance(4 * time.Second)
	r, _ = c.Get(ctx, cache.StockQuote, "AAPL", quotes)
	fmt.Println(r.Layer, r.Entry.Age(r.At), r.Entry.Left(r.At))

	_, err := c.Get(ctx, cache.StockQuote, "ZZZZ", quotes)
	fmt.Println(err)
	// Output:
	// origin 30s {"ap":1.5,"bp":1.4}
	// l1 4s 26s
	// cache: not found at origin
}

func ExampleCache_GetMany() {
	clk := market.NewManualClock(time.Date(2026, 11, 25, 14, 0, 0, 0, market.NewYork))
	c := cache.New(cache.Options{Clock: clk})
	ctx := context.Background()
	_, _ = c.Get(ctx, cache.StockQuote, "AAPL", quotes)

	res, errs := c.GetMany(ctx, cache.StockQuote, []string{"AAPL", "MSFT", "ZZZZ"}, quotes)
	fmt.Println(res["AAPL"].Layer, res["MSFT"].Layer, errs["ZZZZ"])
	// Output: l1 origin cache: not found at origin
}

func ExampleCache_Store() {
	clk := market.NewManualClock(time.Date(2026, 11, 25, 14, 0, 0, 0, market.NewYork))
	c := cache.New(cache.Options{Clock: clk})
	// What a scheduled refresh fetched is written through the same TTL
	// policy; without Redis only L1 keeps it, and Store reports no L2 write.
	n, err := c.Store(context.Background(), cache.StockQuote, map[string]cache.Item{
		"AAPL": {Data: json.RawMessage(`{"ap":1.5}`), Source: "alpaca/iex"},
	})
	fmt.Println(n, err)
	r, _ := c.Get(context.Background(), cache.StockQuote, "AAPL", quotes)
	fmt.Println(r.Layer, string(r.Entry.Data))
	// Output:
	// 0 <nil>
	// l1 {"ap":1.5}
}
