package cache

import (
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// L1Options bound the in-process cache.
type L1Options struct {
	MaxEntries int           // default 10,000
	MaxBytes   uint64        // default 64 MiB
	TTL        time.Duration // the L1 lifetime ceiling, default 10 s
}

func (o L1Options) withDefaults() L1Options {
	if o.MaxEntries <= 0 {
		o.MaxEntries = 10_000
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 64 << 20
	}
	if o.TTL <= 0 {
		o.TTL = 10 * time.Second
	}
	return o
}

// l1Key identifies an L1 entry without building its Redis key, so an L1 hit
// allocates nothing. id is upper case, as in the Redis key.
type l1Key struct {
	dt DataType
	id string
}

func newL1Key(dt DataType, id string) l1Key { return l1Key{dt: dt, id: upper(id)} }

// l1Item is what L1 holds: the entry and the instant, in Unix nanoseconds
// on the injected clock, L1 must stop serving it.
type l1Item struct {
	e     *Entry
	until int64
}

// entryOverhead approximates the bytes an entry costs beyond its data and
// symbol (struct, timestamps, strings' headers, the cache's node).
const entryOverhead = 256

// l1 is the in-process layer: an otter cache bounded by entries and bytes at
// once. Each entry weighs at least MaxBytes/MaxEntries, so the weight bound
// enforces both limits.
//
// Expiry is L1's own, not otter's: every read checks the entry against the
// injected clock and drops it once expired, and an expired entry that is not
// read again leaves like any cold entry, by the weight bound. (otter's
// per-entry expiry kept a timer wheel current on every read and write, which
// cost more than the lookup itself, to reclaim memory the bound already
// caps.)
type l1 struct {
	c   *otter.Cache[l1Key, l1Item]
	ttl time.Duration
}

func newL1(o L1Options) *l1 {
	o = o.withDefaults()
	floor := uint32(max(o.MaxBytes/uint64(o.MaxEntries), 1))
	c := otter.Must(&otter.Options[l1Key, l1Item]{
		MaximumWeight: o.MaxBytes,
		Weigher: func(k l1Key, v l1Item) uint32 {
			w := uint32(len(k.id)+len(k.dt)+len(v.e.Data)+len(v.e.Symbol)+len(v.e.DataSource)) + entryOverhead
			return max(w, floor)
		},
		// Maintenance runs on the goroutine that wrote, as a little work,
		// rather than on a goroutine started after a write: waking a thread
		// for it costs more than the work, and takes a core from the Redis
		// round trip it follows. (The cache has no
		// OnDeletion, Compute or refresh that could run under its locks.)
		Executor: func(fn func()) { fn() },
	})
	return &l1{c: c, ttl: o.TTL}
}

// get returns the entry under key if L1 may serve it at now in session.
func (l *l1) get(key l1Key, now time.Time, session market.Session) (*Entry, bool) {
	it, ok := l.c.GetIfPresent(key)
	if !ok {
		return nil, false
	}
	if now.UnixNano() >= it.until || (session != AnySession && it.e.Session != session) {
		l.c.Invalidate(key)
		return nil, false
	}
	return it.e, true
}

// set stores e until min(now+TTL, e's expiry).
func (l *l1) set(key l1Key, e *Entry, now time.Time) {
	until := now.Add(l.ttl)
	if exp := e.ExpiresAt(); exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return
	}
	l.c.Set(key, l1Item{e: e, until: until.UnixNano()})
}

func (l *l1) purge() { l.c.InvalidateAll() }

func (l *l1) len() int { return l.c.EstimatedSize() }
