// Package market tells which NYSE trading session is in force at any instant:
// pre-market, regular, after hours or closed, with the exact bounds of that
// session and the instant of the next change.
//
// Sessions follow New York wall-clock time (daylight saving included, from the
// system's time zone database or the copy of America/New_York embedded in
// the binary) and an embedded exchange calendar
// of holidays and early closes for 2025–2028. Years outside the table fall back
// to weekday rules and log a warning.
package market

import (
	"context"
	_ "embed"
	"sync"
	"time"
)

// Session is an NYSE trading session. Its string values are stable: they are
// stored in cache entries and sent to clients in X-Market-Session.
type Session string

// The four sessions. Times are New York wall-clock time.
const (
	PreMarket  Session = "pre_market"  // 04:00–09:30
	Regular    Session = "regular"     // 09:30–16:00 (13:00 on early-close days)
	AfterHours Session = "after_hours" // 16:00–20:00 (17:00 on early-close days)
	Closed     Session = "closed"      // otherwise, weekends, holidays
)

// Valid reports whether s is one of PreMarket, Regular, AfterHours or Closed.
func (s Session) Valid() bool {
	switch s {
	case PreMarket, Regular, AfterHours, Closed:
		return true
	}
	return false
}

// Clock tells the current time. Everything that depends on time takes a Clock,
// so tests can run at exact instants without sleeping.
type Clock interface{ Now() time.Time }

// Sleep waits for d of real time, or until ctx ends, whichever is first,
// and returns ctx's error in the second case. Waits are real durations
// (timers, deadlines), never instants on a Clock.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the real clock: its Now is time.Now.
var SystemClock Clock = ClockFunc(time.Now)

// NewYork is the America/New_York location, loaded from the system zoneinfo
// database or, when that is missing (Lambda's provided.al2023), from the
// copy embedded in the binary. The package panics at initialisation if
// neither provides it.
var NewYork = mustLoadNewYork()

// newYorkTZif is America/New_York from Go's time zone database
// ($GOROOT/lib/time/zoneinfo.zip), 1.7 KB: time/tzdata would embed every
// zone, 450 KB of each function's binary, for this one. Its rules end in a
// POSIX TZ rule (EST5EDT,M3.2.0,M11.1.0) that covers the years after its
// table.
//
//go:embed america_new_york.tzif
var newYorkTZif []byte

func mustLoadNewYork() *time.Location {
	if loc, err := time.LoadLocation("America/New_York"); err == nil {
		return loc
	}
	loc, err := time.LoadLocationFromTZData("America/New_York", newYorkTZif)
	if err != nil {
		panic("market: cannot load America/New_York: " + err.Error())
	}
	return loc
}

// ManualClock is a Clock that moves only when told to: tests use it to
// check time-dependent behaviour at exact instants. It is safe for
// concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a ManualClock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's instant.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t (backwards too).
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock on by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
