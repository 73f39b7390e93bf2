package stream

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// relay shares one feed's upstream among the hubs on one Redis. The holder
// publishes each upstream batch on a Redis channel, and every other hub
// serves its clients from that channel (never writing L2: the holder
// does). Each hub also publishes its clients' subscription in a Redis hash,
// refreshed every LeasePoll and expiring after five of them; the holder
// subscribes upstream to the union. A nil relay (no Redis) does nothing.
type relay struct {
	fh       *feedHub
	rdb      redis.UniversalClient
	id       string
	channel  string
	wantsKey string
	out      chan []byte // batches to publish; full means dropped
	dropped  atomic.Int64
}

func newRelay(fh *feedHub, rdb redis.UniversalClient, id string) *relay {
	if rdb == nil {
		return nil
	}
	base := config.KeyPrefix + "stream:" + fh.info.path
	return &relay{fh: fh, rdb: rdb, id: id, channel: base + ":data", wantsKey: base + ":wants", out: make(chan []byte, 1024)}
}

// publish queues a batch from upstream for the other hubs.
func (r *relay) publish(msgs []*Msg) {
	if r == nil {
		return
	}
	select {
	case r.out <- Frame(Msgpack, msgs):
	default:
		r.dropped.Add(1)
	}
}

// run publishes, listens and exchanges subscriptions until ctx ends.
func (r *relay) run(ctx context.Context) {
	if r == nil {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { r.listen(ctx) })
	wg.Go(func() { r.exchange(ctx) })
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-r.out:
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			_ = r.rdb.Publish(pctx, r.channel, b).Err()
			cancel()
		}
	}
}

// listen serves the clients from the channel while another hub holds the
// upstream.
func (r *relay) listen(ctx context.Context) {
	for ctx.Err() == nil {
		sub := r.rdb.Subscribe(ctx, r.channel)
		r.relayFrom(ctx, sub.Channel())
		_ = sub.Close()
		_ = market.Sleep(ctx, r.fh.h.o.LeasePoll)
	}
}

// relayFrom fans out the batches of ch until it closes or ctx ends.
func (r *relay) relayFrom(ctx context.Context, ch <-chan *redis.Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			if r.fh.up.held.Load() {
				continue
			}
			if msgs, err := DecodeFrame([]byte(m.Payload), Msgpack); err == nil {
				r.fh.fanout(msgs)
			}
		}
	}
}

// wantRecord is one hub's entry in the wants hash.
type wantRecord struct {
	Expires int64               `json:"exp"` // unix milliseconds, on the hub's clock
	Subs    map[string][]string `json:"subs"`
}

// exchange writes this hub's clients' subscription and reads the others'
// every LeasePoll.
func (r *relay) exchange(ctx context.Context) {
	o := r.fh.h.o
	t := time.NewTicker(o.LeasePoll)
	defer t.Stop()
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		r.rdb.HDel(dctx, r.wantsKey, r.id)
	}()
	for {
		r.exchangeOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *relay) exchangeOnce(ctx context.Context) {
	o := r.fh.h.o
	now := o.Clock.Now()
	rec := wantRecord{Expires: now.Add(5 * o.LeasePoll).UnixMilli(), Subs: map[string][]string{}}
	local := r.fh.reg.local()
	for c := range local {
		rec.Subs[c] = local.List(c)
	}
	b, _ := json.Marshal(rec)
	rctx, cancel := context.WithTimeout(ctx, o.LeasePoll)
	defer cancel()
	if r.rdb.HSet(rctx, r.wantsKey, r.id, b).Err() != nil {
		return
	}
	all, err := r.rdb.HGetAll(rctx, r.wantsKey).Result()
	if err != nil {
		return
	}
	remote := Subs{}
	for id, v := range all {
		var w wantRecord
		if json.Unmarshal([]byte(v), &w) != nil || w.Expires < now.UnixMilli() {
			r.rdb.HDel(rctx, r.wantsKey, id)
			continue
		}
		if id == r.id {
			continue
		}
		for c, syms := range w.Subs {
			remote.Add(c, syms...)
		}
	}
	r.fh.reg.setRemote(remote)
}

// sortedSet returns the members of s, sorted.
func sortedSet(s set) []string {
	out := make([]string, 0, len(s))
	for x := range s {
		out = append(out, x)
	}
	slices.Sort(out)
	return out
}
