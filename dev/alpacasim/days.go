package alpacasim

import (
	"sync"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// dateKey is c as the integer YYYYMMDD.
func dateKey(c market.Date) int32 { return int32(c.Year*10000 + int(c.Month)*100 + c.Day) }

// appendDate appends c as YYYY-MM-DD, without fmt's cost.
func appendDate(b []byte, c market.Date) []byte {
	b = appendPadded(b, c.Year, 4)
	b = append(b, '-')
	b = appendPadded(b, int(c.Month), 2)
	b = append(b, '-')
	return appendPadded(b, c.Day, 2)
}

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
func parseDate(s string) (market.Date, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return market.Date{}, false
	}
	y, m, d := t.Date()
	return market.Date{Year: y, Month: m, Day: d}, true
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

func (ds *days) day(c market.Date) market.DayHours {
	if c.Year < cacheFirstYear || c.Year > cacheLastYear {
		return ds.cal.Day(c.Year, c.Month, c.Day)
	}
	k := dateKey(c)
	ds.mu.RLock()
	h, ok := ds.cache[k]
	ds.mu.RUnlock()
	if ok {
		return h
	}
	h = ds.cal.Day(c.Year, c.Month, c.Day)
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
func (ds *days) lastSession(now time.Time, from, to func(market.DayHours) time.Time) (day market.DayHours, c market.Date, anchor time.Time, ok bool) {
	today := market.DateOf(now)
	for i := 0; i <= maxGap; i++ {
		c := today.AddDays(-i)
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
	return market.DayHours{}, market.Date{}, time.Time{}, false
}

// prevTrading returns the trading day before c.
func (ds *days) prevTrading(c market.Date) (market.DayHours, market.Date, bool) {
	for i := 1; i <= maxGap; i++ {
		p := c.AddDays(-i)
		if h := ds.day(p); h.Trading {
			return h, p, true
		}
	}
	return market.DayHours{}, market.Date{}, false
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
