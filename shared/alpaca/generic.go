package alpaca

import (
	"context"
	"encoding/json"
	"net/url"
)

// LatestCall describes a multi-symbol call whose answer maps each symbol to
// one value: latest quotes, trades or bars, snapshots, order books.
type LatestCall struct {
	// Endpoint is the origin route template, the metric label and the
	// Endpoint of errors.
	Endpoint string
	// Path is the origin path (the template with its parameters filled in).
	Path string
	// Wrap is the answer's member holding the map ("quotes"), or "" when
	// the whole body is the map (stock snapshots).
	Wrap string
	// Query holds the parameters besides symbols; empty values are not
	// sent.
	Query url.Values
	// Feed names the source of the answer ("alpaca/<feed>"); "" for routes
	// without a feed, whose source is "alpaca".
	Feed string
	// PerCall bounds the symbols of one origin call; 0 bounds the escaped,
	// comma-joined list by Config.MaxStockURLSymbolsLen instead.
	PerCall int
}

// Latest returns each symbol's raw value from a multi-symbol call.
// Repeated symbols are asked once; the list is split as PerCall says and
// the chunks fetched at most Config.MaxConcurrency at a time, every page of
// each. A null value counts as absent. If some chunks fail the result holds
// the others and the error is a *ChunkError.
func (c *Client) Latest(ctx context.Context, call LatestCall, symbols []string) (Multi, error) {
	symbols = dedupe(symbols)
	if len(symbols) == 0 {
		return Multi{Values: map[string]json.RawMessage{}, Source: source(call.Feed, false)}, nil
	}
	chunks := chunkByLen(symbols, c.cfg.MaxStockURLSymbolsLen)
	if call.PerCall > 0 {
		chunks = chunkByCount(symbols, call.PerCall)
	}
	results := runChunks(ctx, chunks, c.cfg.MaxConcurrency, func(ctx context.Context, chunk []string) chunkResult {
		return c.fetchWrapped(ctx, call, chunk)
	})
	return merge(chunks, results, call.Feed)
}

// fetchWrapped fetches every page of one chunk and merges its members.
func (c *Client) fetchWrapped(ctx context.Context, call LatestCall, chunk []string) chunkResult {
	values := make(map[string]json.RawMessage, len(chunk))
	q := url.Values{}
	for k, v := range call.Query {
		q[k] = v
	}
	urlFor := func(token string) string {
		q.Set("page_token", token)
		return buildURL(c.baseURL, call.Path, chunk, q)
	}
	_, sim, err := c.paginate(ctx, call.Endpoint, urlFor, "", true, func(b []byte) (string, error) {
		page, next, err := splitMember(b, call.Wrap)
		if err != nil {
			return "", err
		}
		for k, v := range page {
			values[k] = v
		}
		return next, nil
	})
	return chunkResult{values: values, sim: sim, err: err}
}

// splitMember splits the member wrap of body (the whole body if wrap is
// "") into one raw value per key, nulls dropped, and returns the page's
// next_page_token ("" when absent or null). A bare map has no token.
func splitMember(body []byte, wrap string) (map[string]json.RawMessage, string, error) {
	if wrap == "" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, "", err
		}
		if m == nil {
			return nil, "", errMalformed
		}
		return dropNulls(m), "", nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, "", err
	}
	raw, ok := top[wrap]
	if !ok {
		return nil, "", errMalformed
	}
	var values map[string]json.RawMessage // nil for null
	if err := json.Unmarshal(raw, &values); err != nil {
		return nil, "", err
	}
	var token string
	if t, ok := top["next_page_token"]; ok && !isNull(t) {
		if err := json.Unmarshal(t, &token); err != nil {
			return nil, "", err
		}
	}
	if values == nil {
		values = make(map[string]json.RawMessage)
	}
	return dropNulls(values), token, nil
}

// Page is one answer of a single-page call, kept byte for byte.
type Page struct {
	Body   []byte
	Source string // "alpaca/<feed>", "alpaca", or SourceSimulator
}

// GetPage fetches path with query (already validated and encoded) once,
// retrying as the package documentation says, and returns the 2xx body as
// it came. endpoint is the route template (the metric label); feed names
// the source, "" for none. A body that is not JSON is accepted only when
// raw is set (an image).
func (c *Client) GetPage(ctx context.Context, endpoint, path, query, feed string, raw bool) (Page, error) {
	u := c.baseURL + path
	if query != "" {
		u += "?" + query
	}
	var body []byte
	sim, err := c.get(ctx, endpoint, u, func(b []byte) error {
		if !raw && !json.Valid(b) {
			return errMalformed
		}
		body = b
		return nil
	})
	if err != nil {
		return Page{}, err
	}
	return Page{Body: body, Source: source(feed, sim)}, nil
}

// paginate fetches the page at token and, when all is set, every page after
// it. parse receives each 2xx body and returns the page's next_page_token;
// it must change nothing when it fails (the page is then retried). It
// returns the last page's token when all is false.
func (c *Client) paginate(ctx context.Context, endpoint string, urlFor func(token string) string, token string, all bool, parse func([]byte) (string, error)) (string, bool, error) {
	var sim bool
	for {
		var next string
		s, err := c.get(ctx, endpoint, urlFor(token), func(b []byte) error {
			var err error
			next, err = parse(b)
			return err
		})
		if err != nil {
			return "", false, err
		}
		sim = sim || s
		if !all || next == "" {
			return next, sim, nil
		}
		if next == token {
			return "", false, &Error{Kind: ErrUnavailable, Endpoint: endpoint, Status: 200, Cause: errPageLoop}
		}
		token = next
	}
}
