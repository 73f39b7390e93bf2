package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// ErrNotFound is the error of an identifier the origin did not return.
var ErrNotFound = errors.New("cache: not found at origin")

// ErrFetchPanicked is the error callers receive when the fetch function
// panicked; the panic does not propagate.
var ErrFetchPanicked = errors.New("cache: fetch panicked")

// Result is one answer: the entry and the layer that supplied it.
type Result struct {
	Entry     *Entry
	Layer     Layer
	Coalesced bool // supplied by another caller's fetch, in this process or another
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
	// whatever happens to the callers' contexts. Default 8 s.
	FetchTimeout time.Duration
	// LockTTL is the lifetime of a cross-instance fetch lock: the longest a
	// fleet waits for an owner that died. Default 3 s.
	LockTTL time.Duration
	// PollInterval is the first wait between cross-instance polls; it doubles
	// up to 8 times. Default 5 ms.
	PollInterval time.Duration
	// NoCrossInstance turns off cross-instance coalescing (on by default when
	// Redis is set).
	NoCrossInstance bool
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
		cal:      o.Calendar,
		clock:    o.Clock,
		rec:      o.Recorder,
		log:      o.Logger,
		fetchTTL: o.FetchTimeout,
		lockTTL:  o.LockTTL,
		poll:     o.PollInterval,
	}
	if c.cal == nil {
		c.cal = market.Default()
	}
	if c.clock == nil {
		c.clock = market.SystemClock
	}
	if c.rec == nil {
		c.rec = nopRecorder{}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.fetchTTL <= 0 {
		c.fetchTTL = 8 * time.Second
	}
	if c.lockTTL <= 0 {
		c.lockTTL = 3 * time.Second
	}
	if c.poll <= 0 {
		c.poll = 5 * time.Millisecond
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

// Get returns the entry for id: from L1, else L2, else fetch (coalesced with
// concurrent callers, in this process and across the fleet). The error is
// ErrNotFound, the fetch's error, or ctx's error when ctx ends first.
func (c *Cache) Get(ctx context.Context, dt DataType, id string, fetch FetchFunc) (Result, error) {
	now := c.clock.Now()
	if e, ok := c.l1.get(newL1Key(dt, id), now, string(c.cal.SessionAt(now))); ok {
		c.rec.CacheResult(string(LayerL1), resultHit, string(dt))
		return Result{Entry: e, Layer: LayerL1}, nil
	}
	c.rec.CacheResult(string(LayerL1), resultMiss, string(dt))
	res, errs := c.lower(ctx, dt, []string{id}, []string{Key(dt, id)}, fetch)
	if err := errs[id]; err != nil {
		return Result{}, err
	}
	return res[id], nil
}

// GetMany returns the entries for ids (duplicates count once): L1 first, then
// one L2 round trip for the rest, then one fetch call for what is still
// missing (plus waits on fetches already in flight for some of them). Each
// id is either in the results or in the errors.
func (c *Cache) GetMany(ctx context.Context, dt DataType, ids []string, fetch FetchFunc) (map[string]Result, map[string]error) {
	now := c.clock.Now()
	session := string(c.cal.SessionAt(now))
	res := make(map[string]Result, len(ids))
	var missIDs, missKeys []string
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		if e, ok := c.l1.get(newL1Key(dt, id), now, session); ok {
			c.rec.CacheResult(string(LayerL1), resultHit, string(dt))
			res[id] = Result{Entry: e, Layer: LayerL1}
			continue
		}
		c.rec.CacheResult(string(LayerL1), resultMiss, string(dt))
		missIDs = append(missIDs, id)
		missKeys = append(missKeys, Key(dt, id))
	}
	if len(missIDs) == 0 {
		return res, nil
	}
	lres, errs := c.lower(ctx, dt, missIDs, missKeys, fetch)
	for id, r := range lres {
		res[id] = r
	}
	return res, errs
}

// lower serves ids (all L1 misses) from L2, then from in-flight or new
// fetches.
func (c *Cache) lower(ctx context.Context, dt DataType, ids, keys []string, fetch FetchFunc) (map[string]Result, map[string]error) {
	res := make(map[string]Result, len(ids))
	var errs map[string]error
	setErr := func(id string, err error) {
		if errs == nil {
			errs = make(map[string]error)
		}
		errs[id] = err
	}
	if c.l2 != nil {
		found := c.readL2(ctx, dt, ids, keys)
		n := 0
		for i, e := range found {
			if e != nil {
				res[ids[i]] = Result{Entry: e, Layer: LayerL2}
				continue
			}
			ids[n], keys[n] = ids[i], keys[i]
			n++
		}
		ids, keys = ids[:n], keys[:n]
		if n == 0 {
			return res, nil
		}
	}
	calls, owned := c.flights.claim(keys)
	var mine []int
	for i, o := range owned {
		if o {
			mine = append(mine, i)
		}
	}
	if len(mine) > 0 {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.fetchTTL)
		oids, okeys, ocalls := make([]string, len(mine)), make([]string, len(mine)), make([]*call, len(mine))
		for j, i := range mine {
			oids[j], okeys[j], ocalls[j] = ids[i], keys[i], calls[i]
		}
		go func() {
			defer cancel()
			c.fill(fctx, dt, oids, okeys, ocalls, fetch)
		}()
	}
	for i, cl := range calls {
		select {
		case <-cl.done:
			if cl.err != nil {
				setErr(ids[i], cl.err)
				continue
			}
			r := cl.res
			if !owned[i] || r.Coalesced {
				r.Coalesced = true
				c.rec.Coalesced(string(dt))
			}
			res[ids[i]] = r
		case <-ctx.Done():
			setErr(ids[i], ctx.Err())
		}
	}
	return res, errs
}

// readL2 reads keys in one round trip and returns the fresh entries (nil
// elsewhere). Stale and corrupt values are deleted; fresh ones go to L1.
func (c *Cache) readL2(ctx context.Context, dt DataType, ids, keys []string) []*Entry {
	out := make([]*Entry, len(keys))
	vals, err := c.l2.getMany(ctx, keys)
	if err != nil {
		for range keys {
			c.rec.CacheResult(string(LayerL2), resultError, string(dt))
		}
		return out
	}
	now := c.clock.Now()
	session := c.cal.SessionAt(now)
	var drop []string
	for i, v := range vals {
		if v == nil {
			c.rec.CacheResult(string(LayerL2), resultMiss, string(dt))
			continue
		}
		e, err := DecodeEnvelope(v)
		switch {
		case err != nil:
			c.rec.CacheResult(string(LayerL2), resultError, string(dt))
			c.log.Warn("cache: corrupt L2 value deleted", "key", keys[i], "err", err)
			drop = append(drop, keys[i])
		case !e.Fresh(now, session):
			c.rec.CacheResult(string(LayerL2), resultStale, string(dt))
			drop = append(drop, keys[i])
		default:
			c.rec.CacheResult(string(LayerL2), resultHit, string(dt))
			c.l1.set(newL1Key(dt, ids[i]), e, now)
			out[i] = e
		}
	}
	if len(drop) > 0 {
		_ = c.l2.del(ctx, drop...)
	}
	return out
}

// fill resolves the calls this process owns: it takes each key's fleet lock
// (or waits for the lock holder's value), fetches what it holds the lock
// for, stores it, and finishes every call. ctx is detached from the callers.
func (c *Cache) fill(ctx context.Context, dt DataType, ids, keys []string, calls []*call, fetch FetchFunc) {
	finished := make([]bool, len(ids))
	finish := func(i int, r Result, err error) {
		c.flights.release(keys[i])
		calls[i].finish(r, err)
		finished[i] = true
	}
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("cache: fetch panicked", "data_type", string(dt), "panic", fmt.Sprint(p))
			for i := range ids {
				if !finished[i] {
					finish(i, Result{}, ErrFetchPanicked)
				}
			}
		}
	}()
	pending := make([]int, len(ids))
	for i := range pending {
		pending[i] = i
	}
	// A fetch that finished between this caller's L2 read and its claim has
	// already stored its answer in L1: serve that rather than fetch again.
	now := c.clock.Now()
	session := string(c.cal.SessionAt(now))
	n := 0
	for _, i := range pending {
		if e, ok := c.l1.get(newL1Key(dt, ids[i]), now, session); ok {
			finish(i, Result{Entry: e, Layer: LayerL1, Coalesced: true}, nil)
			continue
		}
		pending[n] = i
		n++
	}
	pending = pending[:n]
	token := c.token + ":" + strconv.FormatUint(c.seq.Add(1), 10)
	wait := c.poll
	for polls := 0; len(pending) > 0; polls++ {
		var toFetch []int
		if c.cross {
			toFetch, pending = c.lockRound(ctx, dt, ids, keys, pending, token, finish)
		} else {
			toFetch, pending = pending, nil
		}
		if len(toFetch) > 0 {
			c.fetchAndStore(ctx, dt, ids, keys, toFetch, fetch, token, finish)
		}
		if len(pending) == 0 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			for _, i := range pending {
				finish(i, Result{}, ctx.Err())
			}
			return
		}
		if polls < 8 {
			wait *= 2
		}
	}
}

// lockRound runs one lock step over pending keys. Keys whose value appeared
// are finished from L2; it returns the keys this process now holds the lock
// for, and those still held by another instance. If L2 fails, every pending
// key is fetched directly: Redis trouble must not stop the answers.
func (c *Cache) lockRound(ctx context.Context, dt DataType, ids, keys []string, pending []int, token string, finish func(int, Result, error)) (toFetch, still []int) {
	pk := make([]string, len(pending))
	for j, i := range pending {
		pk[j] = keys[i]
	}
	vals, held, err := c.l2.lockStep(ctx, pk, token, c.lockTTL)
	if err != nil {
		return pending, nil
	}
	now := c.clock.Now()
	session := c.cal.SessionAt(now)
	var release []string
	for j, i := range pending {
		if vals[j] != nil {
			if e, err := DecodeEnvelope(vals[j]); err == nil && e.Fresh(now, session) {
				if held[j] {
					release = append(release, keys[i])
				}
				c.l1.set(newL1Key(dt, ids[i]), e, now)
				finish(i, Result{Entry: e, Layer: LayerL2, Coalesced: true}, nil)
				continue
			}
		}
		if held[j] {
			toFetch = append(toFetch, i)
		} else {
			still = append(still, i)
		}
	}
	if len(release) > 0 {
		_ = c.l2.unlock(ctx, release, token)
	}
	return toFetch, still
}

// fetchAndStore fetches the ids at idx, writes what the origin returned to
// L2 (before finishing, so other instances find it when the lock goes) and
// L1, releases the locks, and finishes the calls.
func (c *Cache) fetchAndStore(ctx context.Context, dt DataType, ids, keys []string, idx []int, fetch FetchFunc, token string, finish func(int, Result, error)) {
	fids := make([]string, len(idx))
	for j, i := range idx {
		fids[j] = ids[i]
	}
	started := c.clock.Now()
	items, ferr := fetch(ctx, fids)
	now := c.clock.Now()
	span := c.cal.SpanAt(now)
	type done struct {
		i   int
		e   *Entry
		err error
	}
	out := make([]done, 0, len(idx))
	var writes []kv
	var buf []byte
	for _, i := range idx {
		it, ok := items[ids[i]]
		switch {
		case ok && it.Err != nil:
			out = append(out, done{i: i, err: it.Err})
		case ok && len(it.Data) > 0:
			e, cacheable := c.entry(ids[i], it, started, now, span, dt)
			if cacheable {
				buf = AppendEnvelope(buf[:0], e)
				writes = append(writes, kv{key: keys[i], val: append([]byte(nil), buf...), ttl: e.TTL})
				c.l1.set(newL1Key(dt, ids[i]), e, now)
			}
			out = append(out, done{i: i, e: e})
		case ferr != nil:
			out = append(out, done{i: i, err: ferr})
		default:
			out = append(out, done{i: i, err: ErrNotFound})
		}
	}
	if len(writes) > 0 && c.l2 != nil {
		if err := c.l2.setMany(ctx, writes); err != nil {
			c.rec.CacheResult(string(LayerL2), resultError, string(dt))
		} else {
			for range writes {
				c.rec.CacheResult(string(LayerL2), resultWrite, string(dt))
			}
		}
	}
	if c.cross && c.l2 != nil {
		_ = c.l2.unlock(ctx, keysAt(keys, idx), token)
	}
	for _, d := range out {
		switch {
		case d.err == nil:
			c.rec.CacheResult(string(LayerOrigin), resultHit, string(dt))
			finish(d.i, Result{Entry: d.e, Layer: LayerOrigin}, nil)
		case errors.Is(d.err, ErrNotFound):
			c.rec.CacheResult(string(LayerOrigin), resultMiss, string(dt))
			finish(d.i, Result{}, d.err)
		default:
			c.rec.CacheResult(string(LayerOrigin), resultError, string(dt))
			finish(d.i, Result{}, d.err)
		}
	}
}

// entry builds the entry for an origin answer completed at now. It is
// cacheable only if it is still fresh at now: an answer whose session ended
// while it was in flight is returned to its callers as the origin's answer,
// but never stored.
func (c *Cache) entry(id string, it Item, started, now time.Time, span market.Span, dt DataType) (*Entry, bool) {
	fetched := it.FetchedAt
	if fetched.IsZero() || fetched.After(now) {
		fetched = started
	}
	fspan := span
	if !span.Contains(fetched) {
		fspan = c.cal.SpanAt(fetched)
	}
	e := &Entry{
		Symbol:     upper(id),
		Data:       it.Data,
		CachedAt:   now,
		FetchedAt:  fetched,
		DataSource: it.Source,
		Session:    fspan.Session,
		TTL:        c.Policy().EntryTTL(dt, fspan, fetched),
	}
	return e, e.Fresh(now, span.Session)
}

func keysAt(keys []string, idx []int) []string {
	out := make([]string, len(idx))
	for j, i := range idx {
		out[j] = keys[i]
	}
	return out
}

// Store writes origin answers fetched outside Get (the scheduled prefetch)
// to L2 and L1 through the same envelope and TTL policy. Items with Err or no
// data are skipped. It returns how many entries were stored in L2.
func (c *Cache) Store(ctx context.Context, dt DataType, items map[string]Item) (int, error) {
	now := c.clock.Now()
	span := c.cal.SpanAt(now)
	var writes []kv
	var buf []byte
	for id, it := range items {
		if it.Err != nil || len(it.Data) == 0 {
			continue
		}
		e, cacheable := c.entry(id, it, now, now, span, dt)
		if !cacheable {
			continue
		}
		key := Key(dt, id)
		buf = AppendEnvelope(buf[:0], e)
		writes = append(writes, kv{key: key, val: append([]byte(nil), buf...), ttl: e.TTL})
		c.l1.set(newL1Key(dt, id), e, now)
	}
	if len(writes) == 0 || c.l2 == nil {
		return 0, nil
	}
	if err := c.l2.setMany(ctx, writes); err != nil {
		c.rec.CacheResult(string(LayerL2), resultError, string(dt))
		return 0, err
	}
	for range writes {
		c.rec.CacheResult(string(LayerL2), resultWrite, string(dt))
	}
	return len(writes), nil
}

// Peek returns the fresh L2 entries of ids (absent when missing or not
// fresh), without fetching, touching L1 or deleting anything. Prefetch uses
// it to find what needs refreshing.
func (c *Cache) Peek(ctx context.Context, dt DataType, ids []string) (map[string]*Entry, error) {
	if c.l2 == nil {
		return nil, ErrL2Unavailable
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = Key(dt, id)
	}
	vals, err := c.l2.getMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	session := c.cal.SessionAt(now)
	out := make(map[string]*Entry, len(ids))
	for i, v := range vals {
		if v == nil {
			continue
		}
		if e, err := DecodeEnvelope(v); err == nil && e.Fresh(now, session) {
			out[ids[i]] = e
		}
	}
	return out, nil
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
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[0].Value.Uint64() <= limit {
		return false
	}
	c.l1.purge()
	c.log.Warn("cache: L1 dropped under memory pressure", "heap_bytes", s[0].Value.Uint64(), "limit_bytes", limit)
	return true
}
