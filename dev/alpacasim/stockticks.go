package alpacasim

import (
	"math"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// Stock quotes and trades. Each second of an extended session holds one
// quote, at a pseudo-random instant inside it (the first quote of a session
// is at its opening instant); each minute holds 1–24 trades, at instants
// spread over it, each priced within the spread of the quote in force at its
// instant. A 1-minute bar aggregates exactly the trades of its minute.

// Salts separate the pseudo-random streams drawn from one symbol's hash.
const (
	saltQuoteTime = 0x71_0e7e_5a17
	saltQuote     = 0x71_0e7e_da7a
	saltTrade     = 0x7ade_5a17
)

// maxStockTrades caps the trades of one minute.
const maxStockTrades = 24

// stockQuoteTime is the instant of the quote of second sec.
func (s *Server) stockQuoteTime(st *stock, sec int64) time.Time {
	if sec%60 == 0 && s.days.day(market.DateOf(time.Unix(sec, 0))).PreOpen.Unix() == sec {
		return time.Unix(sec, 0)
	}
	return time.Unix(sec, int64(draw(st.hash^saltQuoteTime, uint64(sec))%1e9))
}

func (s *Server) stockQuoteTimes(st *stock, m time.Time, buf []time.Time) []time.Time {
	for j := range int64(60) {
		buf = append(buf, s.stockQuoteTime(st, m.Unix()+j))
	}
	return buf
}

// stockQuote is one quote.
type stockQuote struct {
	t        time.Time
	bid, ask float64
	bs, as   uint64
	bx, ax   string
}

// stockQuoteAt is the quote of st stamped t (an instant stockQuoteTime
// gave): around the mid price, wider outside the regular session.
func (s *Server) stockQuoteAt(st *stock, t time.Time, feed string) stockQuote {
	hq := draw(st.hash^saltQuote, uint64(t.Unix()))
	mid := st.price(unixSeconds(t))
	hs := st.halfSpread * (0.6 + 0.8*unit(hq, 1))
	if d := s.days.day(market.DateOf(t)); t.Before(d.Open) || !t.Before(d.Close) {
		hs *= 4 // extended hours: thinner books
	}
	q := stockQuote{t: t, bid: max(floor2(mid*(1-hs)), 0.01), ask: ceil2(mid * (1 + hs))}
	if q.ask <= q.bid {
		q.ask = round2(q.bid + 0.01)
	}
	q.ax, q.bx = "V", "V"
	if feed != "iex" {
		q.ax = stockExchanges[draw(hq, 2)%uint64(len(stockExchanges))]
		q.bx = stockExchanges[draw(hq, 3)%uint64(len(stockExchanges))]
	}
	q.as, q.bs = 100*(1+draw(hq, 4)%12), 100*(1+draw(hq, 5)%12)
	return q
}

// stockQuoteAsOf is the quote in force at t, which must lie in a session.
func (s *Server) stockQuoteAsOf(st *stock, t time.Time, feed string) stockQuote {
	sec := t.Unix()
	qt := s.stockQuoteTime(st, sec)
	if qt.After(t) {
		qt = s.stockQuoteTime(st, sec-1)
	}
	return s.stockQuoteAt(st, qt, feed)
}

// stockMinute is what fixes the trades of one minute.
type stockMinute struct {
	h    uint64
	k    int     // trades
	vol  float64 // shares
	wsum float64 // the trades' size weights
	ext  bool    // outside the regular session
}

func (s *Server) stockMinuteOf(st *stock, m time.Time) stockMinute {
	d := s.days.day(market.DateOf(m))
	sm := stockMinute{h: draw(st.hash^saltTrade, uint64(m.Unix()/60))}
	sm.ext = m.Before(d.Open) || !m.Before(d.Close)
	rate := 1.0
	if sm.ext {
		rate = extendedVolume
	}
	sm.vol = st.perMinute * rate * (0.6 + 0.8*unit(sm.h, 1))
	n := st.perMinute * rate / st.tradeSize * (0.5 + unit(sm.h, 2))
	sm.k = int(min(max(math.Round(n), 1), maxStockTrades))
	for j := range sm.k {
		sm.wsum += sm.weight(j)
	}
	return sm
}

func (sm stockMinute) time(m time.Time, j int) time.Time {
	slot := float64(time.Minute) / float64(sm.k)
	return m.Add(time.Duration(slot * (float64(j) + 0.05 + 0.9*unit(sm.h, uint64(10+j)))))
}

func (s *Server) stockTradeTimes(st *stock, m time.Time, buf []time.Time) []time.Time {
	sm := s.stockMinuteOf(st, m)
	for j := range sm.k {
		buf = append(buf, sm.time(m, j))
	}
	return buf
}

// stockTrade is one trade.
type stockTrade struct {
	t    time.Time
	p    float64
	size uint64
	x    string
	id   uint64
	ext  bool
}

// stockTradeAt is trade j of minute m of st.
func (s *Server) stockTradeAt(st *stock, m time.Time, j int, feed string) stockTrade {
	sm := s.stockMinuteOf(st, m)
	return s.stockTradeIn(st, sm, m, j, feed)
}

func (s *Server) stockTradeIn(st *stock, sm stockMinute, m time.Time, j int, feed string) stockTrade {
	tr := stockTrade{t: sm.time(m, j), ext: sm.ext, id: uint64(m.Unix()/60)*32 + uint64(j) + 1}
	q := s.stockQuoteAsOf(st, tr.t, feed)
	tr.p = round2(q.bid + unit(sm.h, uint64(200+j))*(q.ask-q.bid))
	tr.size = uint64(max(math.Round(sm.vol*sm.weight(j)/sm.wsum), 1))
	tr.x = "V"
	if feed != "iex" {
		tr.x = stockExchanges[draw(sm.h, uint64(300+j))%uint64(len(stockExchanges))]
	}
	return tr
}

func (sm stockMinute) weight(j int) float64 { return 0.3 + 1.4*unit(sm.h, uint64(100+j)) }

// stockMinuteBar aggregates the trades of minute m.
func (s *Server) stockMinuteBar(st *stock, m time.Time) bar {
	sm := s.stockMinuteOf(st, m)
	br := bar{t: m}
	var pv float64
	for j := range sm.k {
		tr := s.stockTradeIn(st, sm, m, j, "")
		if j == 0 {
			br.o, br.h, br.l = tr.p, tr.p, tr.p
		}
		br.h, br.l, br.c = max(br.h, tr.p), min(br.l, tr.p), tr.p
		br.v += tr.size
		pv += tr.p * float64(tr.size)
	}
	br.n = uint64(sm.k)
	br.vw = min(max(round4(pv/float64(br.v)), br.l), br.h)
	return br
}

func appendStockQuoteJSON(b []byte, q stockQuote, tape string) []byte {
	b = append(b, `{"t":`...)
	b = appendTime(b, q.t)
	b = append(b, `,"ax":`...)
	b = appendStr(b, q.ax)
	b = comma(b)
	b = appendNum(b, "ap", q.ask)
	b = comma(b)
	b = appendUint(b, "as", q.as)
	b = append(b, `,"bx":`...)
	b = appendStr(b, q.bx)
	b = comma(b)
	b = appendNum(b, "bp", q.bid)
	b = comma(b)
	b = appendUint(b, "bs", q.bs)
	b = append(b, `,"c":["R"],"z":`...)
	b = appendStr(b, tape)
	return append(b, '}')
}

// appendTradeHead appends the fields stock and option trades open with, in
// Alpaca's order: {"t":…,"x":…,"p":…,"s":… (the object left open).
func appendTradeHead(b []byte, t time.Time, x string, p float64, size uint64) []byte {
	b = append(b, `{"t":`...)
	b = appendTime(b, t)
	b = append(b, `,"x":`...)
	b = appendStr(b, x)
	b = comma(b)
	b = appendNum(b, "p", p)
	b = comma(b)
	return appendUint(b, "s", size)
}

func appendStockTrade(b []byte, tr stockTrade, tape string) []byte {
	b = appendTradeHead(b, tr.t, tr.x, tr.p, tr.size)
	if tr.ext {
		b = append(b, `,"c":["@","T"],`...)
	} else {
		b = append(b, `,"c":["@"],`...)
	}
	b = appendUint(b, "i", tr.id)
	b = append(b, `,"z":`...)
	b = appendStr(b, tape)
	return append(b, '}')
}

// stockSeries is the quote or trade series of sts in the extended sessions.
func (s *Server) stockSeries(sts []*stock, trades bool) *series {
	keys := make([]string, len(sts))
	for i, st := range sts {
		keys[i] = st.symbol
	}
	next, prev := s.sessionMinutes(extendedOpen, extendedClose)
	times := func(i int, m time.Time, buf []time.Time) []time.Time { return s.stockQuoteTimes(sts[i], m, buf) }
	if trades {
		times = func(i int, m time.Time, buf []time.Time) []time.Time { return s.stockTradeTimes(sts[i], m, buf) }
	}
	return &series{keys: keys, next: next, prev: prev, times: times}
}

// lookback bounds the search for a latest event: the longest gap between
// two sessions.
const lookback = maxGap * 24 * time.Hour
