package alpacasim

import (
	"time"
)

// Crypto bars tile UTC days (intraday), UTC days, weeks from Monday and
// calendar months.

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// cryptoPrevStamp is the last bar stamp at or before t.
func cryptoPrevStamp(tf timeframe, t time.Time) time.Time {
	d := utcDay(t)
	switch tf.unit {
	case tfMin, tfHour:
		dur := tf.duration()
		return d.Add(t.Sub(d) / dur * dur)
	case tfDay:
		return d
	case tfWeek:
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
	mi := d.Year()*12 + int(d.Month()) - 1
	mi -= mi % tf.n
	return time.Date(mi/12, time.Month(mi%12+1), 1, 0, 0, 0, 0, time.UTC)
}

// cryptoBarEnd is the end of the bar stamped t.
func cryptoBarEnd(tf timeframe, t time.Time) time.Time {
	switch tf.unit {
	case tfMin, tfHour:
		return earliest(t.Add(tf.duration()), utcDay(t).AddDate(0, 0, 1))
	case tfDay:
		return t.AddDate(0, 0, 1)
	case tfWeek:
		return t.AddDate(0, 0, 7)
	}
	return t.AddDate(0, tf.n, 0)
}

// cryptoNextStamp is the first bar stamp at or after t.
func cryptoNextStamp(tf timeframe, t time.Time) time.Time {
	p := cryptoPrevStamp(tf, t)
	if p.Equal(t) {
		return p
	}
	return cryptoBarEnd(tf, p)
}

// cryptoBarAt is a's bar stamped t as of now: intraday bars aggregate their
// trades, longer ones are sampled up to now.
func (a *cryptoAsset) barAt(tf timeframe, t, now time.Time) cryptoBar {
	end := cryptoBarEnd(tf, t)
	if tf.intraday() {
		return a.barOver(t, t, end)
	}
	return a.sampledBar(t, t, earliest(end, now))
}

// cryptoBarSeries has one event per bar of tf, complete (intraday) or
// begun (longer) by now.
func cryptoBarSeries(assets []*cryptoAsset, tf timeframe, now time.Time) *series {
	next := func(from, end time.Time) (time.Time, bool) {
		t := cryptoNextStamp(tf, from)
		return t, !t.After(end)
	}
	prev := func(from, start time.Time) (time.Time, bool) {
		t := cryptoPrevStamp(tf, from)
		return t, !t.Before(start)
	}
	times := func(_ int, m time.Time, buf []time.Time) []time.Time {
		if (tf.intraday() && cryptoBarEnd(tf, m).After(now)) || m.After(now) {
			return buf
		}
		return append(buf, m)
	}
	return &series{keys: assetKeys(assets), next: next, prev: prev, times: times}
}

func assetKeys(assets []*cryptoAsset) []string {
	keys := make([]string, len(assets))
	for i, a := range assets {
		keys[i] = a.symbol
	}
	return keys
}

// cryptoTickSeries is the trade or quote series of assets.
func cryptoTickSeries(assets []*cryptoAsset, trades bool) *series {
	times := func(i int, m time.Time, buf []time.Time) []time.Time { return assets[i].quoteTimes(m, buf) }
	if trades {
		times = func(i int, m time.Time, buf []time.Time) []time.Time { return assets[i].tradeTimes(m, buf) }
	}
	return &series{keys: assetKeys(assets), next: allMinutesNext, prev: allMinutesPrev, times: times}
}

func appendCryptoTrade(b []byte, tr cryptoTrade) []byte {
	b = append(b, `{"t":`...)
	b = appendTime(b, tr.t)
	b = comma(b)
	b = appendNum(b, "p", tr.p)
	b = comma(b)
	b = appendNum(b, "s", tr.s)
	b = comma(b)
	b = appendUint(b, "i", tr.id)
	b = append(b, `,"tks":`...)
	b = appendStr(b, tr.side)
	return append(b, '}')
}

func appendCryptoQuote(b []byte, q cryptoQuote) []byte {
	b = append(b, `{"t":`...)
	b = appendTime(b, q.t)
	b = comma(b)
	b = appendNum(b, "bp", q.bid)
	b = comma(b)
	b = appendNum(b, "bs", q.bs)
	b = comma(b)
	b = appendNum(b, "ap", q.ask)
	b = comma(b)
	b = appendNum(b, "as", q.as)
	return append(b, '}')
}

// appendCryptoBar appends a crypto bar: a stock bar's fields, but a
// fractional volume.
func appendCryptoBar(b []byte, br cryptoBar) []byte {
	b = appendBarHead(b, br.t, br.o, br.h, br.l, br.c)
	b = appendNum(b, "v", br.v)
	return appendBarTail(b, br.n, br.vw)
}
