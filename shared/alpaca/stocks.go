package alpaca

import (
	"context"
	"net/url"
)

// LatestStockQuotes returns the raw quote of each symbol from
// GET /v2/stocks/quotes/latest. Repeated symbols are asked once. The list is
// split into chunks whose escaped, comma-joined symbols fit in
// Config.MaxStockURLSymbolsLen, fetched at most Config.MaxConcurrency at a
// time. If some chunks fail, the result holds the others and the error is a
// *ChunkError. feed "" means Config.StockFeed.
func (c *Client) LatestStockQuotes(ctx context.Context, symbols []string, feed string) (Multi, error) {
	if feed == "" {
		feed = c.cfg.StockFeed
	}
	return c.Latest(ctx, LatestCall{Endpoint: EndpointStockQuotes, Path: "/v2/stocks/quotes/latest", Wrap: "quotes",
		Query: url.Values{"feed": {feed}}, Feed: feed}, symbols)
}
