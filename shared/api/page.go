package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/jsonenc"
)

// Page routes: the origin's body is one cache entry, keyed by the route and
// its normalised query.

// settledAfter is how long after a news window's end its articles are taken
// as settled: a query ending earlier than that is cached as historical
// data, an open-ended or recent one as news.
const settledAfter = time.Hour

// GET a Page route: history, news, reference data, screeners, the chain.
func (h *Handler) page(r *request) response {
	param, err := pathParam(r.rt, r.param)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	var syms, invalid []string
	if r.rt.Multi() {
		if syms, invalid, err = symbolList(r.q["symbols"], catalog.MaxSymbols[r.rt.Symbols], normalizers[r.rt.Symbols]); err != nil {
			return h.fail(r.ctx, err)
		}
		slices.Sort(syms)
	}
	a, err := h.args(r)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	class := r.rt.Class
	if class == cache.News && !a.end.IsZero() && a.end.Before(r.now.Add(-settledAfter)) {
		class = cache.HistoricalData
	}
	id := pageID(r.rt, param, syms, a.key)
	res, err := h.cache.Get(r.ctx, class, id, h.pageFetch(r.rt, param, syms, a))
	if err != nil {
		h.observeFailure(class, r)
		return h.fail(r.ctx, err)
	}
	h.observe(class, res, r)
	var at attribution
	at.add(res)
	hdr := h.headers(&at, r)
	if r.rt.Binary {
		hdr["Content-Type"] = r.rt.ContentType
		return binary(res.Entry.Data, hdr)
	}
	return ok(pageBody(res, syms, invalid), hdr)
}

// pathParam validates a route's {parameter}: a symbol of the route's
// grammar, or one of its words.
func pathParam(rt *catalog.Route, raw string) (string, error) {
	switch {
	case rt.Param != catalog.NoSymbols:
		s, ok := normalizers[rt.Param](raw)
		if !ok {
			return "", badf("invalid symbol %s: %s", excerpt(raw), symbolHints[rt.Param])
		}
		return s, nil
	case rt.ParamWords != nil:
		if slices.Contains(rt.ParamWords, raw) {
			return raw, nil
		}
		return "", badf("invalid path parameter %s: use %s", excerpt(raw), strings.Join(rt.ParamWords, " or "))
	}
	return "", nil
}

// pageID is the cache identifier of a Page query: its path parameter (or
// first symbol) for readability, then a hash of the route and the
// normalised query.
func pageID(rt *catalog.Route, param string, syms, key []string) string {
	head := param
	if head == "" && len(syms) > 0 {
		head = syms[0]
	}
	parts := append([]string{rt.Path, param, "symbols=" + strings.Join(syms, ",")}, key...)
	s := sha256.Sum256([]byte(strings.Join(parts, "&")))
	return strings.ReplaceAll(head, ":", "_") + ":Q" + hex.EncodeToString(s[:10])
}

// pageFetch asks the origin for one page. A binary body is stored as a
// JSON string of its base64.
func (h *Handler) pageFetch(rt *catalog.Route, param string, syms []string, a args) cache.FetchFunc {
	q := a.origin
	if len(syms) > 0 {
		q = url.Values{"symbols": {strings.Join(syms, ",")}}
		for k, v := range a.origin {
			q[k] = v
		}
	}
	query := q.Encode()
	return func(ctx context.Context, ids []string) (map[string]cache.Item, error) {
		pg, err := h.origin.GetPage(ctx, rt.Path, rt.OriginPath(param), query, a.feed, rt.Binary)
		if err != nil {
			return nil, err
		}
		data := pg.Body
		if rt.Binary {
			data = jsonenc.AppendString(nil, base64.StdEncoding.EncodeToString(pg.Body))
		}
		return map[string]cache.Item{ids[0]: {Data: data, Source: pg.Source}}, nil
	}
}

// pageBody is a cached page as served: on a multi-symbol route whose body
// is an object, with "meta" for every symbol asked and "errors" for the
// invalid ones added before its closing brace.
func pageBody(res cache.Result, syms, invalid []string) []byte {
	data := res.Entry.Data
	if len(syms) == 0 || len(data) < 3 || data[0] != '{' || data[len(data)-1] != '}' {
		return data
	}
	b := make([]byte, 0, len(data)+96*len(syms))
	b = append(b, data[:len(data)-1]...)
	meta := make(map[string]cache.Result, len(syms))
	for _, s := range syms {
		meta[s] = res
	}
	b = appendMeta(b, syms, meta)
	berrs := make(map[string]batchError, len(invalid))
	for _, s := range invalid {
		berrs[s] = batchError{StatusInvalid, "invalid symbol"}
	}
	b = appendErrors(b, berrs)
	return append(b, '}')
}
