package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// ny returns an instant in New York time.
func ny(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, market.NewYork)
}

// countRecorder counts every event by "layer/result/type" and coalesced.
type countRecorder struct {
	mu sync.Mutex
	m  map[string]int
}

func (r *countRecorder) CacheResult(layer Layer, result metrics.Result, dt metrics.DataType) {
	r.add(layer.String() + "/" + result.String() + "/" + dt.String())
}

func (r *countRecorder) Coalesced(dt metrics.DataType) { r.add("coalesced//" + dt.String()) }

func (r *countRecorder) add(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]int{}
	}
	r.m[k]++
}

func (r *countRecorder) get(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[k]
}

// origin is a fake fetch function: it answers every id except those in
// missing, with data naming the id and a per-origin sequence number, and
// counts calls.
type origin struct {
	calls   atomic.Int64
	ids     atomic.Int64
	seq     atomic.Int64
	delay   time.Duration
	gate    chan struct{} // when set, each call waits for it
	missing map[string]bool
	err     error
	source  string
}

func (o *origin) fetch(ctx context.Context, ids []string) (map[string]Item, error) {
	o.calls.Add(1)
	o.ids.Add(int64(len(ids)))
	if o.gate != nil {
		select {
		case <-o.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if o.delay > 0 {
		select {
		case <-time.After(o.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if o.err != nil {
		return nil, o.err
	}
	src := o.source
	if src == "" {
		src = "alpaca/iex"
	}
	out := make(map[string]Item, len(ids))
	for _, id := range ids {
		if o.missing[id] {
			continue
		}
		data, _ := json.Marshal(map[string]any{"id": id, "n": o.seq.Add(1)})
		out[id] = Item{Data: data, Source: src}
	}
	return out, nil
}

func key(i int) string { return fmt.Sprintf("SYM%d", i) }
