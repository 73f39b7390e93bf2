package api

import (
	"cmp"
	"context"
	"errors"
	"net/url"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/jsonenc"
	"github.com/opitios/opitios-alpaca/shared/symbol"
)

// Latest routes: each symbol's value is its own cache entry
// (catalog.EntryID), shared by the route's single- and multi-symbol forms.

// normalizers validate and normalise one symbol of each grammar.
var normalizers = [...]func(string) (string, bool){
	catalog.Stock:  symbol.Stock,
	catalog.Option: symbol.OCC,
	catalog.Crypto: symbol.Crypto,
	catalog.Perp:   symbol.Perp,
}

// symbolHints complete the refusal of an invalid symbol of each grammar.
var symbolHints = [...]string{
	catalog.Stock:  "use 1–10 letters or digits, optionally joined by '.' or '-'",
	catalog.Option: "use an OCC symbol, e.g. AAPL240426C00152500",
	catalog.Crypto: "use a pair, e.g. BTC/USD",
	catalog.Perp:   "use a perpetual future, e.g. BTC-PERP",
}

// GET a single-symbol Latest route, e.g. /v2/stocks/{symbol}/trades/latest.
func (h *Handler) latestOne(r *request) response {
	sym, valid := normalizers[r.rt.Param](r.param)
	if !valid {
		return h.fail(r.ctx, badf("invalid symbol %s: %s", excerpt(r.param), symbolHints[r.rt.Param]))
	}
	feed, err := h.feedParam(r.rt.Feed, r.q)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	id := catalog.EntryID(sym, r.rt.Kind, feed, h.defaultFeed(r.rt.Feed))
	h.bump(r.rt, feed, sym)
	res, err := h.cache.Get(r.ctx, r.rt.Class, id, h.latestFetch(r, feed))
	if err != nil {
		h.observeFailure(r.rt.Class, r)
		if errors.Is(err, cache.ErrNotFound) {
			return h.fail(r.ctx, notFound("no "+cmp.Or(r.rt.One, "snapshot")+" found for symbol "+sym))
		}
		return h.fail(r.ctx, err)
	}
	h.observe(r.rt.Class, res, r)
	var a attribution
	a.add(res)
	body := make([]byte, 0, 24+len(r.rt.One)+len(sym)+len(res.Entry.Data))
	return ok(appendOne(body, r.rt.One, sym, res.Entry.Data), h.headers(&a, r))
}

// appendOne appends a single-symbol body: {"symbol":S,"<one>":data}, or,
// when one is "", data's members after "symbol".
func appendOne(b []byte, one, sym string, data []byte) []byte {
	b = append(b, `{"symbol":`...)
	b = jsonenc.AppendString(b, sym)
	if one != "" {
		b = append(b, ',', '"')
		b = append(b, one...)
		b = append(b, '"', ':')
		b = append(b, data...)
		return append(b, '}')
	}
	if rest := data[1:]; len(rest) > 1 {
		b = append(b, ',')
		return append(b, rest...)
	}
	return append(b, '}')
}

// GET a multi-symbol Latest route, e.g. /v2/stocks/trades/latest?symbols=.
func (h *Handler) latestMulti(r *request) response {
	if _, err := pathParam(r.rt, r.param); err != nil {
		return h.fail(r.ctx, err)
	}
	valid, invalid, err := symbolList(r.q["symbols"], catalog.MaxSymbols[r.rt.Symbols], normalizers[r.rt.Symbols])
	if err != nil {
		return h.fail(r.ctx, err)
	}
	feed, err := h.feedParam(r.rt.Feed, r.q)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	if r.rt.OnePage {
		if err := onePage(r.q, len(valid)); err != nil {
			return h.fail(r.ctx, err)
		}
	}
	ids := make([]string, len(valid))
	def := h.defaultFeed(r.rt.Feed)
	for i, s := range valid {
		ids[i] = catalog.EntryID(s, r.rt.Kind, feed, def)
	}
	h.bump(r.rt, feed, valid...)
	return h.batch(r, ids, invalid, h.latestFetch(r, feed))
}

// latestFetch fetches the values of ids' symbols from the route's origin.
// The call is built only when the cache misses: a hit allocates nothing
// for it but the closure.
func (h *Handler) latestFetch(r *request, feed string) cache.FetchFunc {
	rt, param := r.rt, r.param
	return func(ctx context.Context, ids []string) (map[string]cache.Item, error) {
		call := alpaca.LatestCall{Endpoint: cmp.Or(rt.Origin, rt.Path), Path: rt.OriginPath(param), Wrap: rt.Wrap, Feed: feed}
		if !rt.Multi() {
			call.Path = rt.Origin // a single-symbol form asks its multi-symbol origin
		}
		if feed != "" {
			call.Query = url.Values{"feed": {feed}}
		}
		if rt.Symbols == catalog.Option || rt.Param == catalog.Option {
			call.PerCall = catalog.MaxSymbols[catalog.Option]
		}
		m, err := h.origin.Latest(ctx, call, bases(ids))
		return itemsFrom(ids, m, err)
	}
}

// onePage checks the paging and filter parameters of a OnePage route
// against n, its number of distinct valid symbols:
//   - limit (1–1000) is accepted when it is at least n: Alpaca's answer is
//     then one page holding every symbol, the unlimited answer, which is
//     what the per-symbol entries serve, under the same keys. A smaller
//     limit would make Alpaca split the answer into pages: a 400.
//   - page_token is a 400: this route never issues a token to follow.
//   - updated_since is a 400: a per-symbol entry cannot tell whether the
//     contract changed since an instant, and serving it regardless would
//     answer a filtered question with the unfiltered answer.
func onePage(q query, n int) error {
	limit, err := q.limit("limit", 1, 1000)
	if err != nil {
		return err
	}
	if limit > 0 && limit < n {
		return badf("limit %d is below the %d symbols asked for: this route answers every symbol in one page; omit limit or raise it", limit, n)
	}
	if _, ok := q["page_token"]; ok {
		return badf("page_token is not supported here: every symbol is answered in one page, and next_page_token is always null")
	}
	if _, ok := q["updated_since"]; ok {
		return badf("updated_since is not supported with symbols: ask without it for every symbol's snapshot, or use the chain route /v1beta1/options/snapshots/{underlying}")
	}
	return nil
}

// defaultFeed is the deployment's default of a feed parameter.
func (h *Handler) defaultFeed(f catalog.Feed) string {
	switch f {
	case catalog.StockFeed:
		return h.stockFeed
	case catalog.OptionFeed:
		return h.optionFeed
	}
	return ""
}

// bump counts requested stock symbols of the default feed for prefetch
// (which refreshes latest stock quotes).
func (h *Handler) bump(rt *catalog.Route, feed string, syms ...string) {
	if h.hot != nil && rt.Class == cache.StockQuote && rt.Kind == catalog.Quote && feed == h.stockFeed {
		h.hot.Bump(syms...)
	}
}

// bases are the symbols of identifiers.
func bases(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = catalog.BaseOf(id)
	}
	return out
}

// itemsFrom turns a multi-symbol origin answer into cache items keyed by
// cache identifier. A *alpaca.ChunkError fails only its chunk's symbols.
func itemsFrom(ids []string, m alpaca.Multi, err error) (map[string]cache.Item, error) {
	var ce *alpaca.ChunkError
	if err != nil && !errors.As(err, &ce) {
		return nil, err
	}
	failed := map[string]bool{}
	if ce != nil {
		for _, s := range ce.Failed {
			failed[s] = true
		}
	}
	out := make(map[string]cache.Item, len(ids))
	for _, id := range ids {
		s := catalog.BaseOf(id)
		if failed[s] {
			out[id] = cache.Item{Err: ce.Err}
		} else if v, ok := m.Values[s]; ok {
			out[id] = cache.Item{Data: v, Source: m.Source}
		}
	}
	return out, nil
}
