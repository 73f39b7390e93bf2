package cache

import (
	"fmt"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// class is the TTL rule of a data type.
type class struct {
	// maxAge is the freshness service level in the regular session (or at
	// any time, for a class that is not session-bound), and the default
	// base TTL.
	maxAge time.Duration
	// sessions: the TTL is scaled by SessionMultiplier, and an entry is
	// fresh only in the session it was fetched in. Data that changes around
	// the clock (crypto, news, reference tables) is not session-bound: its
	// TTL is maxAge at any hour, and a session change does not end it.
	sessions bool
}

// classes holds the class of each data type, indexed as DataTypes.
var classes = [...]class{
	{30 * time.Second, true},  // stock_quote
	{60 * time.Second, true},  // option_quote
	{time.Hour, true},         // historical_data
	{30 * time.Second, false}, // crypto_quote
	{time.Hour, false},        // reference
	{60 * time.Second, false}, // screener
	{60 * time.Second, false}, // news
}

// MaxAge is the freshness service level of dt in the regular session, and
// its default TTL there: no TTL policy may let an entry live longer. It is
// zero for an unknown data type.
func MaxAge(dt DataType) time.Duration {
	if i := dt.index(); i >= 0 {
		return classes[i].maxAge
	}
	return 0
}

// SessionBound reports whether dt's entries follow the market session:
// their TTL is scaled by SessionMultiplier and cut at the session's end, and
// they are fresh only in the session they were fetched in. Data types that
// are not (crypto_quote, reference, screener, news) live MaxAge at any hour.
func (dt DataType) SessionBound() bool {
	i := dt.index()
	return i < 0 || classes[i].sessions
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
	base [len(classes)]time.Duration
}

// DefaultPolicy returns the default policy: every data type's base TTL is
// its MaxAge.
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
// TTL times the session multiplier, or the base TTL alone if dt is not
// session-bound.
func (p Policy) TTL(dt DataType, s market.Session) time.Duration {
	if !dt.SessionBound() {
		return p.Base(dt)
	}
	return p.Base(dt) * time.Duration(SessionMultiplier(s))
}

// EntryTTL returns the TTL of an entry of type dt fetched at t, in the
// session span: TTL(dt, span.Session), cut (if dt is session-bound) at the end of the span (the entry
// cannot be fresh past it anyway) rounded down to whole seconds, and at
// least MinTTL. So an entry's expiry never lies past the end of its session
// (but in its last second), and the time left to its expiry is the time it
// may still be served.
func (p Policy) EntryTTL(dt DataType, span market.Span, t time.Time) time.Duration {
	ttl := p.TTL(dt, span.Session)
	if left := span.End.Sub(t); dt.SessionBound() && left < ttl {
		ttl = left.Truncate(time.Second)
	}
	return max(ttl, MinTTL)
}
