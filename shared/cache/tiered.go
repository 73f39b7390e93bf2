package cache

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	rtmetrics "runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/opitios/opitios-alpaca/shared/budget"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// ErrNotFound is the error of an identifier the origin did not return.
var ErrNotFound = errors.New("cache: not found at origin")

// ErrFetchPanicked is the error callers receive when the fetch function
// panicked; the panic does not propagate.
var ErrFetchPanicked = errors.New("cache: fetch panicked")

// ErrExpired is the error of an identifier whose entry stopped being fresh
// while the call waited for others, and could not be fetched again before
// the caller's context ended.
var ErrExpired = errors.New("cache: entry expired before it could be served")

// Result is one answer: the entry, the layer that supplied it, and the
// instant the cache last found it fresh.
type Result struct {
	Entry     *Entry
	Layer     Layer
	Coalesced bool // supplied by another caller's fetch, in this process or another
	// At is the instant, on the cache's clock, at which the entry was
	// checked fresh just before the call returned. Every result of one call
	// has the same At. Ages and freshness left are reckoned at it.
	At time.Time
}

// Item is what the origin returned for one identifier.
type Item struct {
	Data      json.RawMessage // the origin's JSON for the identifier, stored byte for byte
	Source    string          // data source attribution, e.g. "alpaca/iex"
	FetchedAt time.Time       // when the origin answered; zero means when the fetch started
	Err       error           // this identifier failed (Data is ignored)
}

// FetchFunc fetches ids from the origin in one call. It returns an Item for
// each id the origin answered. An id missing from the map is ErrNotFound
// unless err is non-nil, in which case it failed with err. FetchFunc must
// honour ctx.
type FetchFunc func(ctx context.Context, ids []string) (map[string]Item, error)

// Defaults of Options.
const (
	DefaultFetchTimeout = 8 * time.Second
	DefaultLockTTL      = 3 * time.Second
	DefaultPollInterval = 5 * time.Millisecond
	// maxPollFactor caps the poll interval at this multiple of the first.
	maxPollFactor = 10
	// maxRounds bounds how many times one call fetches again the entries
	// that expired while it waited.
	maxRounds = 3
)

// Options configure a Cache. The zero value is usable: L1 only, system
// clock, default calendar and policy.
type Options struct {
	Redis    redis.UniversalClient // the L2 server; nil for L1 only
	L1       L1Options
	L2       L2Options
	Policy   Policy           // zero: DefaultPolicy
	Calendar *market.Calendar // nil: market.Default()
	Clock    market.Clock     // nil: market.SystemClock
	Recorder Recorder         // nil: none
	Logger   *slog.Logger     // nil: slog.Default()

	// FetchTimeout bounds a fetch and the cross-instance wait before it,
	// whatever happens to the callers' contexts. Default DefaultFetchTimeout.
	FetchTimeout time.Duration
	// LockTTL is the lifetime of a cross-instance fetch lock between
	// renewals: the owner renews it every LockTTL/3 while its fetch runs, so
	// it is also the longest a fleet waits for an owner that died. Default
	// DefaultLockTTL.
	LockTTL time.Duration
	// PollInterval is the first wait between cross-instance polls; it
	// doubles up to ten times this. Default DefaultPollInterval.
	PollInterval time.Duration
	// NoCrossInstance turns off cross-instance coalescing (on by default when
	// Redis is set).
	NoCrossInstance bool
	// Budget is the origin budget the fetch function waits on (nil: none
	// known). When it is kept in Redis through the same client, a fill
	// takes its budget slot in the same round trip as its locks and passes
	// it to the fetch in the context, where the budget's Wait finds it (see
	// the package documentation, "Round trips").
	Budget *budget.Limiter
}

// Cache is a two-level cache with coalesced fetches. It is safe for
// concurrent use.
type Cache struct {
	l1       *l1
	l2       *l2 // nil without Redis
	policy   atomic.Pointer[Policy]
	cal      *market.Calendar
	clock    market.Clock
	rec      Recorder
	log      *slog.Logger
	flights  group
	fetchTTL time.Duration
	lockTTL  time.Duration
	poll     time.Duration
	cross    bool
	token    string
	seq      atomic.Uint64
}

// New returns a Cache.
func New(o Options) *Cache {
	c := &Cache{
		l1:       newL1(o.L1),
		cal:      cmp.Or(o.Calendar, market.Default()),
		clock:    cmp.Or(o.Clock, market.SystemClock),
		rec:      cmp.Or[Recorder](o.Recorder, nopRecorder{}),
		log:      cmp.Or(o.Logger, slog.Default()),
		fetchTTL: config.PositiveOr(o.FetchTimeout, DefaultFetchTimeout),
		lockTTL:  config.PositiveOr(o.LockTTL, DefaultLockTTL),
		poll:     config.PositiveOr(o.PollInterval, DefaultPollInterval),
	}
	p := o.Policy
	if p == (Policy{}) {
		p = DefaultPolicy()
	}
	c.policy.Store(&p)
	if o.Redis != nil {
		c.l2 = newL2(o.Redis, o.L2, func(from, to gobreaker.State) {
			c.log.Warn("cache: L2 circuit breaker", "from", from.String(), "to", to.String())
		})
		if o.Budget != nil {
			if slot, ok := o.Budget.Slot(o.Redis); ok {
				c.l2.budget, c.l2.slot = o.Budget, slot
			}
		}
		c.cross = !o.NoCrossInstance
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	c.token = hex.EncodeToString(b[:])
	return c
}

// Policy returns the TTL policy in force.
func (c *Cache) Policy() Policy { return *c.policy.Load() }

// SetPolicy replaces the TTL policy for entries written from now on. Its
// base TTLs are already clamped by construction (see Policy.WithBase).
func (c *Cache) SetPolicy(p Policy) { c.policy.Store(&p) }

// Now is the cache's clock.
func (c *Cache) Now() time.Time { return c.clock.Now() }

// Calendar is the cache's market calendar.
func (c *Cache) Calendar() *market.Calendar { return c.cal }

// sessionAt is the session an entry of dt must have been fetched in to be
// fresh at now (sessionOf).
func (c *Cache) sessionAt(dt DataType, now time.Time) market.Session {
	if !dt.SessionBound() {
		return AnySession
	}
	return c.cal.SessionAt(now)
}

// Get returns the entry for id: from L1, else L2, else fetch (coalesced with
// concurrent callers, in this process and across the fleet). The entry is
// fresh at the returned Result's At. The error is ErrNotFound, ErrExpired,
// the fetch's error, or ctx's error when ctx ends first.
func (c *Cache) Get(ctx context.Context, dt DataType, id string, fetch FetchFunc) (Result, error) {
	now := c.clock.Now()
	if e, ok := c.l1.get(newL1Key(dt, id), now, c.sessionAt(dt, now)); ok {
		c.rec.CacheResult(LayerL1, metrics.ResultHit, dt.Metric())
		return Result{Entry: e, Layer: LayerL1, At: now}, nil
	}
	c.rec.CacheResult(LayerL1, metrics.ResultMiss, dt.Metric())
	ps := []*pending{newPending(dt, id)}
	c.serve(ctx, dt, ps, fetch)
	return ps[0].res, ps[0].err
}

// GetMany returns the entries for ids (duplicates count once): L1 first, then
// one L2 round trip for the rest, then one fetch call for what is still
// missing (plus waits on fetches already in flight for some of them). Each
// id is either in the results or in the errors.
//
// Freshness is decided when the call returns, not when it started: an entry
// that expired (or whose session ended) while the call waited for the
// others is looked up and fetched again within ctx, or reported as
// ErrExpired. Every result is fresh at its At, which is the same instant
// for all of them.
func (c *Cache) GetMany(ctx context.Context, dt DataType, ids []string, fetch FetchFunc) (map[string]Result, map[string]error) {
	ps := c.lookupL1(dt, ids)
	c.serve(ctx, dt, ps, fetch)
	res := make(map[string]Result, len(ps))
	var errs map[string]error
	for _, p := range ps {
		if p.err != nil {
			if errs == nil {
				errs = make(map[string]error)
			}
			errs[p.id] = p.err
			continue
		}
		res[p.id] = p.res
	}
	return res, errs
}

// lookupL1 returns one pending record per distinct id, the L1 hits among
// them already resolved.
func (c *Cache) lookupL1(dt DataType, ids []string) []*pending {
	now := c.clock.Now()
	session := c.sessionAt(dt, now)
	recs := make([]pending, 0, len(ids)) // one allocation for every record
	ps := make([]*pending, 0, len(ids))
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		recs = append(recs, makePending(dt, id))
		p := &recs[len(recs)-1]
		if e, ok := c.l1.get(p.l1, now, session); ok {
			c.rec.CacheResult(LayerL1, metrics.ResultHit, dt.Metric())
			p.resolve(Result{Entry: e, Layer: LayerL1}, nil)
		} else {
			c.rec.CacheResult(LayerL1, metrics.ResultMiss, dt.Metric())
		}
		ps = append(ps, p)
	}
	return ps
}

// serve resolves every open record of ps from L2 and the fetch, then checks
// every result against the clock; the ones that are no longer fresh are
// opened again and looked up anew, at most maxRounds times and while ctx
// lasts. On return every record holds an error or a result fresh at its At.
func (c *Cache) serve(ctx context.Context, dt DataType, ps []*pending, fetch FetchFunc) {
	open := openOf(ps)
	for round := 1; ; round++ {
		if len(open) > 0 {
			c.lower(ctx, dt, open, fetch)
		}
		now := c.clock.Now()
		open = c.expire(dt, ps, now)
		if len(open) == 0 {
			return
		}
		if round == maxRounds || ctx.Err() != nil {
			for _, p := range open {
				p.resolve(Result{}, ErrExpired)
			}
			return
		}
	}
}

// expire stamps every result of ps with now and reopens the ones not fresh
// at now, which it returns.
func (c *Cache) expire(dt DataType, ps []*pending, now time.Time) []*pending {
	session := c.sessionAt(dt, now)
	var stale []*pending
	for _, p := range ps {
		if p.err != nil {
			continue
		}
		if !p.res.Entry.Fresh(now, session) {
			c.rec.CacheResult(p.res.Layer, metrics.ResultExpired, dt.Metric())
			p.res, p.resolved = Result{}, false
			stale = append(stale, p)
			continue
		}
		p.res.At = now
	}
	return stale
}

// lower serves open records (all L1 misses) from L2, then from in-flight or
// new fetches, waiting for them until ctx ends.
func (c *Cache) lower(ctx context.Context, dt DataType, open []*pending, fetch FetchFunc) {
	if c.l2 != nil {
		c.readL2(ctx, dt, open)
		open = openOf(open)
		if len(open) == 0 {
			return
		}
	}
	mine := c.flights.claim(open)
	if len(mine) > 0 {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.fetchTTL)
		go func() {
			defer cancel()
			c.fill(fctx, dt, mine, fetch)
		}()
	}
	for _, p := range open {
		select {
		case <-p.call.done:
			r, err := p.call.res, p.call.err
			if err == nil && (!p.owner || r.Coalesced) {
				r.Coalesced = true
				c.rec.Coalesced(dt.Metric())
			}
			p.resolve(r, err)
		case <-ctx.Done():
			p.resolve(Result{}, ctx.Err())
		}
	}
}

// readL2 reads the open records' keys in one round trip and resolves the
// fresh ones, which also go to L1. Stale and corrupt values are deleted.
func (c *Cache) readL2(ctx context.Context, dt DataType, open []*pending) {
	keys := keysOf(open)
	vals, err := c.l2.getMany(ctx, keys)
	if err != nil {
		for range open {
			c.rec.CacheResult(LayerL2, metrics.ResultError, dt.Metric())
		}
		return
	}
	now := c.clock.Now()
	var drop []string
	c.decodeEach(dt, keys, vals, now, func(i int, e *Entry, v verdict) {
		p := open[i]
		c.rec.CacheResult(LayerL2, v.result(), dt.Metric())
		switch v {
		case corrupt, stale:
			drop = append(drop, p.key)
		case fresh:
			c.l1.set(p.l1, e, now)
			p.resolve(Result{Entry: e, Layer: LayerL2}, nil)
		}
	})
	if len(drop) > 0 {
		_ = c.l2.del(ctx, drop...)
	}
}

// Ping checks that L2 answers (for health checks).
func (c *Cache) Ping(ctx context.Context) error {
	if c.l2 == nil {
		return ErrL2Unavailable
	}
	return c.l2.do(ctx, func(ctx context.Context) error { return c.l2.rdb.Ping(ctx).Err() })
}

// HasL2 reports whether the cache has a Redis layer.
func (c *Cache) HasL2() bool { return c.l2 != nil }

// PurgeL1 drops every L1 entry.
func (c *Cache) PurgeL1() { c.l1.purge() }

// L1Len is the approximate number of L1 entries.
func (c *Cache) L1Len() int { return c.l1.len() }

// heapMetric is the live heap, cheap to read (no stop-the-world).
const heapMetric = "/memory/classes/heap/objects:bytes"

// RelieveMemory drops L1 when the live heap exceeds limit bytes (for
// example 80 % of the function's memory size) and reports whether it did.
func (c *Cache) RelieveMemory(limit uint64) bool {
	s := []rtmetrics.Sample{{Name: heapMetric}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindUint64 || s[0].Value.Uint64() <= limit {
		return false
	}
	c.l1.purge()
	c.log.Warn("cache: L1 dropped under memory pressure", "heap_bytes", s[0].Value.Uint64(), "limit_bytes", limit)
	return true
}
