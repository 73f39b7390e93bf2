package api

import (
	"slices"
	"time"

	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/jsonenc"
)

// batch serves a multi-symbol Latest route whose symbols (ids) are cached
// one by one: Alpaca's body (the values under the route's Wrap member, or a
// bare map), then, in a wrapped body, the additive "meta" and "errors".
// invalid are the symbols refused before any cache work.
func (h *Handler) batch(r *request, ids, invalid []string, fetch cache.FetchFunc) response {
	start := time.Now()
	res, errs := h.cache.GetMany(r.ctx, r.rt.Class, ids, fetch)
	if h.rec != nil {
		h.rec.Batch(len(ids), time.Since(start))
	}
	berrs := make(map[string]batchError, len(invalid)+len(errs))
	for _, s := range invalid {
		berrs[s] = batchError{StatusInvalid, "invalid symbol"}
	}
	var hard error
	for id, err := range errs {
		h.observeFailure(r.rt.Class, r)
		be := batchErrorOf(err, r.now)
		berrs[catalog.BaseOf(id)] = be
		if be.status != StatusNotFound && hard == nil {
			hard = err
		}
	}
	if len(res) == 0 && hard != nil {
		// Nothing to serve and the origin could not answer: a clear 503,
		// not an empty 200.
		return h.fail(r.ctx, hard)
	}
	served, byBase, a := h.collect(r, res)
	return ok(batchBody(r.rt, served, byBase, berrs), h.headers(&a, r))
}

// collect indexes served results by symbol, in symbol order, and
// attributes them.
func (h *Handler) collect(r *request, res map[string]cache.Result) ([]string, map[string]cache.Result, attribution) {
	served := make([]string, 0, len(res))
	byBase := make(map[string]cache.Result, len(res))
	var a attribution
	for id, rs := range res {
		s := catalog.BaseOf(id)
		served = append(served, s)
		byBase[s] = rs
		a.add(rs)
		h.observe(r.rt.Class, rs, r)
	}
	slices.Sort(served)
	return served, byBase, a
}

// batchBody assembles a multi-symbol Latest body. A bare map (the stock
// snapshots) has no room for "meta" and "errors": clients decode every
// member as a symbol, so those travel in the headers alone.
func batchBody(rt *catalog.Route, served []string, byBase map[string]cache.Result, berrs map[string]batchError) []byte {
	size := 64
	for _, s := range served {
		size += len(s) + len(byBase[s].Entry.Data) + 120
	}
	b := make([]byte, 0, size)
	if rt.Wrap != "" {
		b = append(b, '{', '"')
		b = append(b, rt.Wrap...)
		b = append(b, `":`...)
	}
	b = append(b, '{')
	for i, s := range served {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s)
		b = append(b, ':')
		b = append(b, byBase[s].Entry.Data...)
	}
	b = append(b, '}')
	if rt.Wrap == "" {
		return b
	}
	if rt.OnePage {
		b = append(b, `,"next_page_token":null`...)
	}
	b = appendMeta(b, served, byBase)
	b = appendErrors(b, berrs)
	return append(b, '}')
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

// headers are the headers of a response served from a's results, with the
// market session at the instant they were checked fresh (the request's
// start when there are none).
func (h *Handler) headers(a *attribution, r *request) map[string]string {
	at := r.now
	if a.n > 0 {
		at = a.at
	}
	return a.headers(h.cal.SessionAt(at))
}

// notFoundError is a 404 with a specific message.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

func notFound(msg string) error { return &notFoundError{msg} }
