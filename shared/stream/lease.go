package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// Lease is a fleet-wide lease on one name, kept in Redis: at most one owner
// holds it at a time, for as long as it renews it within its TTL. It is the
// hub's guarantee that one upstream connection per feed exists across every
// hub sharing the Redis.
type Lease struct {
	rdb   redis.UniversalClient
	key   string
	owner string
	ttl   time.Duration
}

// NewLease returns a lease on name with a random owner token. ttl is the
// lifetime between renewals.
func NewLease(rdb redis.UniversalClient, name string, ttl time.Duration) *Lease {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return &Lease{rdb: rdb, key: config.KeyPrefix + "stream:lease:" + name, owner: hex.EncodeToString(b[:]), ttl: ttl}
}

// Key is the lease's Redis key.
func (l *Lease) Key() string { return l.key }

// Acquire takes the lease if nobody holds it (SET NX PX) and reports
// whether this owner now holds it.
func (l *Lease) Acquire(ctx context.Context) (bool, error) {
	return l.rdb.SetNX(ctx, l.key, l.owner, l.ttl).Result()
}

var renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// Renew extends the lease by its TTL if this owner still holds it, and
// reports whether it does.
func (l *Lease) Renew(ctx context.Context) (bool, error) {
	n, err := renewScript.Run(ctx, l.rdb, []string{l.key}, l.owner, l.ttl.Milliseconds()).Int()
	return n == 1, err
}

// Release gives the lease up if this owner holds it; another owner's lease
// is never touched.
func (l *Lease) Release(ctx context.Context) error {
	return releaseScript.Run(ctx, l.rdb, []string{l.key}, l.owner).Err()
}

// Hold runs f while holding the lease, and returns when ctx ends. It polls
// Acquire every poll until it holds the lease, then calls f with a context
// that ends when the lease is lost: a renewal (every TTL/3) that finds
// another owner, or renewals failing for longer than TTL/2 (so f stops
// well before the lease could lapse and pass to someone else). When f
// returns while the lease is held, the lease is released and Hold polls
// again. A nil Lease holds always.
func (l *Lease) Hold(ctx context.Context, poll time.Duration, onChange func(held bool), f func(ctx context.Context)) {
	for ctx.Err() == nil {
		if l == nil {
			onChange(true)
			f(ctx)
			onChange(false)
			continue
		}
		ok, err := l.Acquire(ctx)
		if err != nil || !ok {
			_ = market.Sleep(ctx, poll)
			continue
		}
		onChange(true)
		l.run(ctx, f)
		onChange(false)
	}
}

// run calls f under renewal, then releases.
func (l *Lease) run(ctx context.Context, f func(ctx context.Context)) {
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(fctx)
	}()
	l.renewUntil(fctx, cancel, done)
	cancel()
	<-done
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer rcancel()
	_ = l.Release(rctx)
}

// renewUntil renews every TTL/3 until f is done or ctx ends, and cancels
// when the lease is lost.
func (l *Lease) renewUntil(ctx context.Context, cancel context.CancelFunc, done <-chan struct{}) {
	every := max(l.ttl/3, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	failingSince := time.Duration(0)
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, rcancel := context.WithTimeout(ctx, every)
		ok, err := l.Renew(rctx)
		rcancel()
		switch {
		case err == nil && !ok:
			cancel()
			return
		case err != nil:
			if failingSince += every; failingSince >= l.ttl/2 {
				cancel()
				return
			}
		default:
			failingSince = 0
		}
	}
}
