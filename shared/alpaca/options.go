package alpaca

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
)

// LatestOptionQuotes returns the raw quote of each OCC symbol from
// GET /v1beta1/options/quotes/latest, in chunks of at most 100 symbols
// fetched at most Config.MaxConcurrency at a time. Repeated symbols are
// asked once. If some chunks fail the result holds the others and the error
// is a *ChunkError. feed "" means Config.OptionFeed.
func (c *Client) LatestOptionQuotes(ctx context.Context, symbols []string, feed string) (Multi, error) {
	if feed == "" {
		feed = c.cfg.OptionFeed
	}
	return c.Latest(ctx, LatestCall{Endpoint: EndpointOptionQuotes, Path: "/v1beta1/options/quotes/latest", Wrap: "quotes",
		Query: url.Values{"feed": {feed}}, Feed: feed, PerCall: maxOptionSymbols}, symbols)
}

// ChainParams are the filters of the option chain endpoint; empty (zero)
// fields are not sent. Feed "" means Config.OptionFeed.
type ChainParams struct {
	Type                     string // "call" or "put"
	StrikeGTE, StrikeLTE     string
	Expiration               string // expiration_date
	ExpirationGTE            string
	ExpirationLTE            string
	RootSymbol, UpdatedSince string
	PageToken, Feed          string
	Limit                    int
}

func (p ChainParams) query(feed string) url.Values {
	q := url.Values{
		"type":                {p.Type},
		"strike_price_gte":    {p.StrikeGTE},
		"strike_price_lte":    {p.StrikeLTE},
		"expiration_date":     {p.Expiration},
		"expiration_date_gte": {p.ExpirationGTE},
		"expiration_date_lte": {p.ExpirationLTE},
		"root_symbol":         {p.RootSymbol},
		"updated_since":       {p.UpdatedSince},
		"feed":                {feed},
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

// Chain is the answer of OptionChain.
type Chain struct {
	// Snapshots holds the raw snapshot of each contract, byte for byte; a
	// contract seen on several pages keeps its last value.
	Snapshots map[string]json.RawMessage
	// NextPageToken is the origin's token for the next page when only one
	// page was asked for; "" when there is none or all pages were fetched.
	NextPageToken string
	// Source is "alpaca/<feed>" or SourceSimulator.
	Source string
}

// OptionChain fetches the snapshots of an underlying's contracts from
// GET /v1beta1/options/snapshots/{underlying}. With allPages it follows
// next_page_token to the end, from p.PageToken, and merges the pages;
// without it, it fetches the one page at p.PageToken and returns the
// origin's next token.
func (c *Client) OptionChain(ctx context.Context, underlying string, p ChainParams, allPages bool) (Chain, error) {
	feed := p.Feed
	if feed == "" {
		feed = c.cfg.OptionFeed
	}
	q := p.query(feed)
	path := "/v1beta1/options/snapshots/" + url.PathEscape(underlying)
	urlFor := func(tok string) string {
		q.Set("page_token", tok)
		return buildURL(c.baseURL, path, nil, q)
	}
	snaps := make(map[string]json.RawMessage)
	next, sim, err := c.paginate(ctx, EndpointOptionChain, urlFor, p.PageToken, allPages, func(b []byte) (string, error) {
		page, next, err := splitMember(b, "snapshots")
		if err != nil {
			return "", err
		}
		for k, v := range page {
			snaps[k] = v
		}
		return next, nil
	})
	if err != nil {
		return Chain{}, err
	}
	return Chain{Snapshots: snaps, NextPageToken: next, Source: source(feed, sim)}, nil
}
