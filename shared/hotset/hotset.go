// Package hotset keeps the fleet's "hot set": a decaying Redis sorted set of
// how often each symbol was asked for. The API bumps it (cheaply, off the
// latency path); the scheduled prefetch reads its top N and decays it.
package hotset

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// Key is the sorted set of stock-quote request counts.
const Key = config.KeyPrefix + "hot:stock_quote"

// Feed accumulates request counts in memory and writes them to Redis in one
// pipelined ZINCRBY batch at most once per interval. Counts are best-effort
// (a frozen or dying instance may lose a second's worth); nothing waits on
// the write.
type Feed struct {
	rdb      redis.UniversalClient
	interval time.Duration
	timeout  time.Duration
	clock    market.Clock

	mu       sync.Mutex
	counts   map[string]float64
	last     time.Time
	flushing bool
}

// FeedOptions configure NewFeed; the zero value is the default.
type FeedOptions struct {
	Interval time.Duration // the most often counts are written, default 1 s
	Timeout  time.Duration // bound on one write, default 200 ms
	Clock    market.Clock  // default market.SystemClock
}

// NewFeed returns a Feed writing to rdb.
func NewFeed(rdb redis.UniversalClient, o FeedOptions) *Feed {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 200 * time.Millisecond
	}
	if o.Clock == nil {
		o.Clock = market.SystemClock
	}
	return &Feed{rdb: rdb, interval: o.Interval, timeout: o.Timeout, clock: o.Clock, counts: map[string]float64{}}
}

// maxPending bounds the symbols held between flushes.
const maxPending = 10_000

// Bump counts one request for each symbol, and starts a background flush if
// the interval has passed and none is running. It never blocks on Redis.
func (f *Feed) Bump(symbols ...string) {
	if f == nil || f.rdb == nil {
		return
	}
	f.mu.Lock()
	for _, s := range symbols {
		if len(f.counts) < maxPending || f.counts[s] > 0 {
			f.counts[s]++
		}
	}
	now := f.clock.Now()
	start := !f.flushing && len(f.counts) > 0 && now.Sub(f.last) >= f.interval
	var batch map[string]float64
	if start {
		batch, f.counts = f.counts, make(map[string]float64, len(f.counts))
		f.flushing, f.last = true, now
	}
	f.mu.Unlock()
	if start {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
			defer cancel()
			_ = f.write(ctx, batch)
			f.mu.Lock()
			f.flushing = false
			f.mu.Unlock()
		}()
	}
}

// Flush writes the pending counts now.
func (f *Feed) Flush(ctx context.Context) error {
	f.mu.Lock()
	batch := f.counts
	f.counts = make(map[string]float64)
	f.last = f.clock.Now()
	f.mu.Unlock()
	return f.write(ctx, batch)
}

func (f *Feed) write(ctx context.Context, batch map[string]float64) error {
	if len(batch) == 0 {
		return nil
	}
	_, err := f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for s, n := range batch {
			p.ZIncrBy(ctx, Key, n, s)
		}
		return nil
	})
	return err
}

// Top returns the n most requested symbols, most requested first.
func Top(ctx context.Context, rdb redis.UniversalClient, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	return rdb.ZRevRange(ctx, Key, 0, int64(n-1)).Result()
}

// Decay multiplies every score by factor (0 < factor < 1), drops symbols
// whose score falls below min, and keeps at most keep symbols, so that
// yesterday's favourites fade. It is one atomic step on the server.
func Decay(ctx context.Context, rdb redis.UniversalClient, factor, min float64, keep int) error {
	if factor <= 0 || factor >= 1 || keep <= 0 {
		return errors.New("hotset: decay needs 0 < factor < 1 and keep > 0")
	}
	return decayScript.Run(ctx, rdb, []string{Key}, factor, min, keep).Err()
}

var decayScript = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
redis.call("ZUNIONSTORE", KEYS[1], 1, KEYS[1], "WEIGHTS", ARGV[1])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[2])
redis.call("ZREMRANGEBYRANK", KEYS[1], 0, -tonumber(ARGV[3]) - 1)
return redis.call("ZCARD", KEYS[1])
`)
