package alpacasim

import (
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// Stock snapshots: /v2/stocks/snapshots?symbols= answers a bare map
// {"AAPL":{...},"ZZZZQ":null} (a well-formed unknown symbol maps to null);
// /v2/stocks/{symbol}/snapshot answers {"symbol":"AAPL",...} or 404. Each
// part is what its own route answers at the same instant: the latest trade
// and quote, the last complete minute bar, the daily bar of the last trading
// day whose regular session opened, and the daily bar before it.

// lastDaily returns the last trading day whose regular session opened by now.
func (s *Server) lastDaily(now time.Time) (market.Date, bool) {
	today := market.DateOf(now)
	for i := 0; i <= maxGap; i++ {
		c := today.AddDays(-i)
		if h := s.days.day(c); h.Trading && !h.Open.After(now) {
			return c, true
		}
	}
	return market.Date{}, false
}

// appendSnapshotFields appends st's snapshot fields (no braces).
func (s *Server) appendSnapshotFields(b []byte, st *stock, now time.Time, feed string) []byte {
	var ok bool
	part := func(name string, app func([]byte) ([]byte, bool)) {
		b = append(b, `"`...)
		b = append(b, name...)
		b = append(b, `":`...)
		mark := len(b)
		if b, ok = app(b); !ok {
			b = append(b[:mark], "null"...)
		}
	}
	part("latestTrade", func(b []byte) ([]byte, bool) { return s.appendLatestTrade(b, st, now, feed) })
	b = comma(b)
	part("latestQuote", func(b []byte) ([]byte, bool) { return s.appendLatestQuote(b, st, now, feed) })
	b = comma(b)
	part("minuteBar", func(b []byte) ([]byte, bool) { return s.appendLatestBar(b, st, now, feed) })
	day, dayOK := s.lastDaily(now)
	b = comma(b)
	part("dailyBar", func(b []byte) ([]byte, bool) {
		if !dayOK {
			return b, false
		}
		return appendBar(b, s.stockDaily(st, day, now)), true
	})
	b = comma(b)
	part("prevDailyBar", func(b []byte) ([]byte, bool) {
		if !dayOK {
			return b, false
		}
		_, prev, ok := s.days.prevTrading(day)
		if !ok {
			return b, false
		}
		return appendBar(b, s.stockDaily(st, prev, now)), true
	})
	return b
}

// stockSnapshot answers GET /v2/stocks/{symbol}/snapshot.
func (s *Server) stockSnapshot(b []byte, req request) ([]byte, *apiError) {
	st, feed, now, e := s.latestStock(req)
	if e != nil {
		return nil, e
	}
	b = append(b, `{"symbol":`...)
	b = appendStr(b, st.symbol)
	b = comma(b)
	b = s.appendSnapshotFields(b, st, now, feed)
	return append(b, '}'), nil
}

// stockSnapshots answers GET /v2/stocks/snapshots?symbols=.
func (s *Server) stockSnapshots(b []byte, req request) ([]byte, *apiError) {
	syms, feed, now, e := latestSymbols(req)
	if e != nil {
		return nil, e
	}
	b = append(b, '{')
	for k, sym := range syms {
		if k > 0 {
			b = comma(b)
		}
		b = appendKey(b, sym)
		st, ok := s.lookup(sym)
		if !ok {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '{')
		b = s.appendSnapshotFields(b, st, now, feed)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}
