package alpacasim

import (
	"math"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// Option trades happen only in regular sessions: each minute holds 0–4
// trades of a contract, more near the money, each priced at the contract's
// theoretical value clamped to its spread at that instant. Option bars
// aggregate those trades exactly; a bar without trades does not exist.

const maxOptionTrades = 4

// minuteTrades returns the hash and the number of trades of minute m.
func (l listed) minuteTrades(m time.Time) (uint64, int) {
	h := draw(l.hash^saltTrade, uint64(m.Unix()/60))
	strike := float64(l.k.strike) / 1000
	rate := 0.3 + 2.5*math.Exp(-8*math.Abs(math.Log(strike/l.st.basePrice())))
	return h, min(int(unit(h, 1)*(rate+1.5)), maxOptionTrades)
}

func (l listed) tradeTime(m time.Time, h uint64, k, j int) time.Time {
	slot := float64(time.Minute) / float64(k)
	return m.Add(time.Duration(slot * (float64(j) + 0.05 + 0.9*unit(h, uint64(10+j)))))
}

func (l listed) tradeTimes(m time.Time, buf []time.Time) []time.Time {
	h, k := l.minuteTrades(m)
	for j := range k {
		buf = append(buf, l.tradeTime(m, h, k, j))
	}
	return buf
}

// optionTrade is one trade of a contract.
type optionTrade struct {
	t    time.Time
	p    float64
	s    uint64
	x, c string
}

func (l listed) tradeAt(m time.Time, j int) optionTrade {
	h, k := l.minuteTrades(m)
	tr := optionTrade{t: l.tradeTime(m, h, k, j)}
	v := l.value(tr.t).value
	bid, ask := l.spread(v, unit(h, uint64(20+j)))
	tr.p = min(max(round2(v), bid), ask)
	tr.s = 1 + draw(h, uint64(30+j))%20
	tr.x = pick(optionExchanges[:], draw(h, uint64(40+j)))
	tr.c = pick(optionTradeConditions[:], draw(h, uint64(50+j)))
	return tr
}

func appendOptionTrade(b []byte, tr optionTrade) []byte {
	b = appendTradeHead(b, tr.t, tr.x, tr.p, tr.s)
	b = append(b, `,"c":`...)
	b = appendStr(b, tr.c)
	return append(b, '}')
}

// optionTradeSeries is the trade series of contracts, in regular sessions.
func (s *Server) optionTradeSeries(ls []listed, keys []string) *series {
	next, prev := s.sessionMinutes(regularOpen, regularClose)
	return &series{keys: keys, next: next, prev: prev,
		times: func(i int, m time.Time, buf []time.Time) []time.Time { return ls[i].tradeTimes(m, buf) }}
}

// latestTrade is l's last trade at or before now, if any in the lookback.
func (s *Server) latestOptionTrade(l listed, now time.Time) (optionTrade, bool) {
	m, j, _, ok := s.optionTradeSeries([]listed{l}, []string{""}).latest(0, now, lookback)
	if !ok {
		return optionTrade{}, false
	}
	return l.tradeAt(m, j), true
}

// aggregate is the bar stamped stamp of l's trades in [a, z), up to now;
// ok is false when there is none.
func (s *Server) optionAggregate(l listed, stamp, a, z, now time.Time) (bar, bool) {
	br := bar{t: stamp}
	var pv float64
	next, _ := s.sessionMinutes(regularOpen, regularClose)
	end := earliest(z, now)
	for m, ok := next(a, end); ok && m.Before(end); m, ok = next(m.Add(time.Minute), end) {
		_, k := l.minuteTrades(m)
		for j := range k {
			tr := l.tradeAt(m, j)
			if tr.t.Before(a) || !tr.t.Before(end) {
				continue
			}
			if br.n == 0 {
				br.o, br.h, br.l = tr.p, tr.p, tr.p
			}
			br.h, br.l, br.c = max(br.h, tr.p), min(br.l, tr.p), tr.p
			br.v += tr.s
			br.n++
			pv += tr.p * float64(tr.s)
		}
	}
	if br.n == 0 {
		return br, false
	}
	br.vw = min(max(round4(pv/float64(br.v)), br.l), br.h)
	return br, true
}

// optionBarSpan is the span a bar stamp of tf covers.
func (s *Server) optionBarSpan(tf timeframe, stamp time.Time) (time.Time, time.Time) {
	c := market.DateOf(stamp)
	switch tf.unit {
	case tfMin, tfHour:
		return stamp, stamp.Add(tf.duration())
	case tfDay:
		d := s.days.day(c)
		return d.Open, d.Close
	}
	return stamp, s.bucketEnd(tf, s.bucketOf(tf, c)).AddDays(1).At(0, 0)
}
