// Package hitrate keeps the per-minute hit and miss windows of each data
// type in Redis: the API tallies them (WindowFeed) and the prefetch
// optimizer reads the recent ones (Windows.Recent) to tune the hot set.
package hitrate

import (
	"context"
	"errors"
	"fmt"
	"github.com/opitios/opitios-alpaca/shared/market"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// Window keys and their lifetime.
const (
	// WindowKeyPrefix begins every window key: the full key is
	// "opitios:v2:stats:<data type>:<Unix minute>", one hash per data type and
	// minute (so in cluster mode each minute is its own key, in its own slot).
	WindowKeyPrefix = config.KeyPrefix + "stats:"
	// WindowTTL is how long a window is kept after its last update.
	WindowTTL = 2 * time.Hour
	// MaxWindowMinutes is the most minutes Recent reads: older windows have
	// expired.
	MaxWindowMinutes = int(WindowTTL / time.Minute)
	// DefaultWindowTimeout bounds one Record when NewWindows is given none.
	DefaultWindowTimeout = 25 * time.Millisecond
)

// Fields of a window hash.
const (
	fieldHits      = "hits"
	fieldMisses    = "misses"
	fieldCount     = "count"
	fieldLatencyMs = "latency_ms"
)

// Errors of Windows.
var (
	// ErrInvalidDataType: a data type must be 1–64 bytes of [a-z0-9_], as it
	// becomes part of a Redis key.
	ErrInvalidDataType = errors.New("metrics: invalid data type for a window key")
	// ErrCorruptWindow: a window hash holds a field that is not a number.
	ErrCorruptWindow = errors.New("metrics: corrupt window in Redis")
)

// Windows keeps per-minute hit and latency tallies per data type in Redis,
// shared by the fleet, for the TTL optimizer to read. Each minute of each
// data type is one hash with fields hits, misses, count and latency_ms,
// expiring WindowTTL after its last update.
//
// Windows is safe for concurrent use.
type Windows struct {
	client   redis.UniversalClient
	timeout  time.Duration
	clock    market.Clock
	failures atomic.Int64
}

// WindowsOptions configures NewWindows. The zero value of each field means
// its default.
type WindowsOptions struct {
	// Timeout bounds each Record call (default DefaultWindowTimeout; values
	// below 1 mean the default).
	Timeout time.Duration

	// Clock is the clock Record reads its minute from (default
	// market.SystemClock).
	Clock market.Clock
}

// NewWindows returns Windows over client, a *redis.Client or a
// *redis.ClusterClient.
func NewWindows(client redis.UniversalClient, o WindowsOptions) *Windows {
	w := &Windows{client: client, timeout: DefaultWindowTimeout, clock: o.Clock}
	if o.Timeout > 0 {
		w.timeout = o.Timeout
	}
	if w.clock == nil {
		w.clock = market.SystemClock
	}
	return w
}

// Record adds hits, misses, count and latencySumMs to dataType's window for
// the current minute and renews its expiry, in one pipelined round trip
// bounded by the Windows' timeout (and ctx). The caller serves its request
// whatever happens here: on failure Record counts it (Failures) and returns
// the error, which the caller may ignore.
func (w *Windows) Record(ctx context.Context, dataType string, hits, misses int, latencySumMs float64, count int) error {
	if !validDataType(dataType) {
		w.failures.Add(1)
		return ErrInvalidDataType
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	key := windowKey(dataType, w.clock.Now().Unix()/60)
	_, err := w.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, key, fieldHits, int64(hits))
		p.HIncrBy(ctx, key, fieldMisses, int64(misses))
		p.HIncrBy(ctx, key, fieldCount, int64(count))
		p.HIncrByFloat(ctx, key, fieldLatencyMs, latencySumMs)
		p.Expire(ctx, key, WindowTTL)
		return nil
	})
	if err != nil {
		w.failures.Add(1)
		return fmt.Errorf("metrics: record window %s: %w", key, err)
	}
	return nil
}

// Failures returns how many Record calls have failed.
func (w *Windows) Failures() int64 { return w.failures.Load() }

// Window is one minute's tallies for one data type.
type Window struct {
	Minute       time.Time // the minute's start, UTC
	Hits, Misses int64
	Count        int64 // requests whose latency is in LatencySumMs
	LatencySumMs float64
}

// HitRate returns Hits / (Hits + Misses), or 0 when both are 0.
func (w Window) HitRate() float64 {
	if w.Hits+w.Misses == 0 {
		return 0
	}
	return float64(w.Hits) / float64(w.Hits+w.Misses)
}

// MeanLatency returns LatencySumMs / Count as a duration, or 0 when Count
// is 0.
func (w Window) MeanLatency() time.Duration {
	if w.Count == 0 {
		return 0
	}
	return time.Duration(w.LatencySumMs / float64(w.Count) * float64(time.Millisecond))
}

// Recent returns dataType's windows for the given number of minutes up to
// and including the one holding now (at most MaxWindowMinutes), oldest
// first, read in one pipelined round trip. Minutes with no window are left
// out, so the result may be shorter than minutes, or empty.
func (w *Windows) Recent(ctx context.Context, dataType string, minutes int, now time.Time) ([]Window, error) {
	if !validDataType(dataType) {
		return nil, ErrInvalidDataType
	}
	minutes = min(minutes, MaxWindowMinutes)
	if minutes <= 0 {
		return nil, nil
	}
	last := now.Unix() / 60
	cmds := make([]*redis.SliceCmd, minutes)
	_, err := w.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			m := last - int64(minutes-1-i)
			cmds[i] = p.HMGet(ctx, windowKey(dataType, m), fieldHits, fieldMisses, fieldCount, fieldLatencyMs)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("metrics: read windows of %s: %w", dataType, err)
	}
	var out []Window
	for i, c := range cmds {
		vals := c.Val()
		if vals[0] == nil && vals[1] == nil && vals[2] == nil && vals[3] == nil {
			continue
		}
		m := last - int64(minutes-1-i)
		win := Window{Minute: time.Unix(m*60, 0).UTC()}
		var err error
		if win.Hits, err = intField(vals[0]); err == nil {
			if win.Misses, err = intField(vals[1]); err == nil {
				if win.Count, err = intField(vals[2]); err == nil {
					win.LatencySumMs, err = floatField(vals[3])
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorruptWindow, windowKey(dataType, m), err)
		}
		out = append(out, win)
	}
	return out, nil
}

func windowKey(dataType string, minute int64) string {
	b := make([]byte, 0, len(WindowKeyPrefix)+len(dataType)+12)
	b = append(b, WindowKeyPrefix...)
	b = append(b, dataType...)
	b = append(b, ':')
	return string(strconv.AppendInt(b, minute, 10))
}

func validDataType(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// intField parses a HMGET value; a missing field is 0.
func intField(v any) (int64, error) {
	if v == nil {
		return 0, nil
	}
	s, _ := v.(string)
	return strconv.ParseInt(s, 10, 64)
}

func floatField(v any) (float64, error) {
	if v == nil {
		return 0, nil
	}
	s, _ := v.(string)
	return strconv.ParseFloat(s, 64)
}
