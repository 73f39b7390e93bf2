package market

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Span is one uninterrupted stretch of a single session: [Start, End).
//
// Adjacent closed stretches are merged, so the closed span that covers a
// Saturday runs from Friday's 20:00 (17:00 after an early close) to Monday's
// 04:00, or later when holidays follow. Start and End are exact instants in the
// NewYork location.
type Span struct {
	Session Session
	Start   time.Time // inclusive, the instant this session began
	End     time.Time // exclusive, the instant of the next session change
}

// Contains reports whether Start <= t < End.
func (s Span) Contains(t time.Time) bool {
	return !t.Before(s.Start) && t.Before(s.End)
}

// DayHours describes one New York calendar day.
type DayHours struct {
	Date       string // YYYY-MM-DD
	Trading    bool   // false on weekends and holidays
	EarlyClose bool   // regular session ends at 13:00 and after hours at 17:00

	// Session boundaries: PreOpen 04:00, Open 09:30, Close 16:00 (13:00),
	// AfterClose 20:00 (17:00). Zero when !Trading; otherwise in NewYork.
	PreOpen, Open, Close, AfterClose time.Time

	// Reason names the table entry for a holiday or early close ("Good
	// Friday"); empty on ordinary days, on weekends and outside the table.
	Reason string
}

// maxScanDays bounds the search for the trading day before or after a closed
// day. The longest run of closed days in the table is three (a Friday or Monday
// holiday with its weekend), so a closed span is always found whole; a longer
// closure, were one ever added to the table, would be reported clamped to
// maxScanDays days either side of the queried day.
const maxScanDays = 14

// Calendar answers session questions from the embedded NYSE table. It is safe
// for concurrent use. Create one with NewCalendar or share Default(); the zero
// value is not usable.
//
// A Calendar remembers the most recent span it computed, so SessionAt and
// SpanAt for instants inside that span (the common case: every request asks
// about "now") cost an atomic load and two comparisons, with no allocation.
type Calendar struct {
	days        map[Date]special // weekday closures and early closes, from the table
	first, last int              // the years the table covers, inclusive
	logger      *slog.Logger     // nil means slog.Default() at the time of logging

	recent atomic.Pointer[Span]

	mu     sync.Mutex
	warned map[int]struct{} // years outside the table already warned about
}

// CalendarOptions configures NewCalendar. The zero value of each field
// means its default.
type CalendarOptions struct {
	// Logger is the logger for the warning logged the first time the
	// calendar is asked about a year outside its table. Nil, the default,
	// means slog.Default() at the time of logging.
	Logger *slog.Logger
}

// NewCalendar returns a calendar backed by the embedded NYSE table for
// 2025–2028. Days in other years follow weekday rules: Monday to Friday are
// full trading days, weekends are closed; the first question about each such
// year logs one warning.
func NewCalendar(o CalendarOptions) *Calendar {
	return newCalendar(nyseDays, nyseFirstYear, nyseLastYear, o)
}

func newCalendar(table []special, first, last int, o CalendarOptions) *Calendar {
	c := &Calendar{
		days:   make(map[Date]special, len(table)),
		first:  first,
		last:   last,
		logger: o.Logger,
		warned: make(map[int]struct{}),
	}
	for _, s := range table {
		c.days[s.Date] = s
	}
	return c
}

var (
	defaultOnce     sync.Once
	defaultCalendar *Calendar
)

// Default returns the process-wide calendar, created by NewCalendar(CalendarOptions{}) on first
// use. Its warnings go to slog.Default().
func Default() *Calendar {
	defaultOnce.Do(func() { defaultCalendar = NewCalendar(CalendarOptions{}) })
	return defaultCalendar
}

// InTable reports whether the embedded table covers year, that is whether its
// holidays and early closes are known. It logs nothing.
func (c *Calendar) InTable(year int) bool {
	return year >= c.first && year <= c.last
}

// SessionAt returns the session in force at t.
func (c *Calendar) SessionAt(t time.Time) Session {
	if s := c.recent.Load(); s != nil && s.Contains(t) {
		return s.Session
	}
	return c.SpanAt(t).Session
}

// SpanAt returns the span that contains t: Start <= t < End, with Start the
// instant the session began and End the instant of the next change to a
// different session.
func (c *Calendar) SpanAt(t time.Time) Span {
	if s := c.recent.Load(); s != nil && s.Contains(t) {
		return *s
	}
	s := c.spanAt(t)
	c.recent.Store(&s)
	return s
}

// NextChange returns SpanAt(t).End and the session that begins there.
func (c *Calendar) NextChange(t time.Time) (at time.Time, next Session) {
	at = c.SpanAt(t).End
	return at, c.spanAt(at).Session
}

// Day describes the New York calendar day year-month-day. Out-of-range
// values are normalised as time.Date does: Day(2026, 2, 29) is 2026-03-01.
func (c *Calendar) Day(year int, month time.Month, day int) DayHours {
	d := Date{year, month, day}.AddDays(0)
	k, s := c.kind(d)
	dh := DayHours{Date: d.String(), EarlyClose: k == earlyDay, Reason: s.name}
	if k == closedDay {
		return dh
	}
	h := hoursOn(d, k)
	dh.Trading = true
	dh.PreOpen, dh.Open, dh.Close, dh.AfterClose = h.preOpen, h.open, h.close, h.afterClose
	return dh
}

// spanAt computes the span containing t without consulting or updating the
// remembered span.
func (c *Calendar) spanAt(t time.Time) Span {
	d := DateOf(t)
	k, _ := c.kind(d)
	if k == closedDay {
		return Span{Closed, c.closedSince(d), c.closedUntil(d)}
	}
	h := hoursOn(d, k)
	switch {
	case t.Before(h.preOpen):
		return Span{Closed, c.closedSince(d), h.preOpen}
	case t.Before(h.open):
		return Span{PreMarket, h.preOpen, h.open}
	case t.Before(h.close):
		return Span{Regular, h.open, h.close}
	case t.Before(h.afterClose):
		return Span{AfterHours, h.close, h.afterClose}
	default:
		return Span{Closed, h.afterClose, c.closedUntil(d)}
	}
}

// closedSince returns the start of the closed stretch that includes the
// midnight beginning day d: the AfterClose of the last trading day before d.
func (c *Calendar) closedSince(d Date) time.Time {
	for i := 1; i <= maxScanDays; i++ {
		p := d.AddDays(-i)
		if k, _ := c.kind(p); k != closedDay {
			return hoursOn(p, k).afterClose
		}
	}
	return d.AddDays(-maxScanDays).At(0, 0)
}

// closedUntil returns the end of the closed stretch that includes the
// midnight ending day d: the PreOpen of the first trading day after d.
func (c *Calendar) closedUntil(d Date) time.Time {
	for i := 1; i <= maxScanDays; i++ {
		n := d.AddDays(i)
		if k, _ := c.kind(n); k != closedDay {
			return hoursOn(n, k).preOpen
		}
	}
	return d.AddDays(maxScanDays+1).At(0, 0)
}

type dayKind uint8

const (
	closedDay dayKind = iota
	fullDay
	earlyDay
)

// kind classifies day d and returns its table entry, if any. Asking about a
// day outside the table logs the year's warning once.
func (c *Calendar) kind(d Date) (dayKind, special) {
	if !c.InTable(d.Year) {
		c.warnOutside(d.Year)
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return closedDay, special{}
	}
	s, ok := c.days[d]
	switch {
	case !ok:
		return fullDay, s
	case s.early:
		return earlyDay, s
	default:
		return closedDay, s
	}
}

func (c *Calendar) warnOutside(year int) {
	c.mu.Lock()
	_, done := c.warned[year]
	if !done {
		c.warned[year] = struct{}{}
	}
	c.mu.Unlock()
	if done {
		return
	}
	l := c.logger
	if l == nil {
		l = slog.Default()
	}
	l.Warn("market: year outside the embedded NYSE calendar; holidays and early closes unknown, using weekday rules",
		"year", year, "table_first_year", c.first, "table_last_year", c.last)
}

// hours are the session boundaries of one trading day.
type hours struct {
	preOpen, open, close, afterClose time.Time
}

// hoursOn returns the boundaries of trading day d of kind k (fullDay or
// earlyDay). Each is built with time.Date in NewYork, so DST days are exact.
func hoursOn(d Date, k dayKind) hours {
	closeH, afterH := 16, 20
	if k == earlyDay {
		closeH, afterH = 13, 17
	}
	return hours{
		preOpen:    d.At(4, 0),
		open:       d.At(9, 30),
		close:      d.At(closeH, 0),
		afterClose: d.At(afterH, 0),
	}
}

// special is one table row: a weekday closure, or an early close when early.
type special struct {
	Date
	early bool
	name  string
}
