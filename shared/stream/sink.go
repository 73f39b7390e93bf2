package stream

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// restOrder is the key order of the REST latest route's object for each
// message type; keys not listed follow in arrival order. S and T are never
// part of it.
var restOrder = map[string][]string{
	"q": {"t", "ax", "ap", "as", "bx", "bp", "bs", "c", "z"},
	"t": {"t", "x", "p", "s", "c", "i", "z"},
	"b": {"t", "o", "h", "l", "c", "v", "n", "vw"},
	"u": {"t", "o", "h", "l", "c", "v", "n", "vw"},
}

// restKeysSkipped are stream-only fields the REST objects do not carry.
var restKeysSkipped = map[string]bool{"r": true}

// RESTObject returns the JSON object Alpaca's REST latest route returns for
// the symbol of m (a quote, trade or bar): m's fields but S and T, in the
// REST order.
func RESTObject(m *Msg) json.RawMessage {
	order := restOrder[m.T]
	b := []byte{'{'}
	put := func(f field) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONValue(append(appendJSONValue(b, f.k), ':'), f.v)
	}
	for _, k := range order {
		for _, f := range m.fields {
			if f.k == k {
				put(f)
				break
			}
		}
	}
	for _, f := range m.fields {
		if !slices.Contains(order, f.k) && !restKeysSkipped[f.k] {
			put(f)
		}
	}
	return append(b, '}')
}

// value is the last value of one entry.
type value struct {
	data    json.RawMessage
	at      time.Time // when the hub received it
	channel string    // the upstream channel that carries it
	symbol  string
}

// sink writes a feed's quotes, trades and bars into the cache.
type sink struct {
	cache    *cache.Cache
	dt       cache.DataType
	feed     string // the entry's feed
	def      string // the deployment's default feed for the asset class
	source   string
	clock    market.Clock
	log      *slog.Logger
	flushed  func(n int)
	mu       sync.Mutex
	pending  map[string]value // written at the next flush
	last     map[string]value // refreshed while the upstream is healthy
	inflight sync.Mutex       // one flush or refresh at a time
}

// add records the messages that update entries.
func (s *sink) add(msgs []*Msg) {
	if s == nil {
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		k, ok := kindOf(m.T)
		if !ok || m.S == "" {
			continue
		}
		id := catalog.EntryID(m.S, k, s.feed, s.def)
		v := value{data: RESTObject(m), at: now, channel: channelOf[m.T], symbol: m.S}
		if m.T == "u" {
			v.channel = "bars"
		}
		s.pending[id] = v
		s.last[id] = v
	}
}

// flush writes the pending values, each with the instant it arrived.
func (s *sink) flush(ctx context.Context) {
	s.mu.Lock()
	p := s.pending
	s.pending = make(map[string]value, len(p))
	s.mu.Unlock()
	s.store(ctx, p, time.Time{})
}

// refresh stores again the last value of each entry whose channel and
// symbol cur still subscribes, stamped now: the upstream is healthy and
// carries every change, so the last value is the current one. Entries no
// longer subscribed are forgotten.
func (s *sink) refresh(ctx context.Context, cur Subs) {
	s.mu.Lock()
	out := make(map[string]value, len(s.last))
	for id, v := range s.last {
		if !cur.Has(v.channel, v.symbol) {
			delete(s.last, id)
			continue
		}
		if _, queued := s.pending[id]; !queued {
			out[id] = v
		}
	}
	s.mu.Unlock()
	s.store(ctx, out, s.clock.Now())
}

// forget drops every last value: the upstream went away, so they are no
// longer known to be current.
func (s *sink) forget() {
	s.mu.Lock()
	s.last = map[string]value{}
	s.mu.Unlock()
}

// store writes vals, stamped at (or at each value's arrival when at is
// zero).
func (s *sink) store(ctx context.Context, vals map[string]value, at time.Time) {
	if len(vals) == 0 {
		return
	}
	items := make(map[string]cache.Item, len(vals))
	for id, v := range vals {
		t := at
		if t.IsZero() {
			t = v.at
		}
		items[id] = cache.Item{Data: v.data, Source: s.source, FetchedAt: t}
	}
	s.inflight.Lock()
	defer s.inflight.Unlock()
	n, err := s.cache.Store(ctx, s.dt, items)
	if err != nil {
		s.log.Warn("stream: L2 write failed", "entries", len(items), "err", err)
	}
	if s.flushed != nil {
		s.flushed(n)
	}
}

// forgetIfAny is forget on a sink that may be nil.
func (s *sink) forgetIfAny() {
	if s != nil {
		s.forget()
	}
}
