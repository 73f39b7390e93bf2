package alpaca

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
)

// Multi is the answer of a multi-symbol call.
type Multi struct {
	// Values holds, per symbol, the origin's JSON value for it, byte for
	// byte as the origin sent it. A symbol whose value is JSON null is
	// treated as absent.
	Values map[string]json.RawMessage
	// Missing lists, in request order, the requested symbols the origin's
	// answer did not hold (symbols are matched exactly, case included). It
	// is not an error of the call.
	Missing []string
	// Source is "alpaca/<feed>" ("alpaca" for a call without a feed), or
	// SourceSimulator when any chunk's response carried SimulatorHeader:
	// true.
	Source string
}

// dedupe returns symbols without repeats, in first-seen order.
func dedupe(symbols []string) []string {
	seen := make(map[string]struct{}, len(symbols))
	out := make([]string, 0, len(symbols))
	for _, s := range symbols {
		if _, ok := seen[s]; ok {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	return out
}

// chunkByLen splits symbols so that each chunk's query-escaped, comma-joined
// list is at most maxLen characters; a symbol longer than that on its own
// forms a chunk alone.
func chunkByLen(symbols []string, maxLen int) [][]string {
	var chunks [][]string
	start, n := 0, 0
	for i, s := range symbols {
		l := len(url.QueryEscape(s))
		if i > start && n+1+l > maxLen {
			chunks = append(chunks, symbols[start:i])
			start, n = i, 0
		}
		if i > start {
			n++ // the comma
		}
		n += l
	}
	if start < len(symbols) {
		chunks = append(chunks, symbols[start:])
	}
	return chunks
}

// chunkByCount splits symbols into chunks of at most size.
func chunkByCount(symbols []string, size int) [][]string {
	var chunks [][]string
	for len(symbols) > size {
		chunks = append(chunks, symbols[:size])
		symbols = symbols[size:]
	}
	if len(symbols) > 0 {
		chunks = append(chunks, symbols)
	}
	return chunks
}

// joinSymbols query-escapes each symbol and joins them with literal commas
// (legal in a query, and a third of the length of %2C).
func joinSymbols(symbols []string) string {
	var b strings.Builder
	for i, s := range symbols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(url.QueryEscape(s))
	}
	return b.String()
}

// buildURL joins host, path and a query whose symbols parameter, if any,
// comes first with literal commas; empty values in q are left out.
func buildURL(host, path string, symbols []string, params url.Values) string {
	q := make(url.Values, len(params))
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	var b strings.Builder
	b.WriteString(host)
	b.WriteString(path)
	sep := byte('?')
	if len(symbols) > 0 {
		b.WriteString("?symbols=")
		b.WriteString(joinSymbols(symbols))
		sep = '&'
	}
	if len(q) > 0 {
		b.WriteByte(sep)
		b.WriteString(q.Encode())
	}
	return b.String()
}

// chunkResult is what one chunk of a multi-symbol call produced.
type chunkResult struct {
	values map[string]json.RawMessage
	sim    bool
	err    error
}

// runChunks calls fetch for every chunk, at most limit at a time, and
// returns the results in chunk order. A failing chunk does not stop the
// others.
func runChunks(ctx context.Context, chunks [][]string, limit int, fetch func(context.Context, []string) chunkResult) []chunkResult {
	results := make([]chunkResult, len(chunks))
	if len(chunks) == 1 {
		results[0] = fetch(ctx, chunks[0])
		return results
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, ch := range chunks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = fetch(ctx, ch)
		})
	}
	wg.Wait()
	return results
}

// merge assembles the results of chunks into a Multi (see ChunkError for
// what a failed chunk leaves).
func merge(chunks [][]string, results []chunkResult, feed string) (Multi, error) {
	m := Multi{Values: make(map[string]json.RawMessage)}
	var sim bool
	var cerr *ChunkError
	for i, r := range results {
		if r.err != nil {
			if cerr == nil {
				cerr = &ChunkError{Err: r.err}
			}
			cerr.Failed = append(cerr.Failed, chunks[i]...)
			continue
		}
		sim = sim || r.sim
		for k, v := range r.values {
			m.Values[k] = v
		}
		for _, s := range chunks[i] {
			if _, ok := r.values[s]; !ok {
				m.Missing = append(m.Missing, s)
			}
		}
	}
	m.Source = source(feed, sim)
	if cerr != nil {
		return m, cerr
	}
	return m, nil
}

// isNull reports whether a raw JSON value is the literal null.
func isNull(v json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// dropNulls removes null values, which mean "no data" for that symbol.
func dropNulls(m map[string]json.RawMessage) map[string]json.RawMessage {
	for k, v := range m {
		if isNull(v) {
			delete(m, k)
		}
	}
	return m
}
