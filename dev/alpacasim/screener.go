package alpacasim

import (
	"cmp"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// The screener: /v1beta1/screener/stocks/most-actives ranks the known stocks
// by the volume or trade count of their latest daily bar (the snapshot's
// dailyBar); /v1beta1/screener/{stocks,crypto}/movers ranks by the change of
// the latest price (stocks: the daily bar's close; crypto: the latest trade)
// against the previous daily close. last_updated is now.

// screenerTop parses top: 1–max, default def.
func screenerTop(q url.Values, def, maxTop int) (int, *apiError) {
	v := q.Get("top")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxTop {
		return 0, badRequest("invalid top: must be between 1 and " + strconv.Itoa(maxTop))
	}
	return n, nil
}

// mostActives answers GET /v1beta1/screener/stocks/most-actives?by=&top=.
func (s *Server) mostActives(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	byTrades := false
	switch q.Get("by") {
	case "", "volume":
	case "trades":
		byTrades = true
	default:
		return nil, badRequest("invalid by: must be volume or trades")
	}
	top, e := screenerTop(q, 10, 100)
	if e != nil {
		return nil, e
	}
	type active struct {
		sym  string
		v, n uint64
	}
	var list []active
	if day, ok := s.lastDaily(req.now); ok {
		for _, st := range s.knownStocks(Universe()) {
			br := s.stockDaily(st, day, req.now)
			list = append(list, active{st.symbol, br.v, br.n})
		}
	}
	slices.SortFunc(list, func(a, b active) int {
		if byTrades {
			return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.sym, b.sym))
		}
		return cmp.Or(cmp.Compare(b.v, a.v), cmp.Compare(a.sym, b.sym))
	})
	b = append(b, `{"most_actives":[`...)
	for i, a := range list[:min(top, len(list))] {
		if i > 0 {
			b = comma(b)
		}
		b = append(b, `{"symbol":`...)
		b = appendStr(b, a.sym)
		b = comma(b)
		b = appendUint(b, "volume", a.v)
		b = comma(b)
		b = appendUint(b, "trade_count", a.n)
		b = append(b, '}')
	}
	b = append(b, `],"last_updated":`...)
	b = appendTime(b, req.now)
	return append(b, '}'), nil
}

// mover is one symbol's change.
type mover struct {
	sym                string
	price, change, pct float64
}

// stockMovers are the known stocks' daily changes.
func (s *Server) stockMovers(now time.Time) []mover {
	day, ok := s.lastDaily(now)
	if !ok {
		return nil
	}
	_, prev, ok := s.days.prevTrading(day)
	if !ok {
		return nil
	}
	var out []mover
	for _, st := range s.knownStocks(Universe()) {
		p, ref := s.stockDaily(st, day, now).c, s.stockDaily(st, prev, now).c
		out = append(out, mover{sym: st.symbol, price: p, change: round2(p - ref), pct: round2((p/ref - 1) * 100)})
	}
	return out
}

// cryptoMovers are the USD pairs' changes against the previous UTC close.
func (s *Server) cryptoMovers(now time.Time) []mover {
	var out []mover
	day := timeframe{1, tfDay}
	for _, sym := range CryptoSymbols() {
		a := s.cryptoAssets()[sym]
		if a.perp || s.isVanished(sym) || sym[len(sym)-4:] != "/USD" {
			continue
		}
		p := a.latestTrade(now).p
		ref := a.barAt(day, utcDay(now).AddDate(0, 0, -1), now).c
		out = append(out, mover{sym: sym, price: p, change: a.round(p - ref), pct: math.Round((p/ref-1)*1e4) / 100})
	}
	return out
}

// movers answers GET /v1beta1/screener/{market_type}/movers?top=.
func (s *Server) movers(b []byte, req request) ([]byte, *apiError) {
	var list []mover
	switch req.param {
	case "stocks":
		list = s.stockMovers(req.now)
	case "crypto":
		list = s.cryptoMovers(req.now)
	default:
		return nil, &apiError{http.StatusNotFound, 40410000, "endpoint not found"}
	}
	top, e := screenerTop(req.r.URL.Query(), 10, 50)
	if e != nil {
		return nil, e
	}
	slices.SortFunc(list, func(a, b mover) int { return cmp.Or(cmp.Compare(b.pct, a.pct), cmp.Compare(a.sym, b.sym)) })
	gainers := list[:min(top, len(list))]
	losers := slices.Clone(list)
	slices.Reverse(losers)
	losers = losers[:min(top, len(losers))]
	b = append(b, `{"gainers":`...)
	b = appendMovers(b, gainers, func(m mover) bool { return m.pct > 0 })
	b = append(b, `,"losers":`...)
	b = appendMovers(b, losers, func(m mover) bool { return m.pct < 0 })
	b = append(b, `,"market_type":`...)
	b = appendStr(b, req.param)
	b = append(b, `,"last_updated":`...)
	b = appendTime(b, req.now)
	return append(b, '}'), nil
}

// appendMovers appends the movers that keep passes.
func appendMovers(b []byte, list []mover, keep func(mover) bool) []byte {
	b = append(b, '[')
	n := 0
	for _, m := range list {
		if !keep(m) {
			continue
		}
		if n > 0 {
			b = comma(b)
		}
		n++
		b = append(b, `{"symbol":`...)
		b = appendStr(b, m.sym)
		b = comma(b)
		b = appendNum(b, "percent_change", m.pct)
		b = comma(b)
		b = appendNum(b, "change", m.change)
		b = comma(b)
		b = appendNum(b, "price", m.price)
		b = append(b, '}')
	}
	return append(b, ']')
}
