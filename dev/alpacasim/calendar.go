package alpacasim

import (
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// Alpaca's calendar covers these years; the simulator clamps to them too.
var (
	calendarFirst = market.Date{Year: 1970, Month: time.January, Day: 1}
	calendarLast  = market.Date{Year: 2029, Month: time.December, Day: 31}
)

// calendar answers GET /v2/calendar?start=&end=: one object per trading day
// in [start, end] (dates, or RFC 3339 instants taken as their New York date),
// default the whole of 1970–2029, in Alpaca's shape:
//
//	{"date":"2026-11-27","open":"09:30","close":"13:00",
//	 "session_open":"0400","session_close":"1700","settlement_date":"2026-11-30"}
func (s *Server) calendar(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	from, to := calendarFirst, calendarLast
	if v := q.Get("start"); v != "" {
		t, ok := parseInstant(v, false)
		if !ok {
			return nil, badRequest("invalid start")
		}
		from = market.DateOf(t)
	}
	if v := q.Get("end"); v != "" {
		t, ok := parseInstant(v, true)
		if !ok {
			return nil, badRequest("invalid end")
		}
		to = market.DateOf(t)
	}
	if from.Before(calendarFirst) {
		from = calendarFirst
	}
	if calendarLast.Before(to) {
		to = calendarLast
	}
	b = append(b, '[')
	first := true
	for c := from; !to.Before(c); c = c.AddDays(1) {
		h := s.days.day(c)
		if !h.Trading {
			continue
		}
		if !first {
			b = comma(b)
		}
		first = false
		b = append(b, `{"date":"`...)
		b = appendDate(b, c)
		b = append(b, `","open":"`...)
		b = appendClock(b, h.Open, true)
		b = append(b, `","close":"`...)
		b = appendClock(b, h.Close, true)
		b = append(b, `","session_open":"`...)
		b = appendClock(b, h.PreOpen, false)
		b = append(b, `","session_close":"`...)
		b = appendClock(b, h.AfterClose, false)
		b = append(b, `","settlement_date":"`...)
		b = appendDate(b, s.settlement(c))
		b = append(b, `"}`...)
	}
	return append(b, ']'), nil
}

// appendClock appends t's New York wall-clock time as HH:MM, or HHMM.
func appendClock(b []byte, t time.Time, colon bool) []byte {
	t = t.In(market.NewYork)
	b = appendPadded(b, t.Hour(), 2)
	if colon {
		b = append(b, ':')
	}
	return appendPadded(b, t.Minute(), 2)
}

// Settlement cycles of US equities: T+1 from 2024-05-28, T+2 from 2017-09-05,
// T+3 before.
var (
	tPlus1From = market.Date{Year: 2024, Month: time.May, Day: 28}
	tPlus2From = market.Date{Year: 2017, Month: time.September, Day: 5}
)

// settlement returns the settlement date of a trade on trading day c: the
// n-th following day that is both a trading day and a bank business day.
func (s *Server) settlement(c market.Date) market.Date {
	n := 3
	switch {
	case !c.Before(tPlus1From):
		n = 1
	case !c.Before(tPlus2From):
		n = 2
	}
	d := c
	for n > 0 {
		d = d.AddDays(1)
		if s.days.day(d).Trading && !bankHoliday(d) {
			n--
		}
	}
	return d
}

// bankHoliday reports the Federal Reserve holidays on which the exchange
// trades but nothing settles: Columbus Day (second Monday of October) and
// Veterans Day (11 November, moved to Monday when on a Sunday; not moved
// from a Saturday).
func bankHoliday(c market.Date) bool {
	wd := c.Weekday()
	switch c.Month {
	case time.October:
		return wd == time.Monday && c.Day >= 8 && c.Day <= 14
	case time.November:
		return (c.Day == 11 && wd != time.Saturday && wd != time.Sunday) || (c.Day == 12 && wd == time.Monday)
	}
	return false
}
