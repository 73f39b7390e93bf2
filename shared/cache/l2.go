package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/opitios/opitios-alpaca/shared/budget"
	"github.com/opitios/opitios-alpaca/shared/config"
)

// ErrL2Unavailable is returned by L2 operations while the circuit breaker is
// open: Redis failed repeatedly and is not being asked until the breaker
// half-opens.
var ErrL2Unavailable = errors.New("cache: L2 unavailable")

// L2Options tune the Redis layer.
type L2Options struct {
	Timeout      time.Duration // per operation, default 50 ms
	FailuresTrip uint32        // consecutive failures that open the breaker, default 5
	OpenFor      time.Duration // how long the breaker stays open before a probe, default 1 s
}

// l2 is the shared layer over a go-redis client. Batch operations take one
// round trip on a standalone server and one per node (in parallel) on a
// cluster, and never cause a CROSSSLOT error: writes and cluster reads are
// pipelines of single-key commands.
type l2 struct {
	rdb     redis.UniversalClient
	timeout time.Duration
	cb      *gobreaker.CircuitBreaker[struct{}]
	budget  *budget.Limiter // nil: lock steps take no budget slot
	slot    budget.Slot     // budget's slot, when budget is set
}

func newL2(rdb redis.UniversalClient, o L2Options, onStateChange func(from, to gobreaker.State)) *l2 {
	if o.Timeout <= 0 {
		o.Timeout = config.DefaultRedisTimeout
	}
	if o.FailuresTrip == 0 {
		o.FailuresTrip = 5
	}
	if o.OpenFor <= 0 {
		o.OpenFor = time.Second
	}
	st := gobreaker.Settings{
		Name:        "l2",
		MaxRequests: 1,
		Timeout:     o.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= o.FailuresTrip },
		// A reply from Redis (redis.Nil, OOM, WRONGTYPE…) shows the server is
		// there: only transport failures and timeouts count against it.
		IsSuccessful: func(err error) bool { return err == nil || isReply(err) },
		IsExcluded:   func(err error) bool { return errors.Is(err, context.Canceled) },
	}
	if onStateChange != nil {
		st.OnStateChange = func(_ string, from, to gobreaker.State) { onStateChange(from, to) }
	}
	return &l2{rdb: rdb, timeout: o.Timeout, cb: gobreaker.NewCircuitBreaker[struct{}](st)}
}

// isReply reports whether err is an error reply from Redis.
func isReply(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

// do runs f under the breaker with the layer's timeout.
func (l *l2) do(ctx context.Context, f func(ctx context.Context) error) error {
	_, err := l.cb.Execute(func() (struct{}, error) {
		ctx, cancel := context.WithTimeout(ctx, l.timeout)
		defer cancel()
		return struct{}{}, f(ctx)
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return ErrL2Unavailable
	}
	return err
}

// get returns the value under key, or nil when there is none.
func (l *l2) get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := l.do(ctx, func(ctx context.Context) error {
		s, err := l.rdb.Get(ctx, key).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		v = replyBytes(s)
		return err
	})
	return v, err
}

// getMany returns the values under keys (nil where there is none) in one
// round trip: MGET on a standalone server, a pipeline of GETs on a cluster
// (one round trip per node, in parallel).
func (l *l2) getMany(ctx context.Context, keys []string) ([][]byte, error) {
	if len(keys) == 1 {
		v, err := l.get(ctx, keys[0])
		return [][]byte{v}, err
	}
	out := make([][]byte, len(keys))
	if c, ok := l.rdb.(*redis.Client); ok {
		// Standalone: one MGET, cheaper than a pipeline of GETs on both ends.
		// (A cluster would refuse MGET across slots: it gets the pipeline.)
		err := l.do(ctx, func(ctx context.Context) error {
			vals, err := c.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			for i, v := range vals {
				if s, ok := v.(string); ok {
					out[i] = replyBytes(s)
				}
			}
			return nil
		})
		return out, err
	}
	err := l.do(ctx, func(ctx context.Context) error {
		cmds := make([]*redis.StringCmd, len(keys))
		_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Get(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, c := range cmds {
			if b, err := c.Bytes(); err == nil {
				out[i] = b
			}
		}
		return nil
	})
	return out, err
}

// replyBytes returns the bytes of a string go-redis read for one reply,
// without copying them. The string is the reply's own (go-redis allocates
// it for the reply and keeps no reference once the command is done), so no
// one else ever sees it: the bytes are the value's only copy, as a copy
// would be, and readers of an Entry's Data never write to it anyway.
func replyBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// kv is one write.
type kv struct {
	key string
	val []byte
	ttl time.Duration
}

// setMany writes every value with its expiry (SET … EX) and then releases
// the locks of unlock held with token, in one pipeline: the values are
// written before the locks go, so an instance that takes a lock next finds
// the value. The error is that of the writes; a lock that was no longer
// held is not one.
func (l *l2) setMany(ctx context.Context, items []kv, unlock []string, token string) error {
	return l.do(ctx, func(ctx context.Context) error {
		sets := make([]*redis.StatusCmd, len(items))
		_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, it := range items {
				sets[i] = p.Set(ctx, it.key, it.val, it.ttl)
			}
			for _, k := range unlock {
				unlockScript.Eval(ctx, p, []string{lockKey(k)}, token)
			}
			return nil
		})
		for _, c := range sets {
			if c.Err() != nil {
				return c.Err()
			}
		}
		if err != nil && len(sets) == 0 {
			return err
		}
		return nil
	})
}

// del deletes keys, one command per key so cluster slots never clash.
func (l *l2) del(ctx context.Context, keys ...string) error {
	return l.do(ctx, func(ctx context.Context) error {
		_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		})
		return err
	})
}

// lockStep is one round of cross-instance coalescing for keys: it tries to
// take each key's lock with token, then reads each value. For each key it
// returns the value (nil if none) and whether this caller now holds the lock.
// The read comes after the lock within one round trip, so when the lock is
// taken, the value the previous holder stored before releasing it is seen.
//
// With a budget on a standalone server, the round trip is one script that
// also takes a slot of the budget when this caller took a lock whose value
// is missing (so it is about to fetch): the fetch then costs no budget round
// trip (see take). On a cluster, where the budget's key and the locks live in
// different slots, it is a pipeline and the budget is asked apart.
func (l *l2) lockStep(ctx context.Context, keys []string, token string, lockTTL time.Duration) ([][]byte, []bool, take, error) {
	vals := make([][]byte, len(keys))
	held := make([]bool, len(keys))
	var tk take
	err := l.do(ctx, func(ctx context.Context) error {
		if c, ok := l.rdb.(*redis.Client); ok && l.budget != nil {
			var err error
			tk, err = l.lockAndTake(ctx, c, keys, token, lockTTL, vals, held)
			return err
		}
		return l.lockPipeline(ctx, keys, token, lockTTL, vals, held)
	})
	if err != nil {
		return nil, nil, take{}, err
	}
	return vals, held, tk, nil
}

// lockPipeline is lockStep as a pipeline of SET NX and GET per key.
func (l *l2) lockPipeline(ctx context.Context, keys []string, token string, lockTTL time.Duration, vals [][]byte, held []bool) error {
	gets := make([]*redis.StringCmd, len(keys))
	locks := make([]*redis.BoolCmd, len(keys))
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			locks[i] = p.SetNX(ctx, lockKey(k), token, lockTTL)
			gets[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	for i := range keys {
		// A refused SET NX (OOM, READONLY…) is not "held elsewhere":
		// waiting on it would wait for nobody.
		if err := locks[i].Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if b, err := gets[i].Bytes(); err == nil {
			vals[i] = b
		}
		held[i] = locks[i].Val()
	}
	return nil
}

// take is the outcome of the budget take of a lock step.
type take struct {
	asked      bool          // a slot was asked for
	allowed    bool          // and granted
	resetAfter time.Duration // the GCRA's answer, for budget.Limiter.Taken
}

// lockTakeScript is lockStep's pipeline as one script, plus the budget's
// take when a lock was taken on a missing value. KEYS are the budget's key,
// then each value's key and its lock's key; ARGV the token, the lock's
// lifetime and the GCRA's burst, rate and period. It returns, per key, 1 or
// 0 (lock taken) and the value, then the take (-1 not asked, 0 refused, 1
// allowed) and its reset_after.
var lockTakeScript = redis.NewScript(budget.TakeLua + `
-- budget_take reads TIME: replicate the script's effects, not the script
-- (the default from Redis 5 on, a no-op from 7 on).
if redis.replicate_commands then redis.replicate_commands() end
local out, need = {}, false
local n = (#KEYS - 1) / 2
for i = 1, n do
  local held = redis.call("SET", KEYS[2*i+1], ARGV[1], "NX", "PX", ARGV[2])
  local val = redis.call("GET", KEYS[2*i])
  out[2*i-1] = held and 1 or 0
  out[2*i] = val
  if held and not val then need = true end
end
local ok, reset = -1, "0"
if need then
  local _
  ok, _, reset = budget_take(KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
end
out[2*n+1] = ok
out[2*n+2] = reset
return out
`)

// lockAndTake runs lockTakeScript for keys.
func (l *l2) lockAndTake(ctx context.Context, c *redis.Client, keys []string, token string, lockTTL time.Duration, vals [][]byte, held []bool) (take, error) {
	ks := make([]string, 0, 1+2*len(keys))
	ks = append(ks, l.slot.Key)
	for _, k := range keys {
		ks = append(ks, k, lockKey(k))
	}
	reply, err := lockTakeScript.Run(ctx, c, ks, token, lockTTL.Milliseconds(), l.slot.Burst, l.slot.Rate, l.slot.Period).Slice()
	if err != nil {
		return take{}, err
	}
	n := len(keys)
	if len(reply) != 2*n+2 {
		return take{}, fmt.Errorf("cache: lock script: %d values for %d keys", len(reply), n)
	}
	for i := range keys {
		held[i] = reply[2*i] == int64(1)
		if s, ok := reply[2*i+1].(string); ok {
			vals[i] = []byte(s)
		}
	}
	ok, _ := reply[2*n].(int64)
	secs, _ := reply[2*n+1].(string)
	reset, _ := strconv.ParseFloat(secs, 64)
	return take{asked: ok >= 0, allowed: ok == 1, resetAfter: time.Duration(reset * float64(time.Second))}, nil
}

// unlockScript deletes a lock only if it still holds the caller's token, so a
// slow owner never releases a lock another instance has since taken.
var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// unlock releases the locks of keys held with token.
func (l *l2) unlock(ctx context.Context, keys []string, token string) error {
	return l.do(ctx, func(ctx context.Context) error {
		_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				unlockScript.Eval(ctx, p, []string{lockKey(k)}, token)
			}
			return nil
		})
		return err
	})
}

// renewScript extends a lock's expiry only if it still holds the caller's
// token.
var renewScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)

// renew extends the locks of keys held with token to lockTTL from now.
func (l *l2) renew(ctx context.Context, keys []string, token string, lockTTL time.Duration) error {
	return l.do(ctx, func(ctx context.Context) error {
		_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				renewScript.Eval(ctx, p, []string{lockKey(k)}, token, lockTTL.Milliseconds())
			}
			return nil
		})
		return err
	})
}

// keepLocked renews the locks of keys held with token every lockTTL/3 until
// the returned stop is called or ctx ends, so a lock outlives a fetch of
// any length while its holder is alive, and expires one lockTTL after the
// holder dies. stop returns once renewing has stopped.
func (l *l2) keepLocked(ctx context.Context, keys []string, token string, lockTTL time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(lockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = l.renew(ctx, keys, token, lockTTL)
			}
		}
	}()
	return func() {
		cancel()
		<-stopped
	}
}
