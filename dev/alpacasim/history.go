package alpacasim

import (
	"net/url"
	"time"
)

// Stock history: /v2/stocks/{trades,quotes}, one symbol or many. The limit
// counts items across symbols; pages run symbol by symbol.

// stockHistQuery validates a stock history request and returns the instant
// the feed shows as now.
func stockHistQuery(q url.Values, now time.Time) (histQuery, string, time.Time, *apiError) {
	hq, e := parseHistQuery(q, now, 1000, 10000)
	if e != nil {
		return hq, "", now, e
	}
	feed := q.Get("feed")
	switch feed {
	case "", "sip", "iex", "otc", "boats":
	case "delayed_sip":
		now = now.Add(-15 * time.Minute)
	default:
		return hq, "", now, badRequest("invalid feed")
	}
	if c := q.Get("currency"); c != "" && c != "USD" {
		return hq, "", now, badRequest("unsupported currency")
	}
	if !validAsOf(q.Get("asof")) {
		return hq, "", now, badRequest("invalid asof")
	}
	return hq, feed, now, nil
}

// stockItem appends trade or quote j of bucket m, stamped t.
func (s *Server) stockItem(b []byte, st *stock, trades bool, m time.Time, j int, t time.Time, feed string) []byte {
	if trades {
		return appendStockTrade(b, s.stockTradeAt(st, m, j, feed), st.tape)
	}
	return appendStockQuoteJSON(b, s.stockQuoteAt(st, t, feed), st.tape)
}

// knownStocks returns the stocks of syms that are known and present.
func (s *Server) knownStocks(syms []string) []*stock {
	known := make([]*stock, 0, len(syms))
	for _, sym := range syms {
		if st, ok := s.lookup(sym); ok {
			known = append(known, st)
		}
	}
	return known
}

// queryStocks is the known stocks among the query's symbols, in symbol
// order; an invalid or missing symbols parameter is a 400.
func (s *Server) queryStocks(q url.Values) ([]*stock, *apiError) {
	syms, e := symbolList(q, validStockSymbol, 0)
	if e != nil {
		return nil, e
	}
	return s.knownStocks(syms), nil
}

// pathStock is the stock a path's {symbol} names: a 400 when sym is not a
// stock symbol, a 404 when the simulator does not list it.
func (s *Server) pathStock(sym string) (*stock, *apiError) {
	if !validStockSymbol(sym) {
		return nil, invalidSymbol(sym)
	}
	st, ok := s.lookup(sym)
	if !ok {
		return nil, notFound("symbol not found: " + sym)
	}
	return st, nil
}

// stockHistoryMany answers /v2/stocks/<field>?symbols=:
// {"<field>":{"AAPL":[...]},"next_page_token":...}.
func (s *Server) stockHistoryMany(b []byte, req request, field string) ([]byte, *apiError) {
	q := req.r.URL.Query()
	hq, feed, now, e := stockHistQuery(q, req.now)
	if e != nil {
		return nil, e
	}
	known, e := s.queryStocks(q)
	if e != nil {
		return nil, e
	}
	trades := field == "trades"
	b = append(b, `{"`...)
	b = append(b, field...)
	b = append(b, `":`...)
	w := newMapWriter(b)
	next := s.stockSeries(known, trades).walk(hq, now, func(i int, m time.Time, j int, t time.Time) {
		w.item(i, known[i].symbol)
		w.b = s.stockItem(w.b, known[i], trades, m, j, t, feed)
	})
	b = comma(w.close())
	b = appendToken(b, next)
	return append(b, '}'), nil
}

// stockHistoryOne answers /v2/stocks/{symbol}/<field>:
// {"<field>":[...],"symbol":"AAPL","next_page_token":...}.
func (s *Server) stockHistoryOne(b []byte, req request, field string) ([]byte, *apiError) {
	hq, feed, now, e := stockHistQuery(req.r.URL.Query(), req.now)
	if e != nil {
		return nil, e
	}
	st, e := s.pathStock(req.param)
	if e != nil {
		return nil, e
	}
	trades := field == "trades"
	b = append(b, `{"`...)
	b = append(b, field...)
	b = append(b, `":`...)
	w := &listWriter{b: b}
	next := s.stockSeries([]*stock{st}, trades).walk(hq, now, func(_ int, m time.Time, j int, t time.Time) {
		w.item()
		w.b = s.stockItem(w.b, st, trades, m, j, t, feed)
	})
	b = append(w.close(), `,"symbol":`...)
	b = appendStr(b, st.symbol)
	b = comma(b)
	b = appendToken(b, next)
	return append(b, '}'), nil
}

func (s *Server) stockTrades(b []byte, req request) ([]byte, *apiError) {
	return s.stockHistoryOne(b, req, "trades")
}

func (s *Server) stockMultiTrades(b []byte, req request) ([]byte, *apiError) {
	return s.stockHistoryMany(b, req, "trades")
}

func (s *Server) stockQuoteHistory(b []byte, req request) ([]byte, *apiError) {
	return s.stockHistoryOne(b, req, "quotes")
}

func (s *Server) stockMultiQuotes(b []byte, req request) ([]byte, *apiError) {
	return s.stockHistoryMany(b, req, "quotes")
}
