package alpacasim

import (
	"net/url"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// Forex: /v1beta1/forex/latest/rates and /v1beta1/forex/rates. A pair's
// rate exists at each whole minute (or bar stamp of the timeframe, tiled as
// crypto bars are) while the market is open, Sunday 17:00 to Friday 17:00
// New York time; the latest rate is the last one at or before now. A rate is
// {"bp","mp","ap","t"}: bid, mid and ask.

var forexListings = [...]cryptoListing{
	{"AUDUSD", 0.655}, {"EURCHF", 0.935}, {"EURGBP", 0.865}, {"EURJPY", 162}, {"EURUSD", 1.085},
	{"GBPJPY", 188}, {"GBPUSD", 1.265}, {"NZDUSD", 0.595}, {"USDCAD", 1.37}, {"USDCHF", 0.865},
	{"USDCNH", 7.25}, {"USDHKD", 7.8}, {"USDJPY", 151}, {"USDMXN", 18.2}, {"USDSGD", 1.34},
}

func (s *Server) forexAssets() map[string]*cryptoAsset {
	s.forexOnce.Do(func() {
		s.forex = make(map[string]*cryptoAsset)
		for _, l := range forexListings {
			a := newCryptoAsset(s.seed, "fx:"+l.symbol, l.base, false)
			a.symbol = l.symbol
			for i := range a.path.amp {
				a.path.amp[i] *= 0.25 // currencies move less than crypto
			}
			s.forex[l.symbol] = a
		}
	})
	return s.forex
}

// forexOpen reports whether the forex market is open at t.
func forexOpen(t time.Time) bool {
	ny := t.In(market.NewYork)
	switch ny.Weekday() {
	case time.Saturday:
		return false
	case time.Friday:
		return ny.Hour() < 17
	case time.Sunday:
		return ny.Hour() >= 17
	}
	return true
}

func appendRate(b []byte, a *cryptoAsset, t time.Time) []byte {
	mid := a.price(unixSeconds(t))
	hs := (0.3 + 0.7*unit(a.hash, uint64(t.Unix()))) / 1e4
	b = append(b, '{')
	b = appendNum(b, "bp", a.floor(mid*(1-hs)))
	b = comma(b)
	b = appendNum(b, "mp", a.round(mid))
	b = comma(b)
	b = appendNum(b, "ap", a.ceil(mid*(1+hs)))
	b = append(b, `,"t":`...)
	b = appendTime(b, t)
	return append(b, '}')
}

// forexPairs parses currency_pairs: known pairs, sorted; unknown well-formed
// pairs left out.
func (s *Server) forexPairs(q url.Values) ([]*cryptoAsset, *apiError) {
	qq := url.Values{"symbols": {q.Get("currency_pairs")}}
	if qq.Get("symbols") == "" {
		return nil, badRequest("currency_pairs is required")
	}
	pairs, e := symbolList(qq, func(p string) bool { return len(p) == 6 && strings.ToUpper(p) == p && upperAlnum(p) }, 0)
	if e != nil {
		return nil, e
	}
	var out []*cryptoAsset
	for _, p := range pairs {
		if a, ok := s.forexAssets()[p]; ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// forexSeries has one rate per open bar stamp of tf.
func forexSeries(assets []*cryptoAsset, tf timeframe, now time.Time) *series {
	sr := cryptoBarSeries(assets, tf, now)
	sr.times = func(_ int, m time.Time, buf []time.Time) []time.Time {
		if m.After(now) || !forexOpen(m) {
			return buf
		}
		return append(buf, m)
	}
	return sr
}

// forexLatest answers GET /v1beta1/forex/latest/rates?currency_pairs=.
func (s *Server) forexLatest(b []byte, req request) ([]byte, *apiError) {
	assets, e := s.forexPairs(req.r.URL.Query())
	if e != nil {
		return nil, e
	}
	b = append(b, `{"rates":{`...)
	sr := forexSeries(assets, timeframe{1, tfMin}, req.now)
	for i, a := range assets {
		_, _, t, ok := sr.latest(i, req.now, 4*24*time.Hour)
		if !ok {
			continue
		}
		if b[len(b)-1] != '{' {
			b = comma(b)
		}
		b = appendKey(b, a.symbol)
		b = appendRate(b, a, t)
	}
	return append(b, "}}"...), nil
}

// forexRates answers GET /v1beta1/forex/rates: {"next_page_token":...,
// "rates":{"USDJPY":[...]}}; timeframe is 1Min (1T, the default) or 1Day
// (1D), as Alpaca documents; its 5Sec is not simulated (a 400).
func (s *Server) forexRates(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	assets, e := s.forexPairs(q)
	if e != nil {
		return nil, e
	}
	hq, e := parseHistQuery(q, req.now, 1000, 10000)
	if e != nil {
		return nil, e
	}
	tf := timeframe{1, tfMin}
	if v := q.Get("timeframe"); v != "" {
		var ok bool
		if tf, ok = parseTimeframe(v); !ok || tf.n != 1 || (tf.unit != tfMin && tf.unit != tfDay) {
			return nil, badRequest("invalid timeframe")
		}
	}
	w := newMapWriter(nil)
	next := forexSeries(assets, tf, req.now).walk(hq, req.now, func(i int, m time.Time, _ int, _ time.Time) {
		w.item(i, assets[i].symbol)
		w.b = appendRate(w.b, assets[i], m)
	})
	b = append(b, '{')
	b = appendToken(b, next)
	b = append(b, `,"rates":`...)
	return append(append(b, w.close()...), '}'), nil
}
