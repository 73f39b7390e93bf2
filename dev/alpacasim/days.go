package alpacasim

import (
	"sync"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// civil is a New York calendar date.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.In(market.NewYork).Date()
	return civil{y, m, d}
}

// add returns the date n days after c (n may be negative), normalised.
func (c civil) add(n int) civil {
	y, m, d := time.Date(c.y, c.m, c.d+n, 12, 0, 0, 0, time.UTC).Date()
	return civil{y, m, d}
}

func (c civil) weekday() time.Weekday {
	return time.Date(c.y, c.m, c.d, 12, 0, 0, 0, time.UTC).Weekday()
}

// midnight is the instant the day begins in New York: Alpaca's stamp for
// daily, weekly and monthly bars.
func (c civil) midnight() time.Time {
	return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, market.NewYork)
}

func (c civil) before(o civil) bool {
	if c.y != o.y {
		return c.y < o.y
	}
	if c.m != o.m {
		return c.m < o.m
	}
	return c.d < o.d
}

func (c civil) key() int32 { return int32(c.y*10000 + int(c.m)*100 + c.d) }

// appendTo appends YYYY-MM-DD.
func (c civil) appendTo(b []byte) []byte {
	b = appendPadded(b, c.y, 4)
	b = append(b, '-')
	b = appendPadded(b, int(c.m), 2)
	b = append(b, '-')
	return appendPadded(b, c.d, 2)
}

func (c civil) String() string { return string(c.appendTo(nil)) }

func appendPadded(b []byte, v, width int) []byte {
	var tmp [8]byte
	i := len(tmp)
	for v > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	for range width - (len(tmp) - i) {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}

// parseDate parses YYYY-MM-DD strictly.
func parseDate(s string) (civil, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return civil{}, false
	}
	y, m, d := t.Date()
	return civil{y, m, d}, true
}

// days memoises the market calendar's answers per date: the simulator asks
// about the same few days on every request, and bar ranges revisit them.
type days struct {
	cal *market.Calendar

	mu    sync.RWMutex
	cache map[int32]market.DayHours
}

// cacheYears bounds the memo to the years a client may plausibly ask about,
// so arbitrary request ranges cannot grow it without limit.
const cacheFirstYear, cacheLastYear = 1970, 2100

func newDays(cal *market.Calendar) *days {
	return &days{cal: cal, cache: make(map[int32]market.DayHours)}
}

func (ds *days) day(c civil) market.DayHours {
	if c.y < cacheFirstYear || c.y > cacheLastYear {
		return ds.cal.Day(c.y, c.m, c.d)
	}
	k := c.key()
	ds.mu.RLock()
	h, ok := ds.cache[k]
	ds.mu.RUnlock()
	if ok {
		return h
	}
	h = ds.cal.Day(c.y, c.m, c.d)
	ds.mu.Lock()
	ds.cache[k] = h
	ds.mu.Unlock()
	return h
}

// maxGap bounds the search for a neighbouring trading day. Exchange closures
// last at most four days; weekday rules never close more than two.
const maxGap = 14

// lastSession returns the trading day whose window [from(day), to(day))
// contains now, or else the most recent trading day whose window ended before
// now, with anchor = now in the first case and to(day) in the second. ok is
// false only if no trading day lies within maxGap days.
func (ds *days) lastSession(now time.Time, from, to func(market.DayHours) time.Time) (day market.DayHours, c civil, anchor time.Time, ok bool) {
	today := civilOf(now)
	for i := 0; i <= maxGap; i++ {
		c := today.add(-i)
		h := ds.day(c)
		if !h.Trading {
			continue
		}
		if i == 0 {
			if now.Before(from(h)) {
				continue
			}
			if now.Before(to(h)) {
				return h, c, now, true
			}
		}
		return h, c, to(h), true
	}
	return market.DayHours{}, civil{}, time.Time{}, false
}

// prevTrading returns the trading day before c.
func (ds *days) prevTrading(c civil) (market.DayHours, civil, bool) {
	for i := 1; i <= maxGap; i++ {
		p := c.add(-i)
		if h := ds.day(p); h.Trading {
			return h, p, true
		}
	}
	return market.DayHours{}, civil{}, false
}

func extendedOpen(h market.DayHours) time.Time  { return h.PreOpen }
func extendedClose(h market.DayHours) time.Time { return h.AfterClose }
func regularOpen(h market.DayHours) time.Time   { return h.Open }
func regularClose(h market.DayHours) time.Time  { return h.Close }

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
