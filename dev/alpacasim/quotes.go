package alpacasim

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
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

// latestStock reads a single-symbol latest or snapshot request: the path's
// stock, the feed, and the instant answered (15 minutes back for
// delayed_sip). A bad feed is reported before a bad symbol.
func (s *Server) latestStock(req request) (*stock, string, time.Time, *apiError) {
	feed, delay, e := stockFeed(req.r.URL.Query())
	if e != nil {
		return nil, "", req.now, e
	}
	st, e := s.pathStock(req.param)
	if e != nil {
		return nil, "", req.now, e
	}
	return st, feed, req.now.Add(-delay), nil
}

// latestSymbols is latestStock for the multi-symbol forms: the symbols
// asked for, sorted and without repeats.
func latestSymbols(req request) ([]string, string, time.Time, *apiError) {
	q := req.r.URL.Query()
	feed, delay, e := stockFeed(q)
	if e != nil {
		return nil, "", req.now, e
	}
	syms, e := symbolList(q, validStockSymbol, 0)
	if e != nil {
		return nil, "", req.now, e
	}
	return syms, feed, req.now.Add(-delay), nil
}

var stockExchanges = [...]string{"V", "Q", "N", "P", "K", "Z", "J", "Y", "T", "U", "H", "X", "A"}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
