package cache

import (
	"context"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// entry builds the entry for an origin answer completed at now. It is
// cacheable only if it is still fresh at now: an answer whose session ended
// while it was in flight is never stored (and the read that asked for it
// fetches again, since it is not fresh either).
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
	return e, e.Fresh(now, sessionOf(dt, span.Session))
}

// persist writes the cacheable entries of answers to L1 and, in one
// pipeline, to L2, releasing after them the locks of unlock held with token,
// and returns how many entries reached L2.
func (c *Cache) persist(ctx context.Context, dt DataType, answers []answer, unlock []string, token string) (int, error) {
	now := c.clock.Now()
	var writes []kv
	var buf []byte
	for _, a := range answers {
		if a.err != nil || !a.cacheable {
			continue
		}
		buf = AppendEnvelope(buf[:0], a.e)
		writes = append(writes, kv{key: a.p.key, val: append([]byte(nil), buf...), ttl: a.e.TTL})
		c.l1.set(a.p.l1, a.e, now)
	}
	if c.l2 == nil || len(writes)+len(unlock) == 0 {
		return 0, nil
	}
	if err := c.l2.setMany(ctx, writes, unlock, token); err != nil && len(writes) > 0 {
		c.rec.CacheResult(LayerL2, metrics.ResultError, dt.Metric())
		return 0, err
	}
	for range writes {
		c.rec.CacheResult(LayerL2, metrics.ResultWrite, dt.Metric())
	}
	return len(writes), nil
}

// Store writes origin answers fetched outside Get (the scheduled prefetch)
// to L2 and L1 through the same envelope and TTL policy. Items with Err or no
// data, and answers no longer fresh, are skipped. It returns how many
// entries were stored in L2.
func (c *Cache) Store(ctx context.Context, dt DataType, items map[string]Item) (int, error) {
	now := c.clock.Now()
	span := c.cal.SpanAt(now)
	answers := make([]answer, 0, len(items))
	for id, it := range items {
		if it.Err != nil || len(it.Data) == 0 {
			continue
		}
		e, cacheable := c.entry(id, it, now, now, span, dt)
		answers = append(answers, answer{p: newPending(dt, id), e: e, cacheable: cacheable})
	}
	return c.persist(ctx, dt, answers, nil, "")
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
	out := make(map[string]*Entry, len(ids))
	c.decodeEach(dt, keys, vals, c.clock.Now(), func(i int, e *Entry, v verdict) {
		if v == fresh {
			out[ids[i]] = e
		}
	})
	return out, nil
}

// verdict is what an L2 value is worth at an instant.
type verdict int

const (
	missing verdict = iota // no value
	corrupt                // not a valid envelope
	stale                  // valid, but not fresh
	fresh                  // may be served
)

// result is the verdict's metric result.
func (v verdict) result() metrics.Result {
	switch v {
	case missing:
		return metrics.ResultMiss
	case corrupt:
		return metrics.ResultError
	case stale:
		return metrics.ResultStale
	}
	return metrics.ResultHit
}

// decodeEach decodes each L2 value (vals[i] read from keys[i]) and calls f
// with its index, its entry (nil unless valid) and its verdict at now. A
// corrupt value is logged.
func (c *Cache) decodeEach(dt DataType, keys []string, vals [][]byte, now time.Time, f func(i int, e *Entry, v verdict)) {
	session := c.sessionAt(dt, now)
	for i, b := range vals {
		if b == nil {
			f(i, nil, missing)
			continue
		}
		e, err := decodeKeyed(b, keys[i])
		switch {
		case err != nil:
			c.log.Warn("cache: corrupt L2 value", "key", keys[i], "err", err)
			f(i, nil, corrupt)
		case !e.Fresh(now, session):
			f(i, e, stale)
		default:
			f(i, e, fresh)
		}
	}
}
