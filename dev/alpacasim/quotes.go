package alpacasim

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// validStockSymbol reports whether s is a well-formed stock symbol: 1–21
// characters, letters, digits, '.', '/' or '-', starting with a letter or a
// digit. Well-formed does not mean known.
func validStockSymbol(s string) bool {
	if len(s) == 0 || len(s) > 21 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '/' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// invalidSymbol is the 400 for a malformed symbol; the message quotes at most
// 32 bytes of it.
func invalidSymbol(s string) *apiError {
	if len(s) > 32 {
		s = s[:32]
	}
	return badRequest("invalid symbol: " + s)
}

// symbolList parses the required comma-separated "symbols" parameter: empty
// items are skipped, duplicates removed, the result sorted. valid checks each
// item's form; max > 0 caps the count.
func symbolList(q url.Values, valid func(string) bool, maxCount int) ([]string, *apiError) {
	raw := q.Get("symbols")
	if raw == "" {
		return nil, badRequest("symbols is required")
	}
	var out []string
	for sym := range strings.SplitSeq(raw, ",") {
		if sym == "" {
			continue
		}
		if !valid(sym) {
			return nil, invalidSymbol(sym)
		}
		out = append(out, sym)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, badRequest("symbols is required")
	}
	if maxCount > 0 && len(out) > maxCount {
		return nil, badRequest("too many symbols: the maximum is " + strconv.Itoa(maxCount))
	}
	return out, nil
}

// stockFeed validates the feed parameter of the latest endpoints and returns
// the delay it implies.
func stockFeed(q url.Values) (feed string, delay time.Duration, e *apiError) {
	feed = q.Get("feed")
	switch feed {
	case "", "sip", "iex", "otc", "boats", "overnight":
	case "delayed_sip":
		delay = 15 * time.Minute
	default:
		return "", 0, badRequest("invalid feed")
	}
	if c := q.Get("currency"); c != "" && c != "USD" {
		return "", 0, badRequest("unsupported currency")
	}
	return feed, delay, nil
}

// stockSession is the latest extended session at an instant.
type stockSession struct {
	day    market.DayHours
	anchor time.Time // now inside a session, else the end of the last one
	ok     bool
}

func (s *Server) stockSessionAt(now time.Time) stockSession {
	day, _, anchor, ok := s.days.lastSession(now, extendedOpen, extendedClose)
	return stockSession{day, anchor, ok}
}

var stockExchanges = [...]string{"V", "Q", "N", "P", "K", "Z", "J", "Y", "T", "U", "H", "X", "A"}

// appendStockQuote appends the latest quote of st as of ss: an object with
// Alpaca's fields t ax ap as bx bp bs c z, stamped at most 1.5 s before the
// anchor and never before the session opened.
func appendStockQuote(b []byte, st *stock, ss stockSession, feed string) []byte {
	hq := draw(st.hash, uint64(ss.anchor.UnixMilli()))
	t := ss.anchor.Add(-time.Duration(1e6 + hq%1.5e9))
	if t.Before(ss.day.PreOpen) {
		t = ss.day.PreOpen
	}
	mid := st.price(unixSeconds(t))
	hs := st.halfSpread * (0.6 + 0.8*unit(hq, 1))
	if t.Before(ss.day.Open) || !t.Before(ss.day.Close) {
		hs *= 4 // extended hours: thinner books
	}
	bid := max(floor2(mid*(1-hs)), 0.01)
	ask := ceil2(mid * (1 + hs))
	if ask <= bid {
		ask = round2(bid + 0.01)
	}
	ax, bx := "V", "V"
	if feed != "iex" {
		ax = stockExchanges[draw(hq, 2)%uint64(len(stockExchanges))]
		bx = stockExchanges[draw(hq, 3)%uint64(len(stockExchanges))]
	}
	b = append(b, `{"t":`...)
	b = appendTime(b, t)
	b = append(b, `,"ax":`...)
	b = appendStr(b, ax)
	b = comma(b)
	b = appendNum(b, "ap", ask)
	b = comma(b)
	b = appendUint(b, "as", 100*(1+draw(hq, 4)%12))
	b = append(b, `,"bx":`...)
	b = appendStr(b, bx)
	b = comma(b)
	b = appendNum(b, "bp", bid)
	b = comma(b)
	b = appendUint(b, "bs", 100*(1+draw(hq, 5)%12))
	b = append(b, `,"c":["R"],"z":`...)
	b = appendStr(b, st.tape)
	return append(b, '}')
}

// stockQuote answers GET /v2/stocks/{symbol}/quotes/latest:
// {"symbol":"AAPL","quote":{...}}.
func (s *Server) stockQuote(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	feed, delay, e := stockFeed(q)
	if e != nil {
		return nil, e
	}
	if !validStockSymbol(req.param) {
		return nil, invalidSymbol(req.param)
	}
	st, ok := s.lookup(req.param)
	ss := s.stockSessionAt(req.now.Add(-delay))
	if !ok || !ss.ok {
		return nil, notFound("symbol not found: " + req.param)
	}
	b = append(b, `{"symbol":`...)
	b = appendStr(b, st.symbol)
	b = append(b, `,"quote":`...)
	b = appendStockQuote(b, st, ss, feed)
	return append(b, '}'), nil
}

// stockQuotes answers GET /v2/stocks/quotes/latest?symbols=:
// {"quotes":{"AAPL":{...},...}}, unknown symbols left out.
func (s *Server) stockQuotes(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	feed, delay, e := stockFeed(q)
	if e != nil {
		return nil, e
	}
	syms, e := symbolList(q, validStockSymbol, 0)
	if e != nil {
		return nil, e
	}
	ss := s.stockSessionAt(req.now.Add(-delay))
	b = append(b, `{"quotes":{`...)
	first := true
	for _, sym := range syms {
		st, ok := s.lookup(sym)
		if !ok || !ss.ok {
			continue
		}
		if !first {
			b = comma(b)
		}
		first = false
		b = appendKey(b, st.symbol)
		b = appendStockQuote(b, st, ss, feed)
	}
	return append(b, "}}"...), nil
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
