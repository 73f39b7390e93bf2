// Package budget keeps the fleet-wide origin budget: the one allowance of
// origin requests per minute (Alpaca's per-account rate limit) that every
// instance of every function shares, kept in Redis with GCRA
// (github.com/go-redis/redis_rate).
//
// A Limiter admits at most perMinute requests in any 60-second window, fleet
// wide: it runs GCRA with a burst of B requests and a sustained rate of
// perMinute−B per minute, and GCRA admits at most B + L·rate requests in any
// interval of length L. (Alpaca's own window is a minute too, so this keeps
// the fleet under it rather than relying on 429s.) From an idle state, B
// requests are admitted at once and one more every 60s/(perMinute−B) after.
//
// When Redis cannot be reached, each instance falls back to a limiter of its
// own (golang.org/x/time/rate) with its share of the budget: the budget
// divided by the most instances that can run at once (Options.Instances, the
// functions' reserved concurrency), shaped by FallbackShape so that the
// fleet together stays within the budget. The origin is never called
// without a limit; Redis is probed again at most once a second and used as
// soon as it answers.
//
// A caller that already makes a Redis round trip just before its origin
// call (the cache's lock step) can take the slot in that round trip instead:
// it runs TakeLua's budget_take with [Limiter.Slot]'s arguments inside its
// own script, and passes [Limiter.Taken]'s context to the origin client,
// whose Wait then uses the slot without asking Redis. The GCRA and its key
// are the same, so the budget holds whoever takes the slots.
package budget

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// DefaultKey is the budget's key. redis_rate stores it as "rate:" + key.
const DefaultKey = config.KeyPrefix + "budget:origin"

const (
	// probeInterval is how often an instance in fallback tries Redis again.
	probeInterval = time.Second
)

// ErrExhausted is matched (errors.Is) by every *ExhaustedError.
var ErrExhausted = errors.New("budget: origin budget exhausted")

// ExhaustedError reports that no request slot frees up before the caller's
// deadline. RetryAfter (> 0) is how long until the next slot would be
// admitted, for a Retry-After header.
type ExhaustedError struct {
	RetryAfter time.Duration
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("%s (retry after %s)", ErrExhausted.Error(), e.RetryAfter)
}

// Is makes errors.Is(err, ErrExhausted) true.
func (e *ExhaustedError) Is(target error) bool { return target == ErrExhausted }

// Options configures New. The zero value of each field means its default.
type Options struct {
	// PerMinute is the budget: origin requests per minute. It must be
	// positive.
	PerMinute int

	// Key is the Redis key (default DefaultKey).
	Key string

	// Burst is B, the requests admitted at once from idle (default
	// PerMinute/10, at least 1). It is clamped to [1, PerMinute−1] so that
	// the sustained rate PerMinute−B stays positive.
	Burst int

	// Clock is the clock used for deadlines and the fallback limiter
	// (default market.SystemClock). GCRA in Redis uses the server's own
	// clock.
	Clock market.Clock

	// Instances is the most instances that can share the budget at once
	// (default config.DefaultOriginInstances; values below 1 count as 1).
	// While Redis is unreachable each instance's share is PerMinute/n,
	// shaped as FallbackShape says.
	Instances int

	// FallbackPerMinute sets the per-instance share used while Redis is
	// unreachable directly, instead of PerMinute divided by the instances
	// (for a single process, the whole budget). It is shaped as
	// FallbackShape says.
	FallbackPerMinute int

	// Logger is the logger for outage and recovery lines (default
	// slog.Default()).
	Logger *slog.Logger

	// RedisTimeout bounds each Redis call (default
	// config.DefaultRedisTimeout); a call that takes longer counts as Redis
	// being unreachable. It takes effect when the client honours context
	// deadlines (redis.Options.ContextTimeoutEnabled, as the cache
	// package's clients do).
	RedisTimeout time.Duration
}

// withDefaults returns o with each zero field set to its default.
func (o Options) withDefaults() Options {
	if o.Key == "" {
		o.Key = DefaultKey
	}
	if o.Clock == nil {
		o.Clock = market.SystemClock
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.RedisTimeout == 0 {
		o.RedisTimeout = config.DefaultRedisTimeout
	}
	if o.Instances == 0 {
		o.Instances = config.DefaultOriginInstances
	}
	return o
}

// Limiter is a view of the origin budget. Views made by WithShare share the
// budget, the fallback and the outage state of the Limiter they came from.
// It is safe for concurrent use and implements alpaca.Limiter.
type Limiter struct {
	core      *core
	limit     redis_rate.Limit // the view's GCRA: the budget's rate, the view's burst
	fbReserve int              // fallback tokens this view must leave to others
}

// core is what every view of one budget shares.
type core struct {
	rl      *redis_rate.Limiter
	rdb     redis.UniversalClient // where rl keeps the budget
	key     string
	burst   int           // B
	period  time.Duration // emission interval of the Redis GCRA
	clock   market.Clock
	log     *slog.Logger
	timeout time.Duration

	remaining atomic.Int64

	mu        sync.Mutex // guards what follows
	down      bool
	nextProbe time.Time
	fallback  *rate.Limiter
	fbShare   float64 // the instance's share of the budget, requests per minute
}

// burstAndRate splits perMinute into a GCRA burst and rate per minute whose
// sum is perMinute (for perMinute 1: burst 1, rate 1).
func burstAndRate(perMinute, burst int) (int, int) {
	if burst <= 0 {
		burst = perMinute / 10
	}
	burst = max(1, min(burst, perMinute-1))
	return burst, max(1, perMinute-burst)
}

// FallbackShape returns the burst and the sustained rate (requests per
// minute) of the per-instance limiter used while Redis is unreachable, when
// instances share a budget of perMinute requests per minute.
//
// An instance's share is f = perMinute/instances. The burst is
// max(1, ⌊f/10⌋); the rate is f − burst when f exceeds the burst, else f.
// A token bucket admits at most burst + rate·L requests in any interval of
// length L, so:
//   - the fleet's sustained rate, instances × rate, never exceeds perMinute;
//   - when f > 1, burst + rate = f: the whole fleet, every instance in
//     fallback at once, stays within perMinute in every 60-second window;
//   - when f ≤ 1 (more instances than requests a minute) no per-instance
//     limit can promise that, since each instance must be allowed a first
//     call: the excess is that one call per instance, after which the fleet
//     runs at the budget's rate.
func FallbackShape(perMinute, instances int) (burst int, ratePerMin float64) {
	return fallbackShape(float64(perMinute) / float64(max(1, instances)))
}

func fallbackShape(share float64) (int, float64) {
	burst := max(1, int(math.Floor(share/10)))
	if share > float64(burst) {
		return burst, share - float64(burst)
	}
	return burst, share
}

// New returns the budget of o.PerMinute origin requests per minute kept in
// rdb (a *redis.Client or *redis.ClusterClient). o.PerMinute must be
// positive.
func New(rdb redis.UniversalClient, o Options) *Limiter {
	perMinute := o.PerMinute
	if perMinute <= 0 {
		panic("budget: perMinute must be positive")
	}
	o = o.withDefaults()
	share := float64(perMinute) / float64(max(1, o.Instances))
	if o.FallbackPerMinute > 0 {
		share = float64(o.FallbackPerMinute)
	}
	burst, perMin := burstAndRate(perMinute, o.Burst)
	fbBurst, fbPerMin := fallbackShape(share)
	c := &core{
		rl:       redis_rate.NewLimiter(rdb),
		rdb:      rdb,
		key:      o.Key,
		burst:    burst,
		period:   time.Minute / time.Duration(perMin),
		clock:    o.Clock,
		log:      o.Logger,
		timeout:  o.RedisTimeout,
		fallback: rate.NewLimiter(rate.Limit(fbPerMin/60), fbBurst),
		fbShare:  share,
	}
	c.remaining.Store(int64(burst))
	return &Limiter{
		core:  c,
		limit: redis_rate.Limit{Rate: perMin, Burst: burst, Period: time.Minute},
	}
}

// Local returns a budget of o.PerMinute requests per minute kept in this
// process only, for a service running without Redis (a single local
// process): the same GCRA split of burst and rate as New, never unlimited.
// o.FallbackPerMinute is ignored: the process has the whole budget.
func Local(o Options) *Limiter {
	o.FallbackPerMinute = o.PerMinute
	l := New(nil, o)
	l.core.rl = nil
	return l
}

// WithShare returns a view of the same budget for traffic that must leave
// head-room to the rest (prefetch, so live requests keep theirs). share is
// a fraction of the whole budget whatever view it is called on, clamped to
// [0, 1].
//
// The exact rule: the view runs the same GCRA on the same key with burst
// B' = max(1, ⌊share·B⌋), so it is admitted only while, after admitting it,
// at least B − B' slots of the burst stay free for the other views; it
// refuses (waits or returns *ExhaustedError) otherwise. The share limits the
// slots the view may hold at once, not its sustained rate: a view alone may
// still use the whole rate, but never the last B − B' slots. In fallback the
// same rule applies to the per-instance limiter's tokens.
func (l *Limiter) WithShare(share float64) *Limiter {
	if !(share > 0) {
		share = 0
	}
	share = min(share, 1)
	v := *l
	v.limit.Burst = max(1, int(math.Floor(share*float64(l.core.burst))))
	fb := l.core.fallback.Burst()
	v.fbReserve = fb - max(1, int(math.Floor(share*float64(fb))))
	return &v
}

// Fallback returns the burst and the sustained rate (requests per minute)
// of this instance's limiter for when Redis is unreachable (FallbackShape).
func (l *Limiter) Fallback() (burst int, ratePerMin float64) {
	return l.core.fallback.Burst(), float64(l.core.fallback.Limit()) * 60
}

// Remaining returns the requests the budget could admit at once, as last
// seen (by any view): from Redis, B minus the burst slots in use; in
// fallback, the per-instance limiter's whole tokens. Before the first call
// it is B.
func (l *Limiter) Remaining() int { return int(l.core.remaining.Load()) }

// Wait takes one request slot. If none is free it sleeps until one should
// be, provided that instant comes before ctx's deadline (always, without a
// deadline), and tries again; otherwise it returns an *ExhaustedError at
// once. It returns ctx.Err() if ctx is cancelled or its deadline passes
// before a slot was refused, and an *ExhaustedError if the deadline passes
// after Wait has had to wait for one. Redis failures are not returned: the
// per-instance fallback decides instead. A slot ctx carries (Taken) is used
// first, without asking Redis.
func (l *Limiter) Wait(ctx context.Context) error {
	if l.usePrepaid(ctx) {
		return nil
	}
	var waited time.Duration // the last wait, once Wait has slept
	for {
		ok, retryAfter, err := l.try(ctx)
		if err != nil {
			if waited > 0 && errors.Is(err, context.DeadlineExceeded) {
				return &ExhaustedError{RetryAfter: waited}
			}
			return err
		}
		if ok {
			return nil
		}
		retryAfter = max(retryAfter, time.Millisecond)
		if deadline, has := ctx.Deadline(); has && !l.core.clock.Now().Add(retryAfter).Before(deadline) {
			return &ExhaustedError{RetryAfter: retryAfter}
		}
		if err := market.Sleep(ctx, retryAfter); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return &ExhaustedError{RetryAfter: retryAfter}
			}
			return err
		}
		waited = retryAfter
	}
}

// try asks Redis (or, during an outage, the fallback) for one slot.
func (l *Limiter) try(ctx context.Context) (bool, time.Duration, error) {
	c := l.core
	if c.redisDue() {
		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		res, err := c.rl.Allow(rctx, c.key, l.limit)
		cancel()
		if err == nil {
			c.up()
			// Slots in use: how far the GCRA's theoretical arrival time is
			// ahead of now, in emission intervals (less a rounding hair:
			// redis_rate passes it through a decimal string).
			used := float64(res.ResetAfter)/float64(c.period) - 1e-6
			c.remaining.Store(int64(max(0, math.Floor(float64(c.burst)-used))))
			return res.Allowed > 0, res.RetryAfter, nil
		}
		if ctx.Err() != nil {
			return false, 0, ctx.Err()
		}
		c.markDown(err)
	}
	ok, d := c.fallbackTry(l.fbReserve)
	return ok, d, nil
}

// redisDue reports whether this call should use Redis: always when it is
// up; during an outage, for one call per probeInterval.
func (c *core) redisDue() bool {
	if c.rl == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.down {
		return true
	}
	now := c.clock.Now()
	if now.Before(c.nextProbe) {
		return false
	}
	c.nextProbe = now.Add(probeInterval)
	return true
}

func (c *core) up() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		c.down = false
		c.log.Info("origin budget: redis answers again; using the fleet-wide budget", "key", c.key)
	}
}

func (c *core) markDown(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextProbe = c.clock.Now().Add(probeInterval)
	if !c.down {
		c.down = true
		c.log.Warn("origin budget: redis unreachable; using the per-instance fallback limit",
			"key", c.key, "fallback_per_minute", c.fbShare, "error", err.Error())
	}
}

// fallbackTry takes a token from the per-instance limiter if, after taking
// it, reserve tokens are left; otherwise it returns how long until that is
// so.
func (c *core) fallbackTry(reserve int) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	tokens := c.fallback.TokensAt(now)
	need := float64(1 + reserve)
	if tokens >= need && c.fallback.AllowN(now, 1) {
		c.remaining.Store(int64(math.Floor(tokens - 1)))
		return true, 0
	}
	c.remaining.Store(int64(max(0, math.Floor(tokens))))
	wait := (need - tokens) / float64(c.fallback.Limit())
	return false, time.Duration(math.Ceil(wait * float64(time.Second)))
}
