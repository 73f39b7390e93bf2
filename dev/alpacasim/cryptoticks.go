package alpacasim

import (
	"math"
	"time"
)

// cryptoQuote and cryptoTrade are one quote and one trade of a crypto asset.
type cryptoQuote struct {
	t                time.Time
	bid, ask, bs, as float64
}

type cryptoTrade struct {
	t    time.Time
	p, s float64
	id   uint64
	side string
}

// cryptoBar is a bar with a fractional volume.
type cryptoBar struct {
	t          time.Time
	o, h, l, c float64
	v, vw      float64
	n          uint64
}

const maxCryptoTrades = 6

func (a *cryptoAsset) quoteTime(sec int64) time.Time {
	return time.Unix(sec, int64(draw(a.hash^saltQuoteTime, uint64(sec))%1e9))
}

func (a *cryptoAsset) quoteTimes(m time.Time, buf []time.Time) []time.Time {
	for j := range int64(60) {
		buf = append(buf, a.quoteTime(m.Unix()+j))
	}
	return buf
}

// quoteAt is the quote stamped t, an instant quoteTime gave.
func (a *cryptoAsset) quoteAt(t time.Time) cryptoQuote {
	hq := draw(a.hash^saltQuote, uint64(t.Unix()))
	mid := a.price(unixSeconds(t))
	hs := (0.3 + 2*unit(hq, 1)) / 1e4
	q := cryptoQuote{t: t, bid: a.floor(mid * (1 - hs)), ask: a.ceil(mid * (1 + hs))}
	if q.ask <= q.bid {
		q.ask = a.round(q.bid + a.tick(q.bid))
	}
	q.bs = roundSize(a.notional * (0.5 + 4*unit(hq, 2)) / mid)
	q.as = roundSize(a.notional * (0.5 + 4*unit(hq, 3)) / mid)
	return q
}

func (a *cryptoAsset) quoteAsOf(t time.Time) cryptoQuote {
	qt := a.quoteTime(t.Unix())
	if qt.After(t) {
		qt = a.quoteTime(t.Unix() - 1)
	}
	return a.quoteAt(qt)
}

func (a *cryptoAsset) minuteHash(m time.Time) (uint64, int) {
	h := draw(a.hash^saltTrade, uint64(m.Unix()/60))
	return h, 1 + int(draw(h, 1)%maxCryptoTrades)
}

func (a *cryptoAsset) tradeTime(m time.Time, h uint64, k, j int) time.Time {
	slot := float64(time.Minute) / float64(k)
	return m.Add(time.Duration(slot * (float64(j) + 0.05 + 0.9*unit(h, uint64(10+j)))))
}

func (a *cryptoAsset) tradeTimes(m time.Time, buf []time.Time) []time.Time {
	h, k := a.minuteHash(m)
	for j := range k {
		buf = append(buf, a.tradeTime(m, h, k, j))
	}
	return buf
}

// tradeAt is trade j of minute m: a buy at the ask or a sell at the bid.
func (a *cryptoAsset) tradeAt(m time.Time, j int) cryptoTrade {
	h, k := a.minuteHash(m)
	tr := cryptoTrade{t: a.tradeTime(m, h, k, j), id: uint64(m.Unix()/60)*8 + uint64(j) + 1}
	q := a.quoteAsOf(tr.t)
	if unit(h, uint64(200+j)) < 0.5 {
		tr.p, tr.side = q.ask, "B"
	} else {
		tr.p, tr.side = q.bid, "S"
	}
	tr.s = roundSize(a.notional * (0.1 + 2*unit(h, uint64(300+j))) / tr.p)
	return tr
}

// barOver aggregates the trades of the minutes in [from, to).
func (a *cryptoAsset) barOver(stamp, from, to time.Time) cryptoBar {
	br := cryptoBar{t: stamp}
	var pv float64
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		_, k := a.minuteHash(m)
		for j := range k {
			tr := a.tradeAt(m, j)
			if br.n == 0 {
				br.o, br.h, br.l = tr.p, tr.p, tr.p
			}
			br.h, br.l, br.c = max(br.h, tr.p), min(br.l, tr.p), tr.p
			br.v += tr.s
			br.n++
			pv += tr.p * tr.s
		}
	}
	br.v = roundSize(br.v)
	br.vw = min(max(sigRound(pv/br.v, 9, math.Round), br.l), br.h)
	return br
}

// sampledBar is a long bar over [from, to), sampled from the price path.
func (a *cryptoAsset) sampledBar(stamp, from, to time.Time) cryptoBar {
	mins := to.Sub(from).Minutes()
	vol := a.notional * 3.5 * mins / a.price(unixSeconds(from))
	sb := sampleBarRounded(stamp, from, to, 24, a.price, 1e6, 1, draw(a.hash, uint64(stamp.Unix())), a.round)
	br := cryptoBar{t: stamp, o: sb.o, h: sb.h, l: sb.l, c: sb.c}
	br.v = roundSize(vol * float64(sb.v) / 1e6)
	br.n = uint64(max(math.Round(mins*3.5), 1))
	br.vw = min(max(a.round((br.o+br.h+br.l+br.c)/4), br.l), br.h)
	return br
}
