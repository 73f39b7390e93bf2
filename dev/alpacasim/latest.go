package alpacasim

import "time"

// The latest stock endpoints: quotes, trades and bars, one symbol or many.
// Each answers the last event at or before now (15 minutes ago for
// feed=delayed_sip) of the same series the history endpoints walk.

// latestKind is one kind of latest answer: its field names and how to
// append st's latest item at now; ok false when there is none.
type latestKind struct {
	one, many string // "quote", "quotes"
	app       func(s *Server, b []byte, st *stock, now time.Time, feed string) ([]byte, bool)
}

var (
	latestQuoteKind = latestKind{"quote", "quotes", (*Server).appendLatestQuote}
	latestTradeKind = latestKind{"trade", "trades", (*Server).appendLatestTrade}
	latestBarKind   = latestKind{"bar", "bars", (*Server).appendLatestBar}
)

func (s *Server) appendLatestQuote(b []byte, st *stock, now time.Time, feed string) ([]byte, bool) {
	_, _, t, ok := s.stockSeries([]*stock{st}, false).latest(0, now, lookback)
	if !ok {
		return b, false
	}
	return appendStockQuoteJSON(b, s.stockQuoteAt(st, t, feed), st.tape), true
}

func (s *Server) appendLatestTrade(b []byte, st *stock, now time.Time, feed string) ([]byte, bool) {
	m, j, _, ok := s.stockSeries([]*stock{st}, true).latest(0, now, lookback)
	if !ok {
		return b, false
	}
	return appendStockTrade(b, s.stockTradeAt(st, m, j, feed), st.tape), true
}

// lastMinute is the last complete minute bar's stamp at now.
func (s *Server) lastMinute(now time.Time) (time.Time, bool) {
	_, prev := s.sessionMinutes(extendedOpen, extendedClose)
	return prev(now.Add(-time.Minute), now.Add(-lookback))
}

func (s *Server) appendLatestBar(b []byte, st *stock, now time.Time, _ string) ([]byte, bool) {
	m, ok := s.lastMinute(now)
	if !ok {
		return b, false
	}
	return appendBar(b, s.stockMinuteBar(st, m)), true
}

// latestOne answers /v2/stocks/{symbol}/<kind>/latest:
// {"symbol":"AAPL","<one>":{...}}; an unknown symbol is a 404.
func (s *Server) latestOne(b []byte, req request, k latestKind) ([]byte, *apiError) {
	st, feed, now, e := s.latestStock(req)
	if e != nil {
		return nil, e
	}
	b = append(b, `{"symbol":`...)
	b = appendStr(b, st.symbol)
	b = append(b, `,"`...)
	b = append(b, k.one...)
	b = append(b, `":`...)
	b, ok := k.app(s, b, st, now, feed)
	if !ok {
		return nil, notFound("symbol not found: " + req.param)
	}
	return append(b, '}'), nil
}

// latestMany answers /v2/stocks/<kind>/latest?symbols=:
// {"<many>":{"AAPL":{...},...}}, unknown symbols left out.
func (s *Server) latestMany(b []byte, req request, k latestKind) ([]byte, *apiError) {
	syms, feed, now, e := latestSymbols(req)
	if e != nil {
		return nil, e
	}
	b = append(b, `{"`...)
	b = append(b, k.many...)
	b = append(b, `":{`...)
	first := true
	for _, sym := range syms {
		st, ok := s.lookup(sym)
		if !ok {
			continue
		}
		mark := len(b)
		if !first {
			b = comma(b)
		}
		b = appendKey(b, st.symbol)
		if b, ok = k.app(s, b, st, now, feed); !ok {
			b = b[:mark]
			continue
		}
		first = false
	}
	return append(b, "}}"...), nil
}

func (s *Server) stockQuote(b []byte, req request) ([]byte, *apiError) {
	return s.latestOne(b, req, latestQuoteKind)
}

func (s *Server) stockQuotes(b []byte, req request) ([]byte, *apiError) {
	return s.latestMany(b, req, latestQuoteKind)
}

func (s *Server) stockLatestTrade(b []byte, req request) ([]byte, *apiError) {
	return s.latestOne(b, req, latestTradeKind)
}

func (s *Server) stockLatestTrades(b []byte, req request) ([]byte, *apiError) {
	return s.latestMany(b, req, latestTradeKind)
}

func (s *Server) stockLatestBar(b []byte, req request) ([]byte, *apiError) {
	return s.latestOne(b, req, latestBarKind)
}

func (s *Server) stockLatestBars(b []byte, req request) ([]byte, *apiError) {
	return s.latestMany(b, req, latestBarKind)
}
