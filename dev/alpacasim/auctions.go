package alpacasim

import (
	"math"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// Stock auctions: /v2/stocks/auctions and /v2/stocks/{symbol}/auctions. Each
// trading day whose regular session has opened holds one item,
// {"d":date,"o":[opening prints],"c":[closing prints] or null before the
// close}, stamped for paging at New York midnight of the day. The auction
// prices are the daily bar's open and close.

// primaryExchange is the listing exchange of a tape's symbols.
func primaryExchange(tape string) string {
	switch tape {
	case "A":
		return "N"
	case "B":
		return "P"
	}
	return "Q"
}

// auctionSeries has one event per trading day opened by now.
func (s *Server) auctionSeries(sts []*stock, now time.Time) *series {
	keys := make([]string, len(sts))
	for i, st := range sts {
		keys[i] = st.symbol
	}
	next := func(from, end time.Time) (time.Time, bool) {
		for c := market.DateOf(from); !market.DateOf(end).Before(c); c = c.AddDays(1) {
			if m := c.At(0, 0); s.days.day(c).Trading && !m.Before(from) {
				return m, !m.After(end)
			}
		}
		return time.Time{}, false
	}
	prev := func(from, start time.Time) (time.Time, bool) {
		for c := market.DateOf(from); !c.Before(market.DateOf(start)); c = c.AddDays(-1) {
			if m := c.At(0, 0); s.days.day(c).Trading && !m.After(from) {
				return m, !m.Before(start)
			}
		}
		return time.Time{}, false
	}
	times := func(_ int, m time.Time, buf []time.Time) []time.Time {
		if s.days.day(market.DateOf(m)).Open.After(now) {
			return buf
		}
		return append(buf, m)
	}
	return &series{keys: keys, next: next, prev: prev, times: times}
}

// appendAuction appends the auctions of st on day c as of now.
func (s *Server) appendAuction(b []byte, st *stock, c market.Date, now time.Time) []byte {
	d := s.days.day(c)
	b = append(b, `{"d":"`...)
	b = appendDate(b, c)
	b = append(b, `","o":`...)
	b = s.appendPrints(b, st, d.Open, "O", "Q")
	b = append(b, `,"c":`...)
	if d.Close.After(now) {
		b = append(b, "null"...)
	} else {
		b = s.appendPrints(b, st, d.Close, "6", "M")
	}
	return append(b, '}')
}

// appendPrints appends the two prints of an auction at instant at: the
// auction itself and the exchange's official price, both at the path's
// price at that instant.
func (s *Server) appendPrints(b []byte, st *stock, at time.Time, c1, c2 string) []byte {
	h := draw(st.hash^saltTrade, uint64(at.Unix())^0xa0c7)
	p := max(round2(st.price(unixSeconds(at))), 0.01)
	size := uint64(max(math.Round(st.perMinute*(2+8*unit(h, 1))), 100))
	b = append(b, '[')
	for k, c := range [2]string{c1, c2} {
		if k > 0 {
			b = comma(b)
		}
		b = append(b, `{"t":`...)
		b = appendTime(b, at.Add(time.Duration(1e6+draw(h, uint64(2+k))%4e8+uint64(k)*4e8)))
		b = append(b, `,"x":`...)
		b = appendStr(b, primaryExchange(st.tape))
		b = comma(b)
		b = appendNum(b, "p", p)
		b = comma(b)
		if k == 0 {
			b = appendUint(b, "s", size)
		} else {
			b = appendUint(b, "s", 100*(1+draw(h, 9)%50))
		}
		b = append(b, `,"c":`...)
		b = appendStr(b, c)
		b = append(b, '}')
	}
	return append(b, ']')
}

// auctionHistory answers both auction routes; single is the path symbol
// form.
func (s *Server) auctionHistory(b []byte, req request, single bool) ([]byte, *apiError) {
	q := req.r.URL.Query()
	hq, _, now, e := stockHistQuery(q, req.now)
	if e != nil {
		return nil, e
	}
	var known []*stock
	if single {
		st, e := s.pathStock(req.param)
		if e != nil {
			return nil, e
		}
		known = []*stock{st}
	} else {
		if known, e = s.queryStocks(q); e != nil {
			return nil, e
		}
	}
	b = append(b, `{"auctions":`...)
	mw, lw := newMapWriter(b), &listWriter{b: b}
	next := s.auctionSeries(known, now).walk(hq, now, func(i int, m time.Time, _ int, _ time.Time) {
		if single {
			lw.item()
			lw.b = s.appendAuction(lw.b, known[i], market.DateOf(m), now)
		} else {
			mw.item(i, known[i].symbol)
			mw.b = s.appendAuction(mw.b, known[i], market.DateOf(m), now)
		}
	})
	if single {
		b = append(lw.close(), `,"symbol":`...)
		b = appendStr(b, known[0].symbol)
	} else {
		b = mw.close()
	}
	b = comma(b)
	b = appendToken(b, next)
	return append(b, '}'), nil
}

func (s *Server) stockAuctions(b []byte, req request) ([]byte, *apiError) {
	return s.auctionHistory(b, req, true)
}

func (s *Server) stockMultiAuctions(b []byte, req request) ([]byte, *apiError) {
	return s.auctionHistory(b, req, false)
}
