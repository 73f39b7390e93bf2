package api

import (
	"github.com/opitios/opitios-alpaca/shared/symbol"

	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/jsonenc"
	"github.com/opitios/opitios-alpaca/shared/market"
)

type response = events.APIGatewayV2HTTPResponse

// variant is the identifier suffix of a non-default feed, so answers of
// different feeds never share a key.
func variant(feed, def string) string {
	if feed == "" || feed == def {
		return ""
	}
	return ":" + strings.ToUpper(feed)
}

// baseOf strips the variant or query-hash suffix from a cache identifier.
func baseOf(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return id[:i]
	}
	return id
}

// queryHash is a short hash of a normalised query, for historical and chain
// keys.
func queryHash(parts ...string) string {
	s := sha256.Sum256([]byte(strings.Join(parts, "&")))
	return hex.EncodeToString(s[:8])
}

// itemsFrom turns a multi-symbol origin answer into cache items keyed by
// cache identifier. A *alpaca.ChunkError fails only its chunk's symbols.
func itemsFrom(ids []string, m alpaca.Multi, err error) (map[string]cache.Item, error) {
	var ce *alpaca.ChunkError
	if err != nil && !errors.As(err, &ce) {
		return nil, err
	}
	out := make(map[string]cache.Item, len(ids))
	for _, id := range ids {
		if v, ok := m.Values[baseOf(id)]; ok {
			out[id] = cache.Item{Data: v, Source: m.Source}
		}
	}
	if ce != nil {
		for _, id := range ids {
			if slices.Contains(ce.Failed, baseOf(id)) {
				out[id] = cache.Item{Err: ce.Err}
			}
		}
	}
	return out, nil
}

func bases(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = baseOf(id)
	}
	return out
}

// stockParams validates feed and currency of the stock routes.
func (h *Handler) stockParams(q query) (feed string, err error) {
	if feed, err = q.oneOf("feed", stockFeeds); err != nil {
		return "", err
	}
	if c, ok := q["currency"]; ok && c != "USD" {
		return "", badf("currency %s is not supported: only USD", excerpt(c))
	}
	if feed == "" {
		feed = h.stockFeed
	}
	return feed, nil
}

func (h *Handler) optionFeedParam(q query) (string, error) {
	feed, err := q.oneOf("feed", optionFeeds)
	if feed == "" {
		feed = h.optionFeed
	}
	return feed, err
}

func (h *Handler) stockQuoteFetch(feed string) cache.FetchFunc {
	return func(ctx context.Context, ids []string) (map[string]cache.Item, error) {
		m, err := h.origin.LatestStockQuotes(ctx, bases(ids), feed)
		return itemsFrom(ids, m, err)
	}
}

// observe records a served result: its age, and a hit or miss for the
// optimizer's windows.
func (h *Handler) observe(dt cache.DataType, res cache.Result, r *request) {
	if h.rec != nil {
		h.rec.DataAge(dt.Metric(), res.Entry.Age(res.At))
	}
	if h.win != nil {
		h.win.Observe(string(dt), res.Layer != cache.LayerOrigin, time.Since(r.start))
	}
}

// observeFailure records a key the cache could not serve as a miss.
func (h *Handler) observeFailure(dt cache.DataType, r *request) {
	if h.win != nil {
		h.win.Observe(string(dt), false, time.Since(r.start))
	}
}

// GET /v2/stocks/{symbol}/quotes/latest
func (h *Handler) stockQuote(r *request) response {
	sym, valid := symbol.Stock(r.param)
	if !valid {
		return h.fail(r.ctx, badf("invalid symbol %s: use 1–10 letters or digits, optionally joined by '.' or '-'", excerpt(r.param)))
	}
	feed, err := h.stockParams(r.q)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	v := variant(feed, h.stockFeed)
	if v == "" && h.hot != nil {
		h.hot.Bump(sym)
	}
	res, err := h.cache.Get(r.ctx, cache.StockQuote, sym+v, h.stockQuoteFetch(feed))
	if err != nil {
		h.observeFailure(cache.StockQuote, r)
		if errors.Is(err, cache.ErrNotFound) {
			return h.fail(r.ctx, notFound("no quote found for symbol "+sym))
		}
		return h.fail(r.ctx, err)
	}
	h.observe(cache.StockQuote, res, r)
	b := make([]byte, 0, 32+len(sym)+len(res.Entry.Data))
	b = append(b, `{"symbol":`...)
	b = jsonenc.AppendString(b, sym)
	b = append(b, `,"quote":`...)
	b = append(b, res.Entry.Data...)
	b = append(b, '}')
	var a attribution
	a.add(res)
	return ok(b, h.headers(&a, r))
}

// headers are the headers of a response served from a's results, with the
// market session at the instant they were checked fresh (the request's
// start when there are none).
func (h *Handler) headers(a *attribution, r *request) map[string]string {
	at := r.now
	if a.n > 0 {
		at = a.at
	}
	return a.headers(h.cache.Calendar().SessionAt(at))
}

// notFound is a 404 with a specific message.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

func notFound(msg string) error { return &notFoundError{msg} }

// batch serves a multi-symbol route whose symbols are cached one by one:
// key is the body's map key ("quotes", "snapshots"), extra what follows the
// map in Alpaca's body.
func (h *Handler) batch(r *request, dt cache.DataType, key, extra string, valid, invalid []string, suffix string, fetch cache.FetchFunc) response {
	start := time.Now()
	ids := make([]string, len(valid))
	for i, s := range valid {
		ids[i] = s + suffix
	}
	res, errs := h.cache.GetMany(r.ctx, dt, ids, fetch)
	if h.rec != nil {
		h.rec.Batch(len(valid), time.Since(start))
	}
	berrs := make(map[string]batchError, len(invalid)+len(errs))
	for _, s := range invalid {
		berrs[s] = batchError{StatusInvalid, "invalid symbol"}
	}
	var hard error
	for id, err := range errs {
		h.observeFailure(dt, r)
		be := batchErrorOf(err, h.cache.Now())
		berrs[baseOf(id)] = be
		if be.status != StatusNotFound && hard == nil {
			hard = err
		}
	}
	if len(res) == 0 && hard != nil {
		// Nothing to serve and the origin could not answer: a clear 503,
		// not an empty 200.
		return h.fail(r.ctx, hard)
	}
	served := make([]string, 0, len(res))
	byBase := make(map[string]cache.Result, len(res))
	var a attribution
	size := 64
	for id, rs := range res {
		s := baseOf(id)
		served = append(served, s)
		byBase[s] = rs
		a.add(rs)
		h.observe(dt, rs, r)
		size += len(s) + len(rs.Entry.Data) + 120
	}
	slices.Sort(served)
	b := make([]byte, 0, size)
	b = append(b, '{', '"')
	b = append(b, key...)
	b = append(b, `":{`...)
	for i, s := range served {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s)
		b = append(b, ':')
		b = append(b, byBase[s].Entry.Data...)
	}
	b = append(b, '}')
	b = append(b, extra...)
	b = appendMeta(b, served, byBase)
	b = appendErrors(b, berrs)
	b = append(b, '}')
	return ok(b, h.headers(&a, r))
}

// GET /v2/stocks/quotes/latest?symbols=
func (h *Handler) stockQuotes(r *request) response {
	valid, invalid, err := symbolList(r.q["symbols"], MaxStockSymbols, symbol.Stock)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	feed, err := h.stockParams(r.q)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	v := variant(feed, h.stockFeed)
	if v == "" && h.hot != nil {
		h.hot.Bump(valid...)
	}
	return h.batch(r, cache.StockQuote, "quotes", "", valid, invalid, v, h.stockQuoteFetch(feed))
}

// GET /v1beta1/options/quotes/latest?symbols=
func (h *Handler) optionQuotes(r *request) response {
	return h.optionBatch(r, "quotes", "", "", h.origin.LatestOptionQuotes, nil)
}

// GET /v1beta1/options/snapshots?symbols=
//
// Snapshots are cached per contract, and the answer holds every requested
// contract in one page (its next_page_token is always null). Alpaca's
// paging and filter parameters of this route are therefore honoured or
// refused, never ignored (snapshotPaging).
func (h *Handler) optionSnapshots(r *request) response {
	return h.optionBatch(r, "snapshots", `,"next_page_token":null`, ":SNAPSHOT", h.origin.OptionSnapshots, snapshotPaging)
}

// snapshotPaging checks the multi-snapshot route's paging and filter
// parameters against n, its number of distinct valid symbols:
//   - limit (1–1000) is accepted when it is at least n: Alpaca's answer is
//     then one page holding every contract, the unlimited answer, which is
//     what the per-contract entries serve, under the same keys. A smaller
//     limit would make Alpaca split the answer into pages: a 400.
//   - page_token is a 400: this route never issues a token to follow.
//   - updated_since is a 400: a per-contract entry cannot tell whether the
//     contract changed since an instant, and serving it regardless would
//     answer a filtered question with the unfiltered answer.
func snapshotPaging(q query, n int) error {
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

// optionBatch serves a multi-contract option route: body key and what
// follows the map as in batch, kind distinguishing the route's cache keys
// from the other's, call the origin endpoint. check, when not nil, vets the
// route's other parameters given the number of distinct valid symbols.
func (h *Handler) optionBatch(r *request, key, extra, kind string, call func(context.Context, []string, string) (alpaca.Multi, error), check func(query, int) error) response {
	valid, invalid, err := symbolList(r.q["symbols"], MaxOptionSymbols, symbol.OCC)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	feed, err := h.optionFeedParam(r.q)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	if check != nil {
		if err := check(r.q, len(valid)); err != nil {
			return h.fail(r.ctx, err)
		}
	}
	fetch := func(ctx context.Context, ids []string) (map[string]cache.Item, error) {
		m, err := call(ctx, bases(ids), feed)
		return itemsFrom(ids, m, err)
	}
	return h.batch(r, cache.OptionQuote, key, extra, valid, invalid, kind+variant(feed, h.optionFeed), fetch)
}

// Alpaca's defaults of absent parameters. Keys spell an absent parameter
// as its default, so it and its explicit default share a key.
const (
	defaultBarLimit   = 1000
	defaultChainLimit = 100
	defaultSort       = "asc"
	defaultAdjustment = "raw"
)

// barParams validates the bar parameters shared by both bars routes. It
// returns what the origin is sent (the client's spellings, validated) and
// the key form of the query: every parameter in one canonical spelling
// (canonicalTimeframe, timeKey, canonicalAdjustment, a number for limit)
// and every absent one as its default, so equal queries share a key and
// different ones never do.
func (h *Handler) barParams(q query) (alpaca.BarParams, []string, error) {
	var p alpaca.BarParams
	tf, ok := q["timeframe"]
	if !ok {
		return p, nil, badf("timeframe is required, e.g. 1Min, 15Min, 1Hour, 1Day")
	}
	tfKey, ok := canonicalTimeframe(tf)
	if !ok {
		return p, nil, badf("invalid timeframe %s: use [1-59]Min, [1-23]Hour, 1Day, 1Week or [1,2,3,4,6,12]Month", excerpt(tf))
	}
	p.Timeframe = tf
	start, err := q.timeParam("start")
	if err != nil {
		return p, nil, err
	}
	end, err := q.timeParam("end")
	if err != nil {
		return p, nil, err
	}
	if !start.t.IsZero() && !end.t.IsZero() && end.t.Before(start.t) {
		return p, nil, badf("end is before start")
	}
	p.Start, p.End = start.raw, end.raw
	if p.Limit, err = q.limit("limit", 1, 10000); err != nil {
		return p, nil, err
	}
	adjKey, err := barOptions(q, &p)
	if err != nil {
		return p, nil, err
	}
	if p.Feed, err = h.stockParams(q); err != nil {
		return p, nil, err
	}
	norm := []string{"timeframe=" + tfKey, "start=" + start.key, "end=" + end.key,
		"limit=" + strconv.Itoa(cmp.Or(p.Limit, defaultBarLimit)), "adjustment=" + adjKey, "asof=" + p.Asof,
		"feed=" + p.Feed, "sort=" + cmp.Or(p.Sort, defaultSort), "page_token=" + p.PageToken}
	return p, norm, nil
}

// barOptions validates adjustment, asof, sort and page_token into p and
// returns the key form of adjustment (defaultAdjustment when absent).
func barOptions(q query, p *alpaca.BarParams) (adjKey string, err error) {
	adjKey = defaultAdjustment
	if a, ok := q["adjustment"]; ok {
		if adjKey, ok = canonicalAdjustment(a); !ok {
			return "", badf("invalid adjustment %s: use raw, split, dividend, spin-off or all (comma-separated)", excerpt(a))
		}
		p.Adjustment = a
	}
	if a, ok := q["asof"]; ok {
		if _, err := time.Parse(time.DateOnly, a); err != nil && a != "-" {
			return "", badf("asof must be YYYY-MM-DD or -")
		}
		p.Asof = a
	}
	if p.Sort, err = q.oneOf("sort", map[string]bool{"asc": true, "desc": true}); err != nil {
		return "", err
	}
	if t, ok := q["page_token"]; ok {
		if !validPageToken(t) {
			return "", badf("invalid page_token")
		}
		p.PageToken = t
	}
	return adjKey, nil
}

// appendToken appends the next_page_token value: a string or null.
func appendToken(b []byte, tok string) []byte {
	if tok == "" {
		return append(b, "null"...)
	}
	return jsonenc.AppendString(b, tok)
}

// single serves a route answered by one cache entry whose data is the body.
func (h *Handler) single(r *request, dt cache.DataType, id string, fetch cache.FetchFunc) response {
	res, err := h.cache.Get(r.ctx, dt, id, fetch)
	if err != nil {
		h.observeFailure(dt, r)
		return h.fail(r.ctx, err)
	}
	h.observe(dt, res, r)
	var a attribution
	a.add(res)
	return ok(res.Entry.Data, h.headers(&a, r))
}

// GET /v2/stocks/{symbol}/bars
func (h *Handler) stockBars(r *request) response {
	sym, valid := symbol.Stock(r.param)
	if !valid {
		return h.fail(r.ctx, badf("invalid symbol %s: use 1–10 letters or digits, optionally joined by '.' or '-'", excerpt(r.param)))
	}
	p, norm, err := h.barParams(r.q)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	fetch := func(ctx context.Context, ids []string) (map[string]cache.Item, error) {
		bars, err := h.origin.StockBars(ctx, []string{sym}, p, false)
		if err != nil {
			return nil, err
		}
		raw, ok := bars.Bars[sym]
		if !ok {
			raw = json.RawMessage("null") // the origin had no bars for it: as Alpaca says it
		}
		b := append([]byte(`{"bars":`), raw...)
		b = append(b, `,"symbol":`...)
		b = jsonenc.AppendString(b, sym)
		b = append(b, `,"next_page_token":`...)
		b = appendToken(b, bars.NextPageToken)
		b = append(b, '}')
		return map[string]cache.Item{ids[0]: {Data: b, Source: bars.Source}}, nil
	}
	return h.single(r, cache.HistoricalData, sym+":"+queryHash(norm...), fetch)
}

// stocksBarsFetch fetches one page of bars of syms (sorted) and stores it
// as Alpaca's body, symbols in order.
func (h *Handler) stocksBarsFetch(syms []string, p alpaca.BarParams) cache.FetchFunc {
	return func(ctx context.Context, ids []string) (map[string]cache.Item, error) {
		bars, err := h.origin.StockBars(ctx, syms, p, false)
		if err != nil {
			return nil, err
		}
		b := []byte(`{"bars":{`)
		n := 0
		for _, s := range syms {
			raw, ok := bars.Bars[s]
			if !ok {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = jsonenc.AppendString(b, s)
			b = append(b, ':')
			b = append(b, raw...)
		}
		b = append(b, `},"next_page_token":`...)
		b = appendToken(b, bars.NextPageToken)
		b = append(b, '}')
		return map[string]cache.Item{ids[0]: {Data: b, Source: bars.Source}}, nil
	}
}

// GET /v2/stocks/bars?symbols=
func (h *Handler) stocksBars(r *request) response {
	valid, invalid, err := symbolList(r.q["symbols"], MaxStockSymbols, symbol.Stock)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	p, norm, err := h.barParams(r.q)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	syms := slices.Clone(valid)
	slices.Sort(syms)
	id := "BARS:" + queryHash(append(norm, "symbols="+strings.Join(syms, ","))...)
	fetch := h.stocksBarsFetch(syms, p)
	res, err := h.cache.Get(r.ctx, cache.HistoricalData, id, fetch)
	if err != nil {
		h.observeFailure(cache.HistoricalData, r)
		return h.fail(r.ctx, err)
	}
	h.observe(cache.HistoricalData, res, r)
	var a attribution
	a.add(res)
	// The cached body ends with '}': add the extensions before it.
	data := res.Entry.Data
	b := make([]byte, 0, len(data)+64*len(syms))
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
	b = append(b, '}')
	return ok(b, h.headers(&a, r))
}

// GET /v1beta1/options/snapshots/{underlying}
func (h *Handler) optionChain(r *request) response {
	und, valid := symbol.Stock(r.param)
	if !valid {
		return h.fail(r.ctx, badf("invalid underlying symbol %s", excerpt(r.param)))
	}
	p, norm, err := h.chainParams(r.q)
	if err != nil {
		return h.fail(r.ctx, err)
	}
	id := und + ":CHAIN:" + queryHash(norm...)
	fetch := func(ctx context.Context, ids []string) (map[string]cache.Item, error) {
		ch, err := h.origin.OptionChain(ctx, und, p, false)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(ch.Snapshots))
		for k := range ch.Snapshots {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b := []byte(`{"snapshots":{`)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, k)
			b = append(b, ':')
			b = append(b, ch.Snapshots[k]...)
		}
		b = append(b, `},"next_page_token":`...)
		b = appendToken(b, ch.NextPageToken)
		b = append(b, '}')
		return map[string]cache.Item{ids[0]: {Data: b, Source: ch.Source}}, nil
	}
	return h.single(r, cache.OptionQuote, id, fetch)
}

// chainParams validates the chain's filters. It returns what the origin
// is sent (the client's spellings, validated) and the key form of the
// query, as barParams does: strikes as numbers (query.number), updated_since
// by timeKey (RFC 3339 or YYYY-MM-DD, as Alpaca documents), an absent limit
// as defaultChainLimit.
func (h *Handler) chainParams(q query) (alpaca.ChainParams, []string, error) {
	var p alpaca.ChainParams
	var err error
	if p.Type, err = q.oneOf("type", map[string]bool{"call": true, "put": true}); err != nil {
		return p, nil, err
	}
	var sgte, slte string
	if sgte, err = q.number("strike_price_gte", 0, 1e6); err != nil {
		return p, nil, err
	}
	if slte, err = q.number("strike_price_lte", 0, 1e6); err != nil {
		return p, nil, err
	}
	p.StrikeGTE, p.StrikeLTE = q["strike_price_gte"], q["strike_price_lte"]
	for _, f := range []struct {
		name string
		dst  *string
	}{{"expiration_date", &p.Expiration}, {"expiration_date_gte", &p.ExpirationGTE}, {"expiration_date_lte", &p.ExpirationLTE}} {
		if s, ok := q[f.name]; ok {
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return p, nil, badf("%s must be YYYY-MM-DD", f.name)
			}
			*f.dst = s
		}
	}
	if s, ok := q["root_symbol"]; ok {
		root, valid := symbol.Stock(s)
		if !valid {
			return p, nil, badf("invalid root_symbol %s", excerpt(s))
		}
		p.RootSymbol = root
	}
	upd, err := q.timeParam("updated_since")
	if err != nil {
		return p, nil, err
	}
	p.UpdatedSince = upd.raw
	if p.Limit, err = q.limit("limit", 1, 1000); err != nil {
		return p, nil, err
	}
	if t, ok := q["page_token"]; ok {
		if !validPageToken(t) {
			return p, nil, badf("invalid page_token")
		}
		p.PageToken = t
	}
	if p.Feed, err = h.optionFeedParam(q); err != nil {
		return p, nil, err
	}
	return p, []string{"type=" + p.Type, "sgte=" + sgte, "slte=" + slte, "exp=" + p.Expiration,
		"egte=" + p.ExpirationGTE, "elte=" + p.ExpirationLTE, "root=" + p.RootSymbol, "upd=" + upd.key,
		"limit=" + strconv.Itoa(cmp.Or(p.Limit, defaultChainLimit)), "page=" + p.PageToken, "feed=" + p.Feed}, nil
}

// marketStatus is the body of GET /v1/market/status.
type marketStatus struct {
	Timestamp    string `json:"timestamp"`
	Session      string `json:"session"`
	IsOpen       bool   `json:"is_open"`
	SessionStart string `json:"session_start"`
	SessionEnd   string `json:"session_end"`
	NextSession  string `json:"next_session"`
	NextChange   string `json:"next_change"`
	InTable      bool   `json:"calendar_in_table"`
}

// GET /v1/market/status[?at=RFC3339]
func (h *Handler) marketStatus(r *request) response {
	at := r.now
	if s, ok := r.q["at"]; ok {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || t.Year() < 1970 || t.Year() > 2100 {
			return h.fail(r.ctx, badf("at must be an RFC 3339 instant, e.g. 2026-11-27T14:30:00-05:00"))
		}
		at = t
	}
	cal := h.cache.Calendar()
	span := cal.SpanAt(at)
	_, next := cal.NextChange(at)
	loc := span.Start.Location()
	body, _ := json.Marshal(marketStatus{
		Timestamp:    at.In(loc).Format(time.RFC3339Nano),
		Session:      string(span.Session),
		IsOpen:       span.Session == market.Regular,
		SessionStart: span.Start.Format(time.RFC3339),
		SessionEnd:   span.End.Format(time.RFC3339),
		NextSession:  string(next),
		NextChange:   span.End.Format(time.RFC3339),
		InTable:      cal.InTable(at.In(loc).Year()),
	})
	return ok(body, map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store",
		HeaderMarketSession: string(cal.SessionAt(r.now))})
}

// GET /healthz
func (h *Handler) health(r *request) response {
	l2 := "disabled"
	status := "ok"
	if h.cache.HasL2() {
		ctx, cancel := context.WithTimeout(r.ctx, 200*time.Millisecond)
		defer cancel()
		if err := h.cache.Ping(ctx); err != nil {
			l2, status = "unavailable", "degraded"
		} else {
			l2 = "ok"
		}
	}
	body := `{"status":"` + status + `","l2":"` + l2 + `"}`
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: body,
		Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}}
}
