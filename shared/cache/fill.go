package cache

import (
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"

	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// filler resolves the in-process calls one read owns: it takes each key's
// fleet lock (or waits for the holder's value), fetches what it holds the
// lock for, stores it, and finishes every call exactly once.
type filler struct {
	c     *Cache
	dt    DataType
	fetch FetchFunc
	token string // this fill's lock token
	done  map[*pending]bool
}

// fill finishes the calls of mine. ctx is detached from the callers and
// bounded by the fetch timeout.
func (c *Cache) fill(ctx context.Context, dt DataType, mine []*pending, fetch FetchFunc) {
	f := &filler{c: c, dt: dt, fetch: fetch, done: make(map[*pending]bool, len(mine)),
		token: c.token + ":" + strconv.FormatUint(c.seq.Add(1), 10)}
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("cache: fetch panicked", "data_type", string(dt), "panic", fmt.Sprint(p))
			for _, q := range mine {
				f.finish(q, Result{}, ErrFetchPanicked)
			}
		}
	}()
	waiting := f.fromL1(mine)
	wait := c.poll
	for len(waiting) > 0 {
		held, fctx := waiting, ctx
		if c.cross {
			held, waiting, fctx = f.lockRound(ctx, waiting)
		} else {
			waiting = nil
		}
		if len(held) > 0 {
			f.fetchAndStore(fctx, held)
		}
		if len(waiting) == 0 {
			return
		}
		if err := market.Sleep(ctx, wait); err != nil {
			for _, p := range waiting {
				f.finish(p, Result{}, err)
			}
			return
		}
		wait = min(2*wait, maxPollFactor*c.poll)
	}
}

// finish finishes p's call unless it already was.
func (f *filler) finish(p *pending, r Result, err error) {
	if f.done[p] {
		return
	}
	f.done[p] = true
	f.c.flights.finish(p, r, err)
}

// fromL1 finishes the records whose answer reached L1 between the read's L2
// lookup and its claim (a fetch that just finished), and returns the rest.
func (f *filler) fromL1(ps []*pending) []*pending {
	now := f.c.clock.Now()
	session := f.c.sessionAt(f.dt, now)
	var rest []*pending
	for _, p := range ps {
		if e, ok := f.c.l1.get(p.l1, now, session); ok {
			f.finish(p, Result{Entry: e, Layer: LayerL1, Coalesced: true}, nil)
			continue
		}
		rest = append(rest, p)
	}
	return rest
}

// lockRound runs one lock step over ps: it takes each key's lock and then
// reads its value, so a value the previous holder stored before releasing
// the lock is always seen. Keys whose fresh value is there are finished from
// L2 (and their lock released); it returns the keys this fill now holds the
// lock for, those another instance holds, and the context to fetch the held
// ones with: it carries the budget slot the lock step took, if any. If L2
// fails, every key is fetched directly: Redis trouble must not stop the
// answers.
func (f *filler) lockRound(ctx context.Context, ps []*pending) (held, elsewhere []*pending, fctx context.Context) {
	keys := keysOf(ps)
	vals, mine, tk, err := f.c.l2.lockStep(ctx, keys, f.token, f.c.lockTTL)
	if err != nil {
		return ps, nil, ctx
	}
	if tk.asked {
		ctx = f.c.l2.budget.Taken(ctx, tk.allowed, tk.resetAfter)
	}
	now := f.c.clock.Now()
	var release []string
	f.c.decodeEach(f.dt, keys, vals, now, func(i int, e *Entry, v verdict) {
		p := ps[i]
		switch {
		case v == fresh:
			if mine[i] {
				release = append(release, p.key)
			}
			f.c.l1.set(p.l1, e, now)
			f.finish(p, Result{Entry: e, Layer: LayerL2, Coalesced: true}, nil)
		case mine[i]:
			held = append(held, p)
		default:
			elsewhere = append(elsewhere, p)
		}
	})
	if len(release) > 0 {
		_ = f.c.l2.unlock(ctx, release, f.token)
	}
	return held, elsewhere, ctx
}

// fetchAndStore fetches the keys of ps (whose locks this fill holds, when
// cross-instance coalescing is on), keeping the locks alive while the fetch
// runs. It writes what the origin returned to L2 (before releasing the
// locks, so other instances find it then) and L1, and finishes the calls.
func (f *filler) fetchAndStore(ctx context.Context, ps []*pending) {
	locked := f.c.cross && f.c.l2 != nil
	started := f.c.clock.Now()
	items, ferr := f.fetchLocked(ctx, ps, locked)
	answers := f.c.answers(f.dt, ps, items, ferr, started)
	var unlock []string
	if locked {
		unlock = keysOf(ps)
	}
	f.c.persist(ctx, f.dt, answers, unlock, f.token)
	for _, a := range answers {
		f.c.rec.CacheResult(LayerOrigin, originResult(a.err), f.dt.Metric())
		if a.err != nil {
			f.finish(a.p, Result{}, a.err)
			continue
		}
		f.finish(a.p, Result{Entry: a.e, Layer: LayerOrigin}, nil)
	}
}

// fetchLocked calls the fetch function for ps, renewing their locks until
// it returns when locked is set.
func (f *filler) fetchLocked(ctx context.Context, ps []*pending, locked bool) (map[string]Item, error) {
	if locked {
		stop := f.c.l2.keepLocked(ctx, keysOf(ps), f.token, f.c.lockTTL)
		defer stop()
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.id
	}
	return f.fetch(ctx, ids)
}

// answer is the origin's answer for one key: an entry (stored when
// cacheable) or an error.
type answer struct {
	p         *pending
	e         *Entry
	cacheable bool
	err       error
}

// answers turns one fetch's outcome into an answer per record.
func (c *Cache) answers(dt DataType, ps []*pending, items map[string]Item, ferr error, started time.Time) []answer {
	now := c.clock.Now()
	span := c.cal.SpanAt(now)
	out := make([]answer, len(ps))
	for i, p := range ps {
		it, ok := items[p.id]
		a := answer{p: p}
		switch {
		case ok && it.Err != nil:
			a.err = it.Err
		case ok && len(it.Data) > 0:
			a.e, a.cacheable = c.entry(p.id, it, started, now, span, dt)
		case ferr != nil:
			a.err = ferr
		default:
			a.err = ErrNotFound
		}
		out[i] = a
	}
	return out
}

// originResult is the origin layer's metric result of an answer.
func originResult(err error) metrics.Result {
	switch {
	case err == nil:
		return metrics.ResultHit
	case errors.Is(err, ErrNotFound):
		return metrics.ResultMiss
	}
	return metrics.ResultError
}
