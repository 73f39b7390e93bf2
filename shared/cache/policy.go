package cache

import (
	"fmt"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// maxAge is the regular-session TTL of each data type, indexed as
// DataTypes.
var maxAge = [...]time.Duration{30 * time.Second, 60 * time.Second, time.Hour}

// MaxAge is the freshness service level of dt in the regular session, and
// its default TTL there: no TTL policy may let an entry live longer. It is
// zero for an unknown data type.
func MaxAge(dt DataType) time.Duration {
	if i := dt.index(); i >= 0 {
		return maxAge[i]
	}
	return 0
}

// SessionMultiplier scales a base TTL by market session:
// quotes move slowly or not at all outside the regular session.
func SessionMultiplier(s market.Session) int {
	switch s {
	case market.Regular:
		return 1
	case market.PreMarket, market.AfterHours:
		return 3
	default:
		return 10
	}
}

// MinTTL is the shortest TTL the policy gives: Redis expiries are whole
// seconds.
const MinTTL = time.Second

// Policy computes TTLs from base TTLs (the regular-session TTL of each data
// type) and the market session. The zero Policy uses the default base TTLs.
//
// Base TTLs are clamped to [MinTTL, MaxAge], so an adaptive adjustment can
// shorten a TTL but never lengthen it past the service level.
type Policy struct {
	base [3]time.Duration
}

// DefaultPolicy returns the default policy: stock quotes 30 s, option quotes
// 60 s, historical data 1 h in the regular session.
func DefaultPolicy() Policy {
	var p Policy
	for _, dt := range DataTypes {
		p.base[dt.index()] = MaxAge(dt)
	}
	return p
}

// WithBase returns a copy of p whose base TTL for dt is d, clamped to
// [MinTTL, MaxAge(dt)]. It reports whether d had to be clamped.
func (p Policy) WithBase(dt DataType, d time.Duration) (Policy, bool) {
	i := dt.index()
	if i < 0 {
		panic(fmt.Sprintf("cache: unknown data type %q", dt))
	}
	c := min(max(d, MinTTL), MaxAge(dt))
	p.base[i] = c
	return p, c != d
}

// Base returns the regular-session TTL of dt.
func (p Policy) Base(dt DataType) time.Duration {
	i := dt.index()
	if i < 0 {
		return MinTTL
	}
	if p.base[i] == 0 {
		return MaxAge(dt)
	}
	return p.base[i]
}

// TTL returns the TTL of an entry of type dt fetched in session s: the base
// TTL times the session multiplier.
func (p Policy) TTL(dt DataType, s market.Session) time.Duration {
	return p.Base(dt) * time.Duration(SessionMultiplier(s))
}

// EntryTTL returns the TTL of an entry of type dt fetched at t, in the
// session span: TTL(dt, span.Session), cut at the end of the span (the entry
// cannot be fresh past it anyway) rounded down to whole seconds, and at
// least MinTTL. So an entry's expiry never lies past the end of its session
// (but in its last second), and the time left to its expiry is the time it
// may still be served.
func (p Policy) EntryTTL(dt DataType, span market.Span, t time.Time) time.Duration {
	ttl := p.TTL(dt, span.Session)
	if left := span.End.Sub(t); left < ttl {
		ttl = left.Truncate(time.Second)
	}
	return max(ttl, MinTTL)
}
