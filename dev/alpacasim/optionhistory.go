package alpacasim

import (
	"net/url"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// The option history routes: /v1beta1/options/bars, /v1beta1/options/trades
// and /v1beta1/options/trades/latest. Contracts are those listed today;
// unknown ones are left out.

// optionContracts parses the symbols of an option request and returns the
// listed contracts with their symbols, sorted.
func (s *Server) optionContracts(q url.Values, now time.Time) ([]listed, []string, *apiError) {
	if e := optionFeed(q); e != nil {
		return nil, nil, e
	}
	syms, e := symbolList(q, validOCC, maxOptionSymbols)
	if e != nil {
		return nil, nil, e
	}
	exps := s.expirations(market.DateOf(now))
	var ls []listed
	var keys []string
	for _, sym := range syms {
		if l, ok := s.findContract(sym, exps); ok {
			ls = append(ls, l)
			keys = append(keys, sym)
		}
	}
	return ls, keys, nil
}

// optionBarSeries has one event per bar of tf that is visible at now and
// holds trades; bar returns it (computed once per walk step).
func (s *Server) optionBarSeries(ls []listed, keys []string, tf timeframe, now time.Time) (*series, func(i int, m time.Time) bar) {
	var cached bar
	var cachedKey = -1
	compute := func(i int, m time.Time) (bar, bool) {
		a, z := s.optionBarSpan(tf, m)
		return s.optionAggregate(ls[i], m, a, z, now)
	}
	next := func(from, end time.Time) (time.Time, bool) {
		t, ok := s.after(tf, from, market.DateOf(end))
		return t, ok && !t.After(end)
	}
	prev := func(from, start time.Time) (time.Time, bool) {
		t, ok := s.before(tf, from, market.DateOf(start))
		return t, ok && !t.Before(start)
	}
	times := func(i int, m time.Time, buf []time.Time) []time.Time {
		if !s.visible(tf, m, now) {
			return buf
		}
		br, ok := compute(i, m)
		if !ok {
			return buf
		}
		cached, cachedKey = br, i
		return append(buf, m)
	}
	get := func(i int, m time.Time) bar {
		if cachedKey == i && cached.t.Equal(m) {
			return cached
		}
		br, _ := compute(i, m)
		return br
	}
	return &series{keys: keys, next: next, prev: prev, times: times}, get
}

// optionHistory answers /v1beta1/options/{bars,trades}:
// {"<kind>":{OCC:[...]},"next_page_token":...}.
func (s *Server) optionHistory(b []byte, req request, kind string) ([]byte, *apiError) {
	q := req.r.URL.Query()
	ls, keys, e := s.optionContracts(q, req.now)
	if e != nil {
		return nil, e
	}
	hq, e := parseHistQuery(q, req.now, 1000, 10000)
	if e != nil {
		return nil, e
	}
	var sr *series
	var barOf func(int, time.Time) bar
	if kind == "bars" {
		tf, ok := parseTimeframe(q.Get("timeframe"))
		if !ok {
			return nil, badRequest("invalid timeframe")
		}
		sr, barOf = s.optionBarSeries(ls, keys, tf, req.now)
	} else {
		sr = s.optionTradeSeries(ls, keys)
	}
	b = append(b, `{"`...)
	b = append(b, kind...)
	b = append(b, `":`...)
	w := newMapWriter(b)
	next := sr.walk(hq, req.now, func(i int, m time.Time, j int, _ time.Time) {
		w.item(i, keys[i])
		if barOf != nil {
			w.b = appendBar(w.b, barOf(i, m))
		} else {
			w.b = appendOptionTrade(w.b, ls[i].tradeAt(m, j))
		}
	})
	b = comma(w.close())
	b = appendToken(b, next)
	return append(b, '}'), nil
}

// optionLatestTrades answers /v1beta1/options/trades/latest:
// {"trades":{OCC:{...}}}, contracts without a recent trade left out.
func (s *Server) optionLatestTrades(b []byte, req request) ([]byte, *apiError) {
	ls, keys, e := s.optionContracts(req.r.URL.Query(), req.now)
	if e != nil {
		return nil, e
	}
	b = append(b, `{"trades":{`...)
	first := true
	for i, l := range ls {
		tr, ok := s.latestOptionTrade(l, req.now)
		if !ok {
			continue
		}
		if !first {
			b = comma(b)
		}
		first = false
		b = appendKey(b, keys[i])
		b = appendOptionTrade(b, tr)
	}
	return append(b, "}}"...), nil
}

func (s *Server) optionBars(b []byte, req request) ([]byte, *apiError) {
	return s.optionHistory(b, req, "bars")
}

func (s *Server) optionTrades(b []byte, req request) ([]byte, *apiError) {
	return s.optionHistory(b, req, "trades")
}
