package budget

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// TakeLua defines the Lua function budget_take(key, burst, rate, period),
// for a caller that takes a slot inside a Redis script of its own (so that
// the take costs no round trip of its own). It runs the same GCRA as Wait
// on the same stored value (redis_rate's), for one request, and returns
// allowed (1 or 0), retry_after and reset_after (seconds, as strings).
// Its arguments are those of [Limiter.Slot]; the caller passes key in KEYS.
const TakeLua = `
local function budget_take(key, burst, rate, period)
  local emission_interval = period / rate
  local burst_offset = emission_interval * burst
  local t = redis.call("TIME")
  local now = (t[1] - 1483228800) + (t[2] / 1000000)
  local tat = redis.call("GET", key)
  if not tat then tat = now else tat = tonumber(tat) end
  tat = math.max(tat, now)
  local new_tat = tat + emission_interval
  local diff = now - (new_tat - burst_offset)
  if diff < 0 then
    return 0, tostring(-diff), tostring(tat - now)
  end
  local reset_after = new_tat - now
  if reset_after > 0 then
    redis.call("SET", key, new_tat, "EX", math.ceil(reset_after))
  end
  return 1, "-1", tostring(reset_after)
end
`

// Slot is what a script needs to take one slot of a Limiter's budget with
// budget_take (TakeLua): Key goes in KEYS, the rest in ARGV.
type Slot struct {
	Key    string
	Burst  int
	Rate   int
	Period float64 // seconds
}

// Slot returns the arguments of budget_take for l's budget, for a script run
// on rdb, and false unless l keeps its budget in rdb (the same client): a
// budget kept in this process only (Local), or in another server, has no
// slot there.
func (l *Limiter) Slot(rdb redis.UniversalClient) (Slot, bool) {
	if l.core.rl == nil || rdb == nil || l.core.rdb != rdb {
		return Slot{}, false
	}
	return Slot{Key: "rate:" + l.core.key, Burst: l.limit.Burst, Rate: l.limit.Rate, Period: l.limit.Period.Seconds()}, true
}

// prepaid is one slot a script took, not yet used by Wait.
type prepaid struct {
	core  *core
	limit redis_rate.Limit
	used  atomic.Bool
}

type prepaidKey struct{}

// Taken records the outcome of a budget_take run on l's Slot: Redis
// answered, so l leaves any fallback, and Remaining is updated as Wait
// would. When the slot was allowed, it returns ctx carrying it: the first
// Wait on ctx by a view of the same budget with the same limit (l itself,
// in practice) uses it instead of asking Redis; later Waits ask as usual.
// So a slot is never used twice, and the budget is never exceeded.
func (l *Limiter) Taken(ctx context.Context, allowed bool, resetAfter time.Duration) context.Context {
	c := l.core
	c.up()
	used := float64(resetAfter)/float64(c.period) - 1e-6
	c.remaining.Store(int64(max(0, math.Floor(float64(c.burst)-used))))
	if !allowed {
		return ctx
	}
	return context.WithValue(ctx, prepaidKey{}, &prepaid{core: c, limit: l.limit})
}

// usePrepaid reports whether ctx carries an unused slot of l's budget and
// limit, and marks it used.
func (l *Limiter) usePrepaid(ctx context.Context) bool {
	p, ok := ctx.Value(prepaidKey{}).(*prepaid)
	return ok && p.core == l.core && p.limit == l.limit && p.used.CompareAndSwap(false, true)
}
