package prefetch

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// ContractsKeyPrefix begins the keys of the chosen option contracts of each
// underlying: ContractsKeyPrefix + underlying holds a JSON array of OCC
// symbols for Config.ContractsTTL.
const ContractsKeyPrefix = config.KeyPrefix + "prefetch:contracts:"

// entryKey names one cache entry.
type entryKey struct {
	dt cache.DataType
	id string
}

// expiry is what a run knows of an entry after a pass: when it stops being
// fresh and its TTL, or that it must be asked again (retry).
type expiry struct {
	at    time.Time
	ttl   time.Duration
	retry bool
}

// run is the state of one Job.Run.
type run struct {
	j         *Job
	rep       *Report
	rb        float64
	start     time.Time
	lastStart time.Time // no pass starts after it
	nextRun   time.Time // when the next run is due
	hot       []string
	contracts []string
	chosen    bool
	known     map[entryKey]expiry
	gone      map[entryKey]bool // the origin returned nothing: not asked again in this run
	quotes    map[string][]byte // underlyings' latest quotes, to choose contracts by
	// methodCalls counts Origin method calls, for Report.OriginCalls
	// without Deps.Calls.
	methodCalls int
}

// passes makes the run's passes: the first at once, the next ones only
// when some entry will need a refresh, every half stock-quote TTL, until
// lastStart.
func (r *run) passes(ctx context.Context) error {
	for {
		p := r.j.clock.Now()
		span := r.j.cal.SpanAt(p)
		if span.Session == market.Closed {
			return nil
		}
		period := r.period(span.Session)
		final := p.Add(period).After(r.lastStart)
		horizon := r.nextRun
		passCtx, cancel := ctx, context.CancelFunc(func() {})
		if !final {
			horizon = p.Add(period)
			passCtx, cancel = context.WithTimeout(ctx, period)
		}
		err := r.pass(passCtx, p, horizon.Add(r.j.cfg.Slack), span)
		cancel()
		r.rep.Passes++
		if err != nil {
			return err
		}
		if final || ctx.Err() != nil {
			return nil
		}
		q, ok := r.nextPass(p, period)
		if !ok {
			return nil
		}
		if err := r.j.sleep(ctx, q.Sub(r.j.clock.Now())); err != nil {
			return nil
		}
	}
}

// period is the time between passes: half the stock-quote TTL of the
// session, at least a second.
func (r *run) period(s market.Session) time.Duration {
	return max(time.Second, r.j.cache.Policy().TTL(cache.StockQuote, s)/2)
}

// nextPass returns the first instant p + k·period, not after lastStart, at
// which a pass would have something to do.
func (r *run) nextPass(p time.Time, period time.Duration) (time.Time, bool) {
	for k := 1; ; k++ {
		q := p.Add(time.Duration(k) * period)
		if q.After(r.lastStart) {
			return time.Time{}, false
		}
		h := q.Add(period)
		if h.After(r.lastStart) {
			h = r.nextRun
		}
		if r.needed(q, h.Add(r.j.cfg.Slack)) {
			return q, true
		}
	}
}

// needed reports whether a pass at q, keeping entries fresh until horizon,
// would refresh anything, from what the run knows.
func (r *run) needed(q, horizon time.Time) bool {
	span := r.j.cal.SpanAt(q)
	if span.Session == market.Closed {
		return false
	}
	check := func(dt cache.DataType, ids []string) bool {
		for _, id := range ids {
			k := entryKey{dt, id}
			if r.gone[k] {
				continue
			}
			e, ok := r.known[k]
			if !ok || e.retry || due(e.at, e.ttl, q, horizon, span.End, r.rb) {
				return true
			}
		}
		return false
	}
	return check(cache.StockQuote, r.hot) || check(cache.OptionQuote, r.contracts)
}

// due reports whether an entry that stops being fresh at exp, with TTL ttl,
// needs a refresh in a pass at p that must keep entries fresh until horizon,
// in a session that ends at end: it would expire before horizon, or has less
// than rb of its TTL left, unless it stays fresh until the session ends (a
// new entry could not outlive it).
func due(exp time.Time, ttl time.Duration, p, horizon, end time.Time, rb float64) bool {
	if !exp.Before(end) {
		return false
	}
	return exp.Before(horizon) || float64(exp.Sub(p)) < rb*float64(ttl)
}

// pass refreshes what is due among the hot stock quotes and the chosen
// option contracts. Only an L2 read failure is returned.
func (r *run) pass(ctx context.Context, p, horizon time.Time, span market.Span) error {
	var c Counts
	due, err := r.due(ctx, cache.StockQuote, r.hot, p, horizon, span, &c)
	if err != nil {
		return err
	}
	r.refresh(ctx, cache.StockQuote, due, &c, r.j.deps.Origin.LatestStockQuotes)
	r.rep.Counts.add(c)
	if len(r.j.unders) == 0 {
		return nil
	}
	if !r.chosen {
		r.choose(ctx, p)
		r.chosen = true
	}
	c = Counts{}
	due, err = r.due(ctx, cache.OptionQuote, r.contracts, p, horizon, span, &c)
	if err != nil {
		return err
	}
	r.refresh(ctx, cache.OptionQuote, due, &c, r.j.deps.Origin.LatestOptionQuotes)
	r.rep.Options.add(c)
	return nil
}

// due peeks at ids in L2 and returns those to refresh, counting the others
// as skipped.
func (r *run) due(ctx context.Context, dt cache.DataType, ids []string, p, horizon time.Time, span market.Span, c *Counts) ([]string, error) {
	live := make([]string, 0, len(ids))
	for _, id := range ids {
		if !r.gone[entryKey{dt, id}] {
			live = append(live, id)
		}
	}
	if len(live) == 0 {
		return nil, nil
	}
	fresh, err := r.j.cache.Peek(ctx, dt, live)
	if err != nil {
		return nil, errL2(err)
	}
	var out []string
	for _, id := range live {
		e, ok := fresh[id]
		if ok && !due(e.ExpiresAt(), e.TTL, p, horizon, span.End, r.rb) {
			c.Skipped++
			r.known[entryKey{dt, id}] = expiry{at: e.ExpiresAt(), ttl: e.TTL}
			r.keepQuote(dt, id, e.Data)
			continue
		}
		out = append(out, id)
	}
	return out, nil
}

// refresh asks the origin for ids in one multi-symbol call and writes what
// it returned through the cache.
func (r *run) refresh(ctx context.Context, dt cache.DataType, ids []string, c *Counts,
	fetch func(context.Context, []string, string) (alpaca.Multi, error)) {
	if len(ids) == 0 {
		return
	}
	if ctx.Err() != nil {
		c.Deferred += len(ids)
		r.retryLater(dt, ids...)
		return
	}
	at := r.j.clock.Now()
	m, err := fetch(ctx, ids, "")
	r.methodCalls++
	items := r.sortAnswers(dt, ids, m, err, at, c)
	if len(items) == 0 {
		return
	}
	n, serr := r.j.cache.Store(ctx, dt, items)
	if serr != nil {
		r.j.log.Warn("prefetch: L2 write failed", "data_type", dt, "entries", len(items), "err", serr)
		c.Failed += len(items)
		for id := range items {
			r.retryLater(dt, id)
		}
		return
	}
	c.Refreshed += n
	c.Failed += len(items) - n
	ttl := r.j.cache.Policy().EntryTTL(dt, r.j.cal.SpanAt(at), at)
	for id, it := range items {
		r.known[entryKey{dt, id}] = expiry{at: at.Add(ttl), ttl: ttl}
		r.keepQuote(dt, id, it.Data)
	}
}

// retryLater marks ids to be tried again in the next pass.
func (r *run) retryLater(dt cache.DataType, ids ...string) {
	for _, id := range ids {
		r.known[entryKey{dt, id}] = expiry{retry: true}
	}
}

// sortAnswers counts the failed and unknown ids of one origin answer (m,
// err), fetched at at, and returns the items to store for the others.
func (r *run) sortAnswers(dt cache.DataType, ids []string, m alpaca.Multi, err error, at time.Time, c *Counts) map[string]cache.Item {
	failed := failedIDs(ids, err)
	if err != nil {
		r.j.log.Warn("prefetch: origin call failed for some symbols", "data_type", dt, "failed", len(failed), "of", len(ids), "err", err)
	}
	items := make(map[string]cache.Item, len(ids))
	for _, id := range ids {
		if ferr, ok := failed[id]; ok {
			if deferredErr(ferr) {
				c.Deferred++
			} else {
				c.Failed++
			}
			r.retryLater(dt, id)
			continue
		}
		v, ok := m.Values[id]
		if !ok || len(v) == 0 {
			c.NotFound++
			r.gone[entryKey{dt, id}] = true
			continue
		}
		items[id] = cache.Item{Data: v, Source: m.Source, FetchedAt: at}
	}
	return items
}

// failedIDs maps each id a call failed for to its error: a chunk error's
// ids, or every id for any other error.
func failedIDs(ids []string, err error) map[string]error {
	failed := map[string]error{}
	var ce *alpaca.ChunkError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		for _, s := range ce.Failed {
			failed[s] = ce.Err
		}
	default:
		for _, s := range ids {
			failed[s] = err
		}
	}
	return failed
}

// keepQuote remembers an underlying's latest stock quote.
func (r *run) keepQuote(dt cache.DataType, id string, data []byte) {
	if dt == cache.StockQuote && slices.Contains(r.j.unders, id) {
		r.quotes[id] = data
	}
}

// choose sets the run's option contracts: for each underlying, the list kept
// in Redis, or else the first chain page of near-term, near-the-money
// contracts (one origin call), then kept.
func (r *run) choose(ctx context.Context, p time.Time) {
	ny := p.In(market.NewYork)
	for _, u := range r.j.unders {
		list, err := r.j.loadContracts(ctx, u)
		if err != nil {
			r.j.log.Warn("prefetch: kept option contracts unreadable; asking the chain", "underlying", u, "err", err)
		}
		if list == nil {
			params := alpaca.ChainParams{
				ExpirationGTE: ny.Format(time.DateOnly),
				ExpirationLTE: ny.AddDate(0, 0, r.j.cfg.OptionDays).Format(time.DateOnly),
				Limit:         r.j.cfg.OptionContracts,
			}
			if mid := midPrice(r.quotes[u]); mid > 0 {
				band := r.j.cfg.OptionStrikeBand
				params.StrikeGTE = strconv.FormatFloat(mid*(1-band), 'f', 2, 64)
				params.StrikeLTE = strconv.FormatFloat(mid*(1+band), 'f', 2, 64)
			}
			ch, err := r.j.deps.Origin.OptionChain(ctx, u, params, false)
			r.methodCalls++
			if err != nil {
				r.j.log.Warn("prefetch: option chain unavailable; its contracts wait for the next run", "underlying", u, "err", err)
				continue
			}
			list = make([]string, 0, len(ch.Snapshots))
			for s := range ch.Snapshots {
				if validOCC(s) {
					list = append(list, s)
				}
			}
			slices.Sort(list)
			if err := r.j.saveContracts(ctx, u, list); err != nil {
				r.j.log.Warn("prefetch: option contracts not kept", "underlying", u, "err", err)
			}
		}
		r.contracts = append(r.contracts, list...)
	}
	slices.Sort(r.contracts)
	r.contracts = slices.Compact(r.contracts)
	r.rep.Options.Considered = len(r.contracts)
}

// midPrice is the middle of a stock quote's bid and ask (or the one that is
// positive); 0 when neither is.
func midPrice(quote []byte) float64 {
	var q struct {
		AP float64 `json:"ap"`
		BP float64 `json:"bp"`
	}
	if len(quote) == 0 || json.Unmarshal(quote, &q) != nil {
		return 0
	}
	switch {
	case q.AP > 0 && q.BP > 0:
		return (q.AP + q.BP) / 2
	case q.AP > 0:
		return q.AP
	default:
		return max(q.BP, 0)
	}
}

// loadContracts returns the kept contracts of u, nil when there are none.
func (j *Job) loadContracts(ctx context.Context, u string) ([]string, error) {
	if j.deps.Redis == nil {
		return nil, nil
	}
	b, err := j.deps.Redis.Get(ctx, ContractsKeyPrefix+u).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, err
	}
	out := list[:0]
	for _, s := range list {
		if validOCC(s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// saveContracts keeps the contracts of u for ContractsTTL. An empty list
// is kept too, so an underlying without near-term contracts costs one chain
// call per ContractsTTL, not one per run.
func (j *Job) saveContracts(ctx context.Context, u string, list []string) error {
	if j.deps.Redis == nil {
		return nil
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return j.deps.Redis.Set(ctx, ContractsKeyPrefix+u, b, j.cfg.ContractsTTL).Err()
}
