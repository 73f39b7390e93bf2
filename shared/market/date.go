package market

import (
	"fmt"
	"time"
)

// Date is a civil date in New York: a trading day, a holiday, an option
// expiration. Its methods do their arithmetic at noon UTC, clear of any
// time zone transition.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the New York date of t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(NewYork).Date()
	return Date{y, m, d}
}

// AddDays returns the date n days after d (n may be negative), normalised.
func (d Date) AddDays(n int) Date {
	y, m, dd := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC).Date()
	return Date{y, m, dd}
}

// Weekday is d's day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// At returns the instant hour:minute on d in New York.
func (d Date) At(hour, minute int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, NewYork)
}

// Before reports whether d comes before o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// String is YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}
