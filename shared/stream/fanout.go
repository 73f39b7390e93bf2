package stream

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// feedHub is one feed: its clients, their subscriptions, its upstream and
// its cache writer.
type feedHub struct {
	h       *Hub
	info    feedInfo
	reg     *registry
	up      *upstream
	lease   *Lease // nil without Redis
	sink    *sink  // nil without a cache or for a feed with no entries
	relay   *relay // nil without Redis
	clients atomic.Pointer[[]*client]
	mu      sync.Mutex // serialises changes of clients
}

func newFeedHub(h *Hub, f feedInfo) *feedHub {
	o := h.o
	fh := &feedHub{h: h, info: f, reg: newRegistry(f, o.SymbolLimit, o.Hot)}
	fh.clients.Store(&[]*client{})
	if o.Redis != nil {
		fh.lease = NewLease(o.Redis, f.path, o.LeaseTTL)
		fh.relay = newRelay(fh, o.Redis, fh.lease.owner)
	}
	fh.up = &upstream{fh: fh, url: upstreamURL(o.BaseURL, f.path)}
	if o.Cache != nil && f.dt != "" {
		def := o.StockFeed
		if f.dt != "stock_quote" {
			def = o.OptionFeed
		}
		fh.sink = &sink{cache: o.Cache, dt: f.dt, feed: f.name, def: def, source: source(o.Source, f.name),
			clock: o.Clock, log: o.Logger, pending: map[string]value{}, last: map[string]value{},
			flushed: func(n int) { h.stats.L2Writes.Add(int64(n)) }}
	}
	return fh
}

// source is the attribution of streamed entries.
func source(base, feed string) string {
	if strings.Contains(base, "sim") || feed == "" {
		return base + "+stream"
	}
	return base + "/" + feed + "+stream"
}

// upstreamURL maps the base URL and feed path to a ws(s):// URL.
func upstreamURL(base, path string) string {
	switch {
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	}
	return base + "/" + path
}

// run holds or stands by for the upstream and keeps the cache written,
// until ctx ends; then it disconnects the clients.
func (fh *feedHub) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { fh.writeLoop(ctx) })
	wg.Go(func() { fh.relay.run(ctx) })
	fh.lease.Hold(ctx, fh.h.o.LeasePoll, fh.up.setHeld, fh.up.run)
	wg.Wait()
	for _, c := range *fh.clients.Load() {
		c.close()
	}
}

// writeLoop flushes the sink every FlushInterval and refreshes it every
// RefreshInterval while the upstream is healthy.
func (fh *feedHub) writeLoop(ctx context.Context) {
	if fh.sink == nil {
		return
	}
	o := fh.h.o
	flush := time.NewTicker(o.FlushInterval)
	defer flush.Stop()
	refresh := time.NewTicker(o.RefreshInterval)
	defer refresh.Stop()
	heard := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			fh.sink.flush(ctx)
		case <-refresh.C:
			// Heard from since the last refresh (a frame or a pong), or
			// nothing is refreshed: the values are known current only
			// while upstream is demonstrably alive.
			now := fh.up.heard.Load()
			switch {
			case !fh.up.healthy():
				fh.sink.forget()
			case now != heard:
				fh.sink.refresh(ctx, fh.up.current())
			}
			heard = now
		}
	}
}

// publish hands a batch from upstream to the cache, to the other hubs and
// to this hub's clients.
func (fh *feedHub) publish(msgs []*Msg) {
	fh.h.stats.Messages.Add(int64(len(msgs)))
	now := fh.h.o.Clock.Now()
	for _, m := range msgs {
		if t, ok := m.Field("t").(time.Time); ok {
			fh.h.stats.observeLag(now, t)
		}
	}
	fh.sink.add(msgs)
	fh.relay.publish(msgs)
	fh.fanout(msgs)
}

// fanout sends each subscribed client its part of a batch. A client whose
// queue is full is cut off; nobody waits.
func (fh *feedHub) fanout(msgs []*Msg) {
	var sel []*Msg
	for _, c := range *fh.clients.Load() {
		subs := c.subs.Load()
		if subs == nil {
			continue
		}
		sel = sel[:0]
		for _, m := range msgs {
			if matches(*subs, m) {
				sel = append(sel, m)
			}
		}
		if len(sel) > 0 {
			c.enqueue(Frame(c.framing, sel))
		}
	}
}

// addClient and removeClient change the client list (copy on write).
func (fh *feedHub) addClient(c *client) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	old := *fh.clients.Load()
	next := append(append(make([]*client, 0, len(old)+1), old...), c)
	fh.clients.Store(&next)
	fh.h.stats.Clients.Add(1)
}

func (fh *feedHub) removeClient(c *client) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	old := *fh.clients.Load()
	next := make([]*client, 0, len(old))
	for _, x := range old {
		if x != c {
			next = append(next, x)
		}
	}
	fh.clients.Store(&next)
	fh.h.stats.Clients.Add(-1)
	fh.reg.drop(c)
}
