package hitrate

import (
	"context"
	"errors"
	"github.com/opitios/opitios-alpaca/shared/market"
	"sync"
	"time"
)

// Defaults of WindowFeed.
const (
	// DefaultWindowFeedInterval is the least time between two background
	// flushes of a WindowFeed.
	DefaultWindowFeedInterval = time.Second
	// maxFeedDataTypes bounds the distinct data types a WindowFeed holds
	// between flushes; observations of further ones are dropped.
	maxFeedDataTypes = 16
	// feedFlushTimeout bounds one background flush.
	feedFlushTimeout = 250 * time.Millisecond
)

// WindowFeed is the API side of Windows: it adds each request's outcome to
// in-memory tallies per data type and writes them to Windows.Record at most
// once per interval, so the request path pays a mutex and a few additions,
// never a Redis round trip.
//
// Observe starts a background flush when the interval has passed since the
// last one and none is running (as hotset.Feed.Bump does). Lambda freezes an
// instance between invocations, so a background flush may be delayed until the
// next invocation, and an instance that dies loses what it had not written:
// the windows are statistics for the optimizer, best-effort by contract. A
// caller that must have everything written calls Flush.
//
// A flush that fails loses its tallies (Windows counts the failure); they are
// not retried, since part of a pipelined write may have been applied.
//
// WindowFeed is safe for concurrent use.
type WindowFeed struct {
	w        *Windows
	interval time.Duration
	clock    market.Clock

	mu       sync.Mutex
	pending  []tally
	last     time.Time     // when the last flush began
	inflight chan struct{} // closed when the running background flush ends; nil when none runs
}

// tally is one data type's counts since the last flush.
type tally struct {
	dataType     string
	hits, misses int
	count        int
	latencyMs    float64
}

// WindowFeedOptions configures NewWindowFeed. The zero value of each field
// means its default.
type WindowFeedOptions struct {
	// Interval is the least time between background flushes (default
	// DefaultWindowFeedInterval; values below 1 mean the default).
	Interval time.Duration

	// Clock is the clock the interval is measured on (default
	// market.SystemClock). The minute a tally is recorded in is Windows'
	// own clock at the time of the flush.
	Clock market.Clock
}

// NewWindowFeed returns a WindowFeed writing to w.
func NewWindowFeed(w *Windows, o WindowFeedOptions) *WindowFeed {
	f := &WindowFeed{w: w, interval: DefaultWindowFeedInterval, clock: o.Clock}
	if o.Interval > 0 {
		f.interval = o.Interval
	}
	if f.clock == nil {
		f.clock = market.SystemClock
	}
	return f
}

// Observe counts one request of dataType: a hit or a miss, served in
// latency. It never blocks on Redis. At most 16 distinct data types are held
// between flushes; observations of others are dropped until the next flush.
func (f *WindowFeed) Observe(dataType string, hit bool, latency time.Duration) {
	if f == nil {
		return
	}
	f.mu.Lock()
	t := f.tallyOf(dataType)
	if t != nil {
		if hit {
			t.hits++
		} else {
			t.misses++
		}
		t.count++
		t.latencyMs += float64(latency) / float64(time.Millisecond)
	}
	var batch []tally
	var done chan struct{}
	if f.inflight == nil && len(f.pending) > 0 {
		if now := f.clock.Now(); now.Sub(f.last) >= f.interval {
			batch, f.pending = f.pending, nil
			done = make(chan struct{})
			f.inflight, f.last = done, now
		}
	}
	f.mu.Unlock()
	if done != nil {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), feedFlushTimeout)
			_ = f.write(ctx, batch)
			cancel()
			f.mu.Lock()
			f.inflight = nil
			f.mu.Unlock()
			close(done)
		}()
	}
}

// tallyOf returns dataType's tally, adding it if there is room; nil when
// there is none. f.mu is held.
func (f *WindowFeed) tallyOf(dataType string) *tally {
	for i := range f.pending {
		if f.pending[i].dataType == dataType {
			return &f.pending[i]
		}
	}
	if len(f.pending) >= maxFeedDataTypes {
		return nil
	}
	if f.pending == nil {
		f.pending = make([]tally, 0, 4)
	}
	f.pending = append(f.pending, tally{dataType: dataType})
	return &f.pending[len(f.pending)-1]
}

// Flush waits for a background flush in progress, then writes everything
// observed before it was called, one Windows.Record per data type; no
// background flush starts while it writes. It returns ctx's error if ctx ends
// while it waits, and otherwise the Record errors, joined (an invalid data
// type is ErrInvalidDataType).
func (f *WindowFeed) Flush(ctx context.Context) error {
	var batch []tally
	var done chan struct{}
	for done == nil {
		f.mu.Lock()
		if wait := f.inflight; wait != nil {
			f.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		batch, f.pending = f.pending, nil
		done = make(chan struct{})
		f.inflight, f.last = done, f.clock.Now()
		f.mu.Unlock()
	}
	err := f.write(ctx, batch)
	f.mu.Lock()
	f.inflight = nil
	f.mu.Unlock()
	close(done)
	return err
}

func (f *WindowFeed) write(ctx context.Context, batch []tally) error {
	var errs []error
	for _, t := range batch {
		if err := f.w.Record(ctx, t.dataType, t.hits, t.misses, t.latencyMs, t.count); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
