package market

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ny returns the New York instant y-m-d h:mi:s plus ms milliseconds.
func ny(y int, m time.Month, d, h, mi, s, ms int) time.Time {
	return time.Date(y, m, d, h, mi, s, ms*int(time.Millisecond), NewYork)
}

// utc returns the UTC instant y-m-d h:mi.
func utc(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

// quiet returns a calendar whose warnings are discarded.
func quiet() *Calendar {
	return NewCalendar(CalendarOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func checkSpan(t *testing.T, c *Calendar, at time.Time, want Span) {
	t.Helper()
	got := c.SpanAt(at)
	if got.Session != want.Session || !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
		t.Errorf("SpanAt(%s) = {%s %s %s}, want {%s %s %s}", at.Format(time.RFC3339Nano),
			got.Session, got.Start.UTC().Format(time.RFC3339), got.End.UTC().Format(time.RFC3339),
			want.Session, want.Start.UTC().Format(time.RFC3339), want.End.UTC().Format(time.RFC3339))
	}
	if got.Start.Location() != NewYork || got.End.Location() != NewYork {
		t.Errorf("SpanAt(%s) bounds in %s/%s, want %s", at, got.Start.Location(), got.End.Location(), NewYork)
	}
}

func TestSessionValid(t *testing.T) {
	for _, s := range []Session{PreMarket, Regular, AfterHours, Closed} {
		if !s.Valid() {
			t.Errorf("%q.Valid() = false", s)
		}
	}
	for _, s := range []Session{"", "open", "Regular", "closed "} {
		if s.Valid() {
			t.Errorf("%q.Valid() = true", s)
		}
	}
}

func TestClocks(t *testing.T) {
	fixed := ny(2026, time.November, 27, 12, 0, 0, 0)
	if got := ClockFunc(func() time.Time { return fixed }).Now(); !got.Equal(fixed) {
		t.Errorf("ClockFunc.Now() = %s, want %s", got, fixed)
	}
	before := time.Now()
	got := SystemClock.Now()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("SystemClock.Now() = %s, not within [%s, %s]", got, before, after)
	}
}

func TestNewYorkLocation(t *testing.T) {
	if NewYork.String() != "America/New_York" {
		t.Fatalf("NewYork = %s", NewYork)
	}
	for _, tc := range []struct {
		at     time.Time
		offset int
	}{
		{utc(2026, time.January, 15, 12, 0), -5 * 3600},
		{utc(2026, time.July, 15, 12, 0), -4 * 3600},
	} {
		if _, off := tc.at.In(NewYork).Zone(); off != tc.offset {
			t.Errorf("offset at %s = %d, want %d", tc.at, off, tc.offset)
		}
	}
}

func TestDefaultIsShared(t *testing.T) {
	first, second := Default(), Default()
	if first != second {
		t.Fatal("Default() returned two calendars")
	}
	if got := Default().SessionAt(ny(2026, time.November, 26, 12, 0, 0, 0)); got != Closed {
		t.Errorf("Default().SessionAt(Thanksgiving noon) = %s, want closed", got)
	}
}

func TestSessionAtInstants(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want Session
	}{
		// Thanksgiving 2026: closed all day.
		{"thanksgiving 00:00", ny(2026, time.November, 26, 0, 0, 0, 0), Closed},
		{"thanksgiving 09:30", ny(2026, time.November, 26, 9, 30, 0, 0), Closed},
		{"thanksgiving 12:00", ny(2026, time.November, 26, 12, 0, 0, 0), Closed},
		{"thanksgiving 16:30", ny(2026, time.November, 26, 16, 30, 0, 0), Closed},
		{"thanksgiving 23:59:59.999", ny(2026, time.November, 26, 23, 59, 59, 999), Closed},
		// The early close the day after.
		{"early close 03:59:59.999", ny(2026, time.November, 27, 3, 59, 59, 999), Closed},
		{"early close 04:00", ny(2026, time.November, 27, 4, 0, 0, 0), PreMarket},
		{"early close 09:29:59.999", ny(2026, time.November, 27, 9, 29, 59, 999), PreMarket},
		{"early close 09:30", ny(2026, time.November, 27, 9, 30, 0, 0), Regular},
		{"early close 12:59:59.999", ny(2026, time.November, 27, 12, 59, 59, 999), Regular},
		{"early close 13:00", ny(2026, time.November, 27, 13, 0, 0, 0), AfterHours},
		{"early close 16:59:59.999", ny(2026, time.November, 27, 16, 59, 59, 999), AfterHours},
		{"early close 17:00", ny(2026, time.November, 27, 17, 0, 0, 0), Closed},
		{"early close 13:00 as UTC", utc(2026, time.November, 27, 18, 0), AfterHours},
		{"early close 17:00 as UTC", utc(2026, time.November, 27, 22, 0), Closed},
		// An ordinary Wednesday.
		{"ordinary 03:59:59.999", ny(2026, time.June, 10, 3, 59, 59, 999), Closed},
		{"ordinary 04:00", ny(2026, time.June, 10, 4, 0, 0, 0), PreMarket},
		{"ordinary 09:29:59.999", ny(2026, time.June, 10, 9, 29, 59, 999), PreMarket},
		{"ordinary 09:30", ny(2026, time.June, 10, 9, 30, 0, 0), Regular},
		{"ordinary 15:59:59.999", ny(2026, time.June, 10, 15, 59, 59, 999), Regular},
		{"ordinary 16:00", ny(2026, time.June, 10, 16, 0, 0, 0), AfterHours},
		{"ordinary 19:59:59.999", ny(2026, time.June, 10, 19, 59, 59, 999), AfterHours},
		{"ordinary 20:00", ny(2026, time.June, 10, 20, 0, 0, 0), Closed},
		{"ordinary 09:30 EDT as UTC", utc(2026, time.June, 10, 13, 30), Regular},
		{"ordinary 09:29 EDT as UTC", utc(2026, time.June, 10, 13, 29), PreMarket},
		// DST: the Sundays of the change are closed, the Mondays open at 04:00 local.
		{"spring sunday", ny(2026, time.March, 8, 12, 0, 0, 0), Closed},
		{"spring monday 07:59 UTC", utc(2026, time.March, 9, 7, 59), Closed},
		{"spring monday 08:00 UTC", utc(2026, time.March, 9, 8, 0), PreMarket},
		{"fall sunday", ny(2026, time.November, 1, 12, 0, 0, 0), Closed},
		{"fall monday 08:59 UTC", utc(2026, time.November, 2, 8, 59), Closed},
		{"fall monday 09:00 UTC", utc(2026, time.November, 2, 9, 0), PreMarket},
		// Year end 2027/2028.
		{"2027-12-24 holiday", ny(2027, time.December, 24, 12, 0, 0, 0), Closed},
		{"2027-12-31 regular", ny(2027, time.December, 31, 12, 0, 0, 0), Regular},
		{"2027-12-31 after hours", ny(2027, time.December, 31, 16, 0, 0, 0), AfterHours},
		{"2028-01-01 saturday", ny(2028, time.January, 1, 12, 0, 0, 0), Closed},
		{"2028-01-03 regular", ny(2028, time.January, 3, 12, 0, 0, 0), Regular},
		// The one-off mourning closure.
		{"2025-01-09 mourning", ny(2025, time.January, 9, 12, 0, 0, 0), Closed},
		{"2025-01-08 regular", ny(2025, time.January, 8, 12, 0, 0, 0), Regular},
	}
	c := quiet()
	for _, tc := range tests {
		if got := c.SessionAt(tc.at); got != tc.want {
			t.Errorf("%s: SessionAt(%s) = %s, want %s", tc.name, tc.at.Format(time.RFC3339Nano), got, tc.want)
		}
		// A fresh calendar has no remembered span: both paths must agree.
		if got := quiet().SessionAt(tc.at); got != tc.want {
			t.Errorf("%s: fresh SessionAt(%s) = %s, want %s", tc.name, tc.at.Format(time.RFC3339Nano), got, tc.want)
		}
	}
}

func TestSpanAtThanksgiving2026(t *testing.T) {
	c := quiet()
	closedThursday := Span{Closed, ny(2026, time.November, 25, 20, 0, 0, 0), ny(2026, time.November, 27, 4, 0, 0, 0)}
	for _, at := range []time.Time{
		ny(2026, time.November, 25, 20, 0, 0, 0),
		ny(2026, time.November, 26, 0, 0, 0, 0),
		ny(2026, time.November, 26, 9, 30, 0, 0),
		ny(2026, time.November, 26, 12, 0, 0, 0),
		ny(2026, time.November, 26, 16, 30, 0, 0),
		ny(2026, time.November, 26, 23, 59, 59, 999),
		ny(2026, time.November, 27, 3, 59, 59, 999),
	} {
		checkSpan(t, c, at, closedThursday)
	}
	pre := Span{PreMarket, ny(2026, time.November, 27, 4, 0, 0, 0), ny(2026, time.November, 27, 9, 30, 0, 0)}
	regular := Span{Regular, ny(2026, time.November, 27, 9, 30, 0, 0), ny(2026, time.November, 27, 13, 0, 0, 0)}
	after := Span{AfterHours, ny(2026, time.November, 27, 13, 0, 0, 0), ny(2026, time.November, 27, 17, 0, 0, 0)}
	weekend := Span{Closed, ny(2026, time.November, 27, 17, 0, 0, 0), ny(2026, time.November, 30, 4, 0, 0, 0)}
	checkSpan(t, c, ny(2026, time.November, 27, 4, 0, 0, 0), pre)
	checkSpan(t, c, ny(2026, time.November, 27, 9, 29, 59, 999), pre)
	checkSpan(t, c, ny(2026, time.November, 27, 9, 30, 0, 0), regular)
	checkSpan(t, c, ny(2026, time.November, 27, 12, 59, 59, 999), regular)
	checkSpan(t, c, ny(2026, time.November, 27, 13, 0, 0, 0), after)
	checkSpan(t, c, ny(2026, time.November, 27, 16, 59, 59, 999), after)
	checkSpan(t, c, ny(2026, time.November, 27, 17, 0, 0, 0), weekend)
	checkSpan(t, c, ny(2026, time.November, 29, 12, 0, 0, 0), weekend)
	// Each span's End is exactly the next span's Start.
	for _, pair := range [][2]Span{{closedThursday, pre}, {pre, regular}, {regular, after}, {after, weekend}} {
		if pair[0].End != pair[1].Start {
			t.Errorf("End %v != next Start %v", pair[0].End, pair[1].Start)
		}
	}
}

func TestSpanAtDST2026(t *testing.T) {
	c := quiet()
	tests := []struct {
		name string
		at   time.Time
		want Span
	}{
		// Spring forward: Friday 2026-03-06 is EST (UTC-5), Monday 2026-03-09 EDT (UTC-4).
		{"spring fri pre", utc(2026, time.March, 6, 9, 0), Span{PreMarket, utc(2026, time.March, 6, 9, 0), utc(2026, time.March, 6, 14, 30)}},
		{"spring fri regular", utc(2026, time.March, 6, 15, 0), Span{Regular, utc(2026, time.March, 6, 14, 30), utc(2026, time.March, 6, 21, 0)}},
		{"spring fri after", utc(2026, time.March, 6, 21, 0), Span{AfterHours, utc(2026, time.March, 6, 21, 0), utc(2026, time.March, 7, 1, 0)}},
		{"spring weekend", ny(2026, time.March, 8, 3, 0, 0, 0), Span{Closed, utc(2026, time.March, 7, 1, 0), utc(2026, time.March, 9, 8, 0)}},
		{"spring mon pre", utc(2026, time.March, 9, 8, 0), Span{PreMarket, utc(2026, time.March, 9, 8, 0), utc(2026, time.March, 9, 13, 30)}},
		{"spring mon regular", utc(2026, time.March, 9, 13, 30), Span{Regular, utc(2026, time.March, 9, 13, 30), utc(2026, time.March, 9, 20, 0)}},
		{"spring mon after", utc(2026, time.March, 9, 23, 59), Span{AfterHours, utc(2026, time.March, 9, 20, 0), utc(2026, time.March, 10, 0, 0)}},
		{"spring mon night", utc(2026, time.March, 10, 0, 0), Span{Closed, utc(2026, time.March, 10, 0, 0), utc(2026, time.March, 10, 8, 0)}},
		// Fall back: Friday 2026-10-30 is EDT, Monday 2026-11-02 EST.
		{"fall fri pre", utc(2026, time.October, 30, 8, 0), Span{PreMarket, utc(2026, time.October, 30, 8, 0), utc(2026, time.October, 30, 13, 30)}},
		{"fall fri regular", utc(2026, time.October, 30, 19, 59), Span{Regular, utc(2026, time.October, 30, 13, 30), utc(2026, time.October, 30, 20, 0)}},
		{"fall fri after", utc(2026, time.October, 30, 20, 0), Span{AfterHours, utc(2026, time.October, 30, 20, 0), utc(2026, time.October, 31, 0, 0)}},
		{"fall weekend", ny(2026, time.November, 1, 1, 30, 0, 0), Span{Closed, utc(2026, time.October, 31, 0, 0), utc(2026, time.November, 2, 9, 0)}},
		{"fall mon pre", utc(2026, time.November, 2, 9, 0), Span{PreMarket, utc(2026, time.November, 2, 9, 0), utc(2026, time.November, 2, 14, 30)}},
		{"fall mon regular", utc(2026, time.November, 2, 14, 30), Span{Regular, utc(2026, time.November, 2, 14, 30), utc(2026, time.November, 2, 21, 0)}},
		{"fall mon after", utc(2026, time.November, 2, 21, 0), Span{AfterHours, utc(2026, time.November, 2, 21, 0), utc(2026, time.November, 3, 1, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkSpan(t, c, tc.at, tc.want) })
	}
	// The spring weekend is an hour shorter than a standard one, the fall one an hour longer.
	if d := c.SpanAt(ny(2026, time.March, 8, 12, 0, 0, 0)); d.End.Sub(d.Start) != 55*time.Hour {
		t.Errorf("spring weekend lasts %s, want 55h", d.End.Sub(d.Start))
	}
	if d := c.SpanAt(ny(2026, time.November, 1, 12, 0, 0, 0)); d.End.Sub(d.Start) != 57*time.Hour {
		t.Errorf("fall weekend lasts %s, want 57h", d.End.Sub(d.Start))
	}
}

func TestSpanAtMergesClosures(t *testing.T) {
	c := quiet()
	tests := []struct {
		name string
		at   []time.Time
		want Span
	}{
		{"ordinary weekend",
			[]time.Time{ny(2026, time.June, 12, 20, 0, 0, 0), ny(2026, time.June, 13, 12, 0, 0, 0), ny(2026, time.June, 15, 3, 59, 59, 999)},
			Span{Closed, ny(2026, time.June, 12, 20, 0, 0, 0), ny(2026, time.June, 15, 4, 0, 0, 0)}},
		{"MLK day 2026",
			[]time.Time{ny(2026, time.January, 17, 12, 0, 0, 0), ny(2026, time.January, 19, 12, 0, 0, 0), ny(2026, time.January, 20, 3, 0, 0, 0)},
			Span{Closed, ny(2026, time.January, 16, 20, 0, 0, 0), ny(2026, time.January, 20, 4, 0, 0, 0)}},
		{"Independence Day observed on a Friday",
			[]time.Time{ny(2026, time.July, 3, 12, 0, 0, 0), ny(2026, time.July, 4, 12, 0, 0, 0)},
			Span{Closed, ny(2026, time.July, 2, 20, 0, 0, 0), ny(2026, time.July, 6, 4, 0, 0, 0)}},
		{"Christmas Eve 2027 observed",
			[]time.Time{ny(2027, time.December, 24, 12, 0, 0, 0)},
			Span{Closed, ny(2027, time.December, 23, 20, 0, 0, 0), ny(2027, time.December, 27, 4, 0, 0, 0)}},
		{"New Year 2028 on a Saturday is not observed",
			[]time.Time{ny(2028, time.January, 1, 12, 0, 0, 0)},
			Span{Closed, ny(2027, time.December, 31, 20, 0, 0, 0), ny(2028, time.January, 3, 4, 0, 0, 0)}},
		{"midweek holiday",
			[]time.Time{ny(2025, time.January, 9, 12, 0, 0, 0)},
			Span{Closed, ny(2025, time.January, 8, 20, 0, 0, 0), ny(2025, time.January, 10, 4, 0, 0, 0)}},
		{"Christmas 2025 after an early close",
			[]time.Time{ny(2025, time.December, 24, 17, 0, 0, 0), ny(2025, time.December, 25, 12, 0, 0, 0)},
			Span{Closed, ny(2025, time.December, 24, 17, 0, 0, 0), ny(2025, time.December, 26, 4, 0, 0, 0)}},
		{"across the table's end into weekday rules",
			[]time.Time{ny(2028, time.December, 30, 12, 0, 0, 0)},
			Span{Closed, ny(2028, time.December, 29, 20, 0, 0, 0), ny(2029, time.January, 1, 4, 0, 0, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, at := range tc.at {
				checkSpan(t, c, at, tc.want)
			}
		})
	}
}

func TestNextChange(t *testing.T) {
	c := quiet()
	tests := []struct {
		at     time.Time
		wantAt time.Time
		want   Session
	}{
		{ny(2026, time.June, 10, 0, 0, 0, 0), ny(2026, time.June, 10, 4, 0, 0, 0), PreMarket},
		{ny(2026, time.June, 10, 4, 0, 0, 0), ny(2026, time.June, 10, 9, 30, 0, 0), Regular},
		{ny(2026, time.June, 10, 9, 29, 59, 999), ny(2026, time.June, 10, 9, 30, 0, 0), Regular},
		{ny(2026, time.June, 10, 9, 30, 0, 0), ny(2026, time.June, 10, 16, 0, 0, 0), AfterHours},
		{ny(2026, time.June, 10, 16, 0, 0, 0), ny(2026, time.June, 10, 20, 0, 0, 0), Closed},
		{ny(2026, time.June, 10, 20, 0, 0, 0), ny(2026, time.June, 11, 4, 0, 0, 0), PreMarket},
		{ny(2026, time.June, 12, 21, 0, 0, 0), ny(2026, time.June, 15, 4, 0, 0, 0), PreMarket},
		{ny(2026, time.November, 25, 19, 0, 0, 0), ny(2026, time.November, 25, 20, 0, 0, 0), Closed},
		{ny(2026, time.November, 26, 12, 0, 0, 0), ny(2026, time.November, 27, 4, 0, 0, 0), PreMarket},
		{ny(2026, time.November, 27, 10, 0, 0, 0), ny(2026, time.November, 27, 13, 0, 0, 0), AfterHours},
		{ny(2026, time.November, 27, 13, 0, 0, 0), ny(2026, time.November, 27, 17, 0, 0, 0), Closed},
		{ny(2026, time.November, 27, 17, 0, 0, 0), ny(2026, time.November, 30, 4, 0, 0, 0), PreMarket},
		{ny(2026, time.January, 16, 20, 0, 0, 0), ny(2026, time.January, 20, 4, 0, 0, 0), PreMarket},
		{utc(2026, time.March, 7, 12, 0), utc(2026, time.March, 9, 8, 0), PreMarket},
		{utc(2026, time.October, 31, 12, 0), utc(2026, time.November, 2, 9, 0), PreMarket},
		{ny(2027, time.December, 23, 16, 0, 0, 0), ny(2027, time.December, 23, 20, 0, 0, 0), Closed},
		{ny(2027, time.December, 23, 20, 0, 0, 0), ny(2027, time.December, 27, 4, 0, 0, 0), PreMarket},
		{ny(2027, time.December, 31, 20, 0, 0, 0), ny(2028, time.January, 3, 4, 0, 0, 0), PreMarket},
	}
	for _, tc := range tests {
		gotAt, got := c.NextChange(tc.at)
		if !gotAt.Equal(tc.wantAt) || got != tc.want {
			t.Errorf("NextChange(%s) = %s %s, want %s %s", tc.at, gotAt, got, tc.wantAt, tc.want)
		}
	}
}

func TestDay(t *testing.T) {
	c := quiet()
	tests := []struct {
		y    int
		m    time.Month
		d    int
		want DayHours
	}{
		{2026, time.November, 26, DayHours{Date: "2026-11-26", Reason: "Thanksgiving Day"}},
		{2026, time.November, 27, DayHours{Date: "2026-11-27", Trading: true, EarlyClose: true,
			PreOpen: ny(2026, time.November, 27, 4, 0, 0, 0), Open: ny(2026, time.November, 27, 9, 30, 0, 0),
			Close: ny(2026, time.November, 27, 13, 0, 0, 0), AfterClose: ny(2026, time.November, 27, 17, 0, 0, 0),
			Reason: "Early close after Thanksgiving Day"}},
		{2026, time.March, 9, DayHours{Date: "2026-03-09", Trading: true,
			PreOpen: utc(2026, time.March, 9, 8, 0), Open: utc(2026, time.March, 9, 13, 30),
			Close: utc(2026, time.March, 9, 20, 0), AfterClose: utc(2026, time.March, 10, 0, 0)}},
		{2026, time.March, 8, DayHours{Date: "2026-03-08"}},
		{2027, time.December, 24, DayHours{Date: "2027-12-24", Reason: "Christmas Day (observed)"}},
		{2027, time.December, 31, DayHours{Date: "2027-12-31", Trading: true,
			PreOpen: ny(2027, time.December, 31, 4, 0, 0, 0), Open: ny(2027, time.December, 31, 9, 30, 0, 0),
			Close: ny(2027, time.December, 31, 16, 0, 0, 0), AfterClose: ny(2027, time.December, 31, 20, 0, 0, 0)}},
		{2028, time.January, 1, DayHours{Date: "2028-01-01"}},
		// Normalised like time.Date.
		{2026, time.February, 29, DayHours{Date: "2026-03-01"}},
		{2026, time.December, 32, DayHours{Date: "2027-01-01", Reason: "New Year's Day"}},
	}
	for _, tc := range tests {
		got := c.Day(tc.y, tc.m, tc.d)
		if got.Date != tc.want.Date || got.Trading != tc.want.Trading || got.EarlyClose != tc.want.EarlyClose ||
			got.Reason != tc.want.Reason || !got.PreOpen.Equal(tc.want.PreOpen) || !got.Open.Equal(tc.want.Open) ||
			!got.Close.Equal(tc.want.Close) || !got.AfterClose.Equal(tc.want.AfterClose) {
			t.Errorf("Day(%d, %d, %d) =\n %+v, want\n %+v", tc.y, tc.m, tc.d, got, tc.want)
		}
		if got.Trading && got.Open.Location() != NewYork {
			t.Errorf("Day(%d, %d, %d).Open in %s, want %s", tc.y, tc.m, tc.d, got.Open.Location(), NewYork)
		}
		if !got.Trading && !got.PreOpen.IsZero() {
			t.Errorf("Day(%d, %d, %d): closed day with non-zero times", tc.y, tc.m, tc.d)
		}
	}
}

// The reference (shared/reference/nyse-calendar.md), restated independently of
// the embedded table.
var reference = map[int]struct{ closed, early []string }{
	2025: {
		closed: []string{"2025-01-01", "2025-01-09", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19", "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25"},
		early:  []string{"2025-07-03", "2025-11-28", "2025-12-24"},
	},
	2026: {
		closed: []string{"2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"},
		early:  []string{"2026-11-27", "2026-12-24"},
	},
	2027: {
		closed: []string{"2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06", "2027-11-25", "2027-12-24"},
		early:  []string{"2027-11-26"},
	},
	2028: {
		closed: []string{"2028-01-17", "2028-02-21", "2028-04-14", "2028-05-29", "2028-06-19", "2028-07-04", "2028-09-04", "2028-11-23", "2028-12-25"},
		early:  []string{"2028-07-03", "2028-11-24"},
	},
}

func TestTableMatchesReference(t *testing.T) {
	c := quiet()
	for year := nyseFirstYear; year <= nyseLastYear; year++ {
		if !c.InTable(year) {
			t.Errorf("InTable(%d) = false", year)
		}
		var closed, early []string
		for day := 1; ; day++ {
			h := c.Day(year, time.January, day)
			if !strings.HasPrefix(h.Date, strconv.Itoa(year)+"-") {
				break
			}
			wd := time.Date(year, time.January, day, 12, 0, 0, 0, time.UTC).Weekday()
			weekend := wd == time.Saturday || wd == time.Sunday
			if weekend && h.Trading {
				t.Errorf("%s is a weekend trading day", h.Date)
			}
			if !weekend && !h.Trading {
				closed = append(closed, h.Date)
				// Every holiday is closed all day long.
				for _, hm := range [][2]int{{0, 0}, {4, 0}, {9, 30}, {12, 0}, {16, 0}, {20, 0}, {23, 59}} {
					at := time.Date(year, time.January, day, hm[0], hm[1], 0, 0, NewYork)
					if s := c.SessionAt(at); s != Closed {
						t.Errorf("SessionAt(%s) on holiday = %s", at, s)
					}
				}
			}
			if h.EarlyClose {
				early = append(early, h.Date)
			}
		}
		ref := reference[year]
		if len(closed) != len(ref.closed) || strings.Join(closed, ",") != strings.Join(ref.closed, ",") {
			t.Errorf("%d: %d weekday closures %v, reference has %d %v", year, len(closed), closed, len(ref.closed), ref.closed)
		}
		if strings.Join(early, ",") != strings.Join(ref.early, ",") {
			t.Errorf("%d: early closes %v, reference has %v", year, early, ref.early)
		}
	}
	for _, s := range nyseDays {
		if wd := s.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("table row %s falls on a %s", s.Date, wd)
		}
		if s.Year < nyseFirstYear || s.Year > nyseLastYear {
			t.Errorf("table row %s outside %d–%d", s.Date, nyseFirstYear, nyseLastYear)
		}
	}
}

func TestOutsideTable(t *testing.T) {
	var buf bytes.Buffer
	c := NewCalendar(CalendarOptions{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	for _, y := range []int{2024, 2029, 2030} {
		if c.InTable(y) {
			t.Errorf("InTable(%d) = true", y)
		}
	}
	if buf.Len() != 0 {
		t.Fatalf("InTable logged: %s", buf.String())
	}
	tests := []struct {
		at   time.Time
		want Session
	}{
		// 2030-07-04 is a Thursday: weekday rules know no holidays.
		{ny(2030, time.July, 4, 12, 0, 0, 0), Regular},
		{ny(2030, time.July, 4, 3, 59, 59, 999), Closed},
		{ny(2030, time.July, 4, 4, 0, 0, 0), PreMarket},
		{ny(2030, time.July, 4, 16, 0, 0, 0), AfterHours},
		{ny(2030, time.July, 4, 20, 0, 0, 0), Closed},
		{ny(2030, time.July, 6, 12, 0, 0, 0), Closed}, // Saturday
		{ny(2030, time.November, 28, 12, 0, 0, 0), Regular},
	}
	for _, tc := range tests {
		if got := c.SessionAt(tc.at); got != tc.want {
			t.Errorf("SessionAt(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
	checkSpan(t, c, ny(2030, time.July, 6, 12, 0, 0, 0), Span{Closed, ny(2030, time.July, 5, 20, 0, 0, 0), ny(2030, time.July, 8, 4, 0, 0, 0)})
	if h := c.Day(2030, time.December, 25); !h.Trading || h.EarlyClose || h.Reason != "" {
		t.Errorf("Day(2030-12-25) = %+v, want a plain trading day", h)
	}

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("logged %d lines, want exactly 1:\n%s", len(lines), buf.String())
	}
	var rec struct {
		Level string
		Year  int `json:"year"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Level != "WARN" || rec.Year != 2030 {
		t.Errorf("logged %s, want one WARN with year=2030", lines[0])
	}

	// Another calendar warns for itself; an in-table year never warns.
	buf.Reset()
	c2 := NewCalendar(CalendarOptions{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	c2.SessionAt(ny(2026, time.July, 1, 12, 0, 0, 0))
	if buf.Len() != 0 {
		t.Errorf("in-table query logged: %s", buf.String())
	}
	c2.SessionAt(ny(2030, time.July, 1, 12, 0, 0, 0))
	c2.SessionAt(ny(2030, time.August, 1, 12, 0, 0, 0))
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Errorf("second calendar logged %d lines, want 1", n)
	}
}

func TestNilLoggerUsesDefault(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	NewCalendar(CalendarOptions{Logger: nil}).SessionAt(ny(2031, time.March, 3, 12, 0, 0, 0))
	if !strings.Contains(buf.String(), "year=2031") {
		t.Errorf("slog.Default() got %q, want the 2031 warning", buf.String())
	}
}

// TestSpanProperties checks the span invariants at random instants.
func TestSpanProperties(t *testing.T) {
	c := quiet()
	fresh := quiet()
	rng := rand.New(rand.NewPCG(1, 2))
	from := ny(2025, time.January, 1, 0, 0, 0, 0)
	to := ny(2030, time.January, 1, 0, 0, 0, 0)
	for i := 0; i < 20000; i++ {
		at := from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)))))
		sp := c.SpanAt(at)
		if !sp.Session.Valid() {
			t.Fatalf("SpanAt(%s).Session = %q", at, sp.Session)
		}
		if !sp.Contains(at) {
			t.Fatalf("SpanAt(%s) = [%s, %s) does not contain it", at, sp.Start, sp.End)
		}
		if got := fresh.SessionAt(sp.Start); got != sp.Session {
			t.Fatalf("SpanAt(%s) = %s from %s, but SessionAt(Start) = %s", at, sp.Session, sp.Start, got)
		}
		if got := fresh.SessionAt(sp.End.Add(-time.Nanosecond)); got != sp.Session {
			t.Fatalf("SpanAt(%s) = %s until %s, but SessionAt(End-1ns) = %s", at, sp.Session, sp.End, got)
		}
		if got := fresh.SessionAt(sp.End); got == sp.Session {
			t.Fatalf("SpanAt(%s) = %s until %s, and SessionAt(End) is still %s", at, sp.Session, sp.End, got)
		}
		if got := fresh.SessionAt(sp.Start.Add(-time.Nanosecond)); got == sp.Session {
			t.Fatalf("SpanAt(%s) = %s from %s, and SessionAt(Start-1ns) is also %s: unmerged spans", at, sp.Session, sp.Start, got)
		}
		if s := fresh.SessionAt(at); s != sp.Session {
			t.Fatalf("SessionAt(%s) = %s, SpanAt says %s", at, s, sp.Session)
		}
		nextAt, next := fresh.NextChange(at)
		if !nextAt.Equal(sp.End) || next != fresh.SessionAt(sp.End) {
			t.Fatalf("NextChange(%s) = %s %s, want %s %s", at, nextAt, next, sp.End, fresh.SessionAt(sp.End))
		}
		if sp.End.Sub(sp.Start) > 5*24*time.Hour {
			t.Fatalf("SpanAt(%s) lasts %s", at, sp.End.Sub(sp.Start))
		}
	}
}

// TestBoundedSearch feeds a table with a closure longer than the search bound:
// the span is clamped, still contains t, and is found without scanning further.
func TestBoundedSearch(t *testing.T) {
	var long []special
	for d := (Date{2026, time.January, 1}); d.Month < time.April; d = d.AddDays(1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			long = append(long, special{Date: d, name: "long closure"})
		}
	}
	c := newCalendar(long, 2026, 2026, CalendarOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	at := ny(2026, time.February, 15, 12, 0, 0, 0)
	sp := c.SpanAt(at)
	if sp.Session != Closed || !sp.Contains(at) {
		t.Fatalf("SpanAt(%s) = %+v", at, sp)
	}
	if want := ny(2026, time.February, 1, 0, 0, 0, 0); !sp.Start.Equal(want) {
		t.Errorf("Start = %s, want %s (clamped)", sp.Start, want)
	}
	if want := ny(2026, time.March, 2, 0, 0, 0, 0); !sp.End.Equal(want) {
		t.Errorf("End = %s, want %s (clamped)", sp.End, want)
	}
	// Near the closure's edges the real boundaries are found.
	checkSpan(t, c, ny(2026, time.January, 3, 12, 0, 0, 0), Span{Closed, ny(2025, time.December, 31, 20, 0, 0, 0), ny(2026, time.January, 18, 0, 0, 0, 0)})
}

// TestConcurrentUse races readers over instants in different spans, so the
// remembered span is replaced constantly; every answer must still be right.
func TestConcurrentUse(t *testing.T) {
	c := quiet()
	ref := quiet()
	instants := []time.Time{
		ny(2026, time.November, 26, 12, 0, 0, 0),
		ny(2026, time.November, 27, 9, 0, 0, 0),
		ny(2026, time.November, 27, 10, 0, 0, 0),
		ny(2026, time.November, 27, 14, 0, 0, 0),
		ny(2026, time.November, 28, 14, 0, 0, 0),
		ny(2026, time.March, 9, 8, 0, 0, 0),
	}
	want := make([]Span, len(instants))
	for i, at := range instants {
		want[i] = ref.SpanAt(at)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := (i + g) % len(instants)
				if s := c.SessionAt(instants[k]); s != want[k].Session {
					t.Errorf("SessionAt(%s) = %s, want %s", instants[k], s, want[k].Session)
					return
				}
				if sp := c.SpanAt(instants[k]); sp != want[k] {
					t.Errorf("SpanAt(%s) = %+v, want %+v", instants[k], sp, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkSessionAt(b *testing.B) {
	b.Run("cached", func(b *testing.B) {
		c := quiet()
		at := ny(2026, time.November, 27, 10, 0, 0, 0)
		c.SessionAt(at)
		b.ReportAllocs()
		for b.Loop() {
			if c.SessionAt(at) != Regular {
				b.Fatal("wrong session")
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		c := quiet()
		// Alternating between two spans defeats the remembered span every call;
		// the closed one exercises the walk over a holiday weekend.
		ats := [2]time.Time{ny(2026, time.November, 27, 10, 0, 0, 0), ny(2026, time.November, 26, 12, 0, 0, 0)}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c.SessionAt(ats[i&1])
			i++
		}
	})
}

func TestManualClock(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 9, 29, 59, 0, NewYork)
	c := NewManualClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatal(c.Now())
	}
	c.Advance(time.Second)
	if got := Default().SessionAt(c.Now()); got != Regular {
		t.Fatalf("after a second: %s", got)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatal("Set did not move the clock back")
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("a short sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled sleep: %v, want context.Canceled at once", err)
	}
}

// TestEmbeddedNewYorkMatchesTheZoneDatabase: the embedded America/New_York
// gives every instant of 1970-2100 the offset and name Go's full time zone
// database gives it.
func TestEmbeddedNewYorkMatchesTheZoneDatabase(t *testing.T) {
	embedded, err := time.LoadLocationFromTZData("America/New_York", newYorkTZif)
	if err != nil {
		t.Fatal(err)
	}
	full, err := time.LoadLocation("America/New_York")
	if err != nil {
		// Go falls back to $GOROOT/lib/time/zoneinfo.zip, which every Go
		// installation has: a failure here is a broken toolchain.
		t.Fatal("no zoneinfo database:", err)
	}
	for at := time.Date(1970, 1, 1, 0, 30, 0, 0, time.UTC); at.Year() < 2100; at = at.Add(time.Hour) {
		en, eo := at.In(embedded).Zone()
		fn, fo := at.In(full).Zone()
		if en != fn || eo != fo {
			t.Fatalf("%s: embedded %s %d, database %s %d", at, en, eo, fn, fo)
		}
	}
}
