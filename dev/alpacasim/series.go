package alpacasim

import (
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// A series is a stream of timestamped events (trades, quotes, rates) of
// several keys (symbols), cut into minute buckets. Each bucket's event times
// are a pure function of the key and the bucket, strictly increasing, so a
// page token (key, time of the next event) resumes a walk exactly.
type series struct {
	keys []string // sorted
	// next returns the first bucket at or after from (a whole minute), none
	// after end; prev the last bucket at or before from, none before start.
	next func(from, end time.Time) (time.Time, bool)
	prev func(from, start time.Time) (time.Time, bool)
	// times appends the event times of key i in bucket m.
	times func(i int, m time.Time, buf []time.Time) []time.Time
}

// histQuery is a validated history request: the range, the page size and
// direction, and where to resume.
type histQuery struct {
	start, end time.Time
	limit      int
	desc       bool
	token      *pageToken
}

// walk visits at most hq.limit events in Alpaca's order (key, then time per
// sort) with start <= t <= min(end, now), and returns the token of the next
// one, or nil. emit gets the key, the bucket, the event's index in it and its
// time.
func (sr *series) walk(hq histQuery, now time.Time, emit func(i int, m time.Time, j int, t time.Time)) *pageToken {
	end := earliest(hq.end, now)
	i0 := 0
	if hq.token != nil {
		i0, _ = slices.BinarySearch(sr.keys, hq.token.key)
	}
	remaining := hq.limit
	buf := make([]time.Time, 0, 64)
	for i := i0; i < len(sr.keys); i++ {
		lo, hi := hq.start, end
		if hq.token != nil && sr.keys[i] == hq.token.key {
			if hq.desc {
				hi = earliest(hi, hq.token.t)
			} else if hq.token.t.After(lo) {
				lo = hq.token.t
			}
		}
		if hi.Before(lo) {
			continue
		}
		var next *pageToken
		remaining, next = sr.walkKey(i, lo, hi, hq.desc, remaining, buf, emit)
		if next != nil {
			return next
		}
	}
	return nil
}

// walkKey walks key i over [lo, hi] and returns the budget left, or the
// token of the first event beyond it.
func (sr *series) walkKey(i int, lo, hi time.Time, desc bool, remaining int, buf []time.Time,
	emit func(i int, m time.Time, j int, t time.Time)) (int, *pageToken) {
	first := lo.Truncate(time.Minute)
	var m time.Time
	var ok bool
	if desc {
		m, ok = sr.prev(hi, first)
	} else {
		m, ok = sr.next(first, hi)
	}
	for ok {
		buf = sr.times(i, m, buf[:0])
		for k := range buf {
			j := k
			if desc {
				j = len(buf) - 1 - k
			}
			t := buf[j]
			if t.Before(lo) || t.After(hi) {
				continue
			}
			if remaining == 0 {
				return 0, &pageToken{key: sr.keys[i], t: t}
			}
			emit(i, m, j, t)
			remaining--
		}
		if desc {
			m, ok = sr.prev(m.Add(-1), first)
		} else {
			m, ok = sr.next(m.Add(time.Minute), hi)
		}
	}
	return remaining, nil
}

// latest returns the last event of key i at or before now, looking back at
// most lookback.
func (sr *series) latest(i int, now time.Time, lookback time.Duration) (m time.Time, j int, t time.Time, ok bool) {
	hq := histQuery{start: now.Add(-lookback), end: now, limit: 1, desc: true}
	one := series{keys: sr.keys[i : i+1], next: sr.next, prev: sr.prev,
		times: func(_ int, m time.Time, buf []time.Time) []time.Time { return sr.times(i, m, buf) }}
	one.walk(hq, now, func(_ int, bm time.Time, bj int, bt time.Time) { m, j, t, ok = bm, bj, bt, true })
	return m, j, t, ok
}

// Minute buckets of the extended stock sessions, the regular (option)
// sessions, and around the clock.

func (s *Server) sessionMinutes(from func(market.DayHours) time.Time, to func(market.DayHours) time.Time) (
	next func(from, end time.Time) (time.Time, bool), prev func(from, start time.Time) (time.Time, bool)) {
	next = func(t, end time.Time) (time.Time, bool) {
		for c := market.DateOf(t); !market.DateOf(end).Before(c); c = c.AddDays(1) {
			h := s.days.day(c)
			if !h.Trading || !t.Before(to(h)) {
				continue
			}
			m := t.Truncate(time.Minute)
			if m.Before(from(h)) {
				m = from(h)
			}
			return m, !m.After(end)
		}
		return time.Time{}, false
	}
	prev = func(t, start time.Time) (time.Time, bool) {
		for c := market.DateOf(t); !c.Before(market.DateOf(start)); c = c.AddDays(-1) {
			h := s.days.day(c)
			if !h.Trading || t.Before(from(h)) {
				continue
			}
			m := earliest(t, to(h).Add(-1)).Truncate(time.Minute)
			return m, !m.Before(start)
		}
		return time.Time{}, false
	}
	return next, prev
}

func allMinutesNext(t, end time.Time) (time.Time, bool) {
	m := t.Add(time.Minute - 1).Truncate(time.Minute)
	return m, !m.After(end)
}

func allMinutesPrev(t, start time.Time) (time.Time, bool) {
	m := t.Truncate(time.Minute)
	return m, !m.Before(start)
}

// parseHistQuery validates the parameters common to the history endpoints:
// start (default: the start of today in New York), end (default now), limit
// (1–maxLimit, default defLimit), sort and page_token.
func parseHistQuery(q url.Values, now time.Time, defLimit, maxLimit int) (histQuery, *apiError) {
	hq := histQuery{limit: defLimit, start: market.DateOf(now).At(0, 0), end: now}
	var ok bool
	if v := q.Get("start"); v != "" {
		if hq.start, ok = parseInstant(v, false); !ok {
			return hq, badRequest("invalid start")
		}
	}
	if hq.end.Before(hq.start) {
		hq.end = hq.start
	}
	if v := q.Get("end"); v != "" {
		if hq.end, ok = parseInstant(v, true); !ok {
			return hq, badRequest("invalid end")
		}
	}
	if hq.end.Before(hq.start) {
		return hq, badRequest("end should not be before start")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return hq, badRequest("invalid limit: must be between 1 and " + strconv.Itoa(maxLimit))
		}
		hq.limit = n
	}
	switch q.Get("sort") {
	case "", "asc":
	case "desc":
		hq.desc = true
	default:
		return hq, badRequest("invalid sort: must be asc or desc")
	}
	if v := q.Get("page_token"); v != "" {
		if hq.token, ok = decodeToken(v, true); !ok {
			return hq, badRequest("invalid page_token")
		}
	}
	return hq, nil
}

// mapWriter writes {"KEY":[item,...],...} as a walk emits items grouped by
// key; keys without items are left out.
type mapWriter struct {
	b    []byte
	open int // the key whose array is open, or -1
}

func newMapWriter(b []byte) *mapWriter { return &mapWriter{b: append(b, '{'), open: -1} }

// item starts the next item of key, named name.
func (w *mapWriter) item(key int, name string) {
	if key != w.open {
		if w.open >= 0 {
			w.b = append(w.b, "],"...)
		}
		w.open = key
		w.b = appendKey(w.b, name)
		w.b = append(w.b, '[')
		return
	}
	w.b = comma(w.b)
}

func (w *mapWriter) close() []byte {
	if w.open >= 0 {
		w.b = append(w.b, ']')
	}
	return append(w.b, '}')
}

// listWriter writes [item,...], or null when there is none, as Alpaca's
// single-symbol history endpoints do.
type listWriter struct {
	b []byte
	n int
}

func (w *listWriter) item() {
	if w.n == 0 {
		w.b = append(w.b, '[')
	} else {
		w.b = comma(w.b)
	}
	w.n++
}

func (w *listWriter) close() []byte {
	if w.n == 0 {
		return append(w.b, "null"...)
	}
	return append(w.b, ']')
}

// validAsOf accepts asof: empty, "-" (no symbol mapping) or a date.
func validAsOf(v string) bool {
	if v == "" || v == "-" {
		return true
	}
	_, ok := parseDate(v)
	return ok
}
