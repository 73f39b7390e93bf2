package alpaca

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
)

// presentRaw is a raw JSON member that remembers whether it was present;
// raw stays nil for an explicit null.
type presentRaw struct {
	present bool
	raw     json.RawMessage
}

// UnmarshalJSON is called for null too (encoding/json's contract).
func (p *presentRaw) UnmarshalJSON(b []byte) error {
	p.present = true
	if !isNull(b) {
		p.raw = append(json.RawMessage(nil), b...)
	}
	return nil
}

// LatestStockQuote returns the raw "quote" object of
// GET /v2/stocks/{symbol}/quotes/latest and its source ("alpaca/<feed>" or
// SourceSimulator). feed "" means Config.StockFeed. A 200 whose quote is
// null is ErrNotFound.
func (c *Client) LatestStockQuote(ctx context.Context, symbol, feed string) (json.RawMessage, string, error) {
	if feed == "" {
		feed = c.cfg.StockFeed
	}
	u := buildURL(c.baseURL, "/v2/stocks/"+url.PathEscape(symbol)+"/quotes/latest", nil, url.Values{"feed": {feed}})
	var body struct {
		Quote presentRaw `json:"quote"`
	}
	sim, err := c.get(ctx, EndpointStockQuote, u, func(b []byte) error {
		body.Quote = presentRaw{}
		if err := json.Unmarshal(b, &body); err != nil {
			return err
		}
		if !body.Quote.present {
			return errMalformed
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if body.Quote.raw == nil {
		return nil, "", &Error{Kind: ErrNotFound, Endpoint: EndpointStockQuote, Status: 200, Message: "no quote for the symbol"}
	}
	return body.Quote.raw, source(feed, sim), nil
}

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

// BarParams are the query parameters of the bars endpoints; empty (zero)
// fields are not sent. Feed "" means Config.StockFeed.
type BarParams struct {
	Timeframe, Start, End string
	Limit                 int
	Adjustment, Asof      string
	Feed, Currency        string
	PageToken, Sort       string
}

func (p BarParams) query(feed string) url.Values {
	q := url.Values{
		"timeframe":  {p.Timeframe},
		"start":      {p.Start},
		"end":        {p.End},
		"adjustment": {p.Adjustment},
		"asof":       {p.Asof},
		"feed":       {feed},
		"currency":   {p.Currency},
		"sort":       {p.Sort},
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

// Bars is the answer of StockBars.
type Bars struct {
	// Bars holds, per symbol, a JSON array of the origin's bars, byte for
	// byte: the pages of a symbol are spliced into one array without
	// decoding a bar. A symbol the origin answered with an empty array
	// has "[]"; one it left out (or answered null) is in Missing.
	Bars map[string]json.RawMessage
	// NextPageToken is the origin's token for the next page when only one
	// page was asked for; "" when there is none or all pages were fetched.
	NextPageToken string
	// Missing lists, in request order, the requested symbols without bars.
	Missing []string
	// Source is "alpaca/<feed>" or SourceSimulator.
	Source string
}

// StockBars fetches bars. One symbol uses GET /v2/stocks/{symbol}/bars
// (whose body holds "bars":[…]); several use GET /v2/stocks/bars, split
// into URL-length chunks like LatestStockQuotes. With allPages it follows
// next_page_token to the end, from p.PageToken, and splices the pages;
// without it, it fetches the one page at p.PageToken and returns the
// origin's next token, and a symbol list too long for one request is
// ErrInvalidRequest (a page token cannot span chunks). If some chunks fail
// the result holds the others and the error is a *ChunkError.
func (c *Client) StockBars(ctx context.Context, symbols []string, p BarParams, allPages bool) (Bars, error) {
	feed := p.Feed
	if feed == "" {
		feed = c.cfg.StockFeed
	}
	symbols = dedupe(symbols)
	switch len(symbols) {
	case 0:
		return Bars{Bars: map[string]json.RawMessage{}, Source: source(feed, false)}, nil
	case 1:
		return c.singleBars(ctx, symbols[0], p, feed, allPages)
	}
	chunks := chunkByLen(symbols, c.cfg.MaxStockURLSymbolsLen)
	if !allPages && len(chunks) > 1 {
		return Bars{}, &Error{Kind: ErrInvalidRequest, Endpoint: EndpointStocksBars,
			Message: "symbol list too long for a single-page request"}
	}
	var token string
	results := runChunks(ctx, chunks, c.cfg.MaxConcurrency, func(ctx context.Context, chunk []string) chunkResult {
		parts := make(map[string][]json.RawMessage, len(chunk))
		q := p.query(feed)
		urlFor := func(tok string) string {
			q.Set("page_token", tok)
			return buildURL(c.baseURL, "/v2/stocks/bars", chunk, q)
		}
		next, sim, err := c.paginate(ctx, EndpointStocksBars, urlFor, p.PageToken, allPages, func(b []byte) (string, error) {
			page, next, err := splitMember(b, "bars")
			if err != nil {
				return "", err
			}
			for _, v := range page {
				if !isArray(v) {
					return "", errMalformed
				}
			}
			for k, v := range page {
				parts[k] = append(parts[k], v)
			}
			return next, nil
		})
		if !allPages {
			token = next // a single chunk: no race
		}
		values := make(map[string]json.RawMessage, len(parts))
		for k, v := range parts {
			values[k] = spliceArrays(v)
		}
		return chunkResult{values: values, sim: sim, err: err}
	})
	m, err := merge(chunks, results, feed)
	return Bars{Bars: m.Values, NextPageToken: token, Missing: m.Missing, Source: m.Source}, err
}

func (c *Client) singleBars(ctx context.Context, symbol string, p BarParams, feed string, allPages bool) (Bars, error) {
	q := p.query(feed)
	path := "/v2/stocks/" + url.PathEscape(symbol) + "/bars"
	urlFor := func(tok string) string {
		q.Set("page_token", tok)
		return buildURL(c.baseURL, path, nil, q)
	}
	var parts []json.RawMessage
	next, sim, err := c.paginate(ctx, EndpointStockBars, urlFor, p.PageToken, allPages, func(b []byte) (string, error) {
		var body struct {
			Bars          presentRaw `json:"bars"`
			NextPageToken *string    `json:"next_page_token"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			return "", err
		}
		if !body.Bars.present || (body.Bars.raw != nil && !isArray(body.Bars.raw)) {
			return "", errMalformed
		}
		if body.Bars.raw != nil {
			parts = append(parts, body.Bars.raw)
		}
		if body.NextPageToken == nil {
			return "", nil
		}
		return *body.NextPageToken, nil
	})
	if err != nil {
		return Bars{}, err
	}
	out := Bars{Bars: map[string]json.RawMessage{}, NextPageToken: next, Source: source(feed, sim)}
	if len(parts) == 0 {
		out.Missing = []string{symbol}
	} else {
		out.Bars[symbol] = spliceArrays(parts)
	}
	return out, nil
}

// isArray reports whether a raw JSON value is an array.
func isArray(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) >= 2 && v[0] == '[' && v[len(v)-1] == ']'
}

// spliceArrays concatenates JSON arrays into one without decoding their
// elements. A single array is returned as is.
func spliceArrays(parts []json.RawMessage) json.RawMessage {
	if len(parts) == 1 {
		return parts[0]
	}
	inners := make([][]byte, 0, len(parts))
	n := 2
	for _, p := range parts {
		p = bytes.TrimSpace(p)
		inner := bytes.TrimSpace(p[1 : len(p)-1])
		if len(inner) > 0 {
			inners = append(inners, inner)
			n += len(inner) + 1
		}
	}
	out := make([]byte, 1, n)
	out[0] = '['
	for i, inner := range inners {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, inner...)
	}
	return append(out, ']')
}
