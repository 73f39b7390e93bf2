package api

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits on a request, checked before any cache or origin work.
const (
	MaxQueryLen      = 16 << 10 // bytes of raw query string
	MaxStockSymbols  = 1000     // per request
	MaxOptionSymbols = 100      // per request
	maxPageToken     = 1024
)

// badRequest is a 400 whose message a person can act on. It never carries
// more of the input than a short, sanitised excerpt.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{msg: fmt.Sprintf(format, args...)} }

// excerpt returns a printable, bounded rendering of user input for messages.
func excerpt(s string) string {
	const max = 24
	var b strings.Builder
	for i, r := range s {
		if i >= max {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || r > 0x7e {
			b.WriteString("?")
			continue
		}
		b.WriteRune(r)
	}
	return strconv.Quote(b.String())
}

// validTimeframe reports whether tf is one of Alpaca's bar timeframes:
// [1-59]Min|T, [1-23]Hour|H, 1Day|D, 1Week|W, [1,2,3,4,6,12]Month|M.
func validTimeframe(tf string) bool {
	_, ok := canonicalTimeframe(tf)
	return ok
}

// canonicalTimeframe validates tf as validTimeframe does and returns its
// one spelling per resolution: the count followed by Min, Hour, Day, Week
// or Month (5T and 5Min are both "5Min"), so equal timeframes share a key.
func canonicalTimeframe(tf string) (string, bool) {
	i := 0
	for i < len(tf) && tf[i] >= '0' && tf[i] <= '9' {
		i++
	}
	if i == 0 || i > 2 || tf[0] == '0' {
		return "", false
	}
	n, _ := strconv.Atoi(tf[:i])
	var unit string
	var ok bool
	switch tf[i:] {
	case "Min", "T":
		unit, ok = "Min", n <= 59
	case "Hour", "H":
		unit, ok = "Hour", n <= 23
	case "Day", "D":
		unit, ok = "Day", n == 1
	case "Week", "W":
		unit, ok = "Week", n == 1
	case "Month", "M":
		unit, ok = "Month", n == 1 || n == 2 || n == 3 || n == 4 || n == 6 || n == 12
	}
	if !ok {
		return "", false
	}
	return tf[:i] + unit, true
}

// parseTime accepts RFC 3339 or YYYY-MM-DD, as Alpaca does. dateOnly
// reports the second form.
func parseTime(s string) (t time.Time, dateOnly, ok bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, true
	}
	return time.Time{}, false, false
}

// timeKey is the cache-key form of a time parameter parsed by parseTime: a
// date stays the date (Alpaca gives a bare date its own meaning, which no
// single instant spells), an instant becomes UTC RFC 3339 without trailing
// fractional zeros, so 2026-11-27T14:30:00Z, 2026-11-27T09:30:00-05:00 and
// 2026-11-27T14:30:00.000Z share one key.
func timeKey(t time.Time, dateOnly bool) string {
	if dateOnly {
		return "d:" + t.Format(time.DateOnly)
	}
	return "t:" + t.UTC().Format(time.RFC3339Nano)
}

var stockFeeds = map[string]bool{"iex": true, "sip": true, "delayed_sip": true, "otc": true, "boats": true, "overnight": true}
var optionFeeds = map[string]bool{"opra": true, "indicative": true}
var adjustments = map[string]bool{"raw": true, "split": true, "dividend": true, "spin-off": true, "all": true}

// canonicalAdjustment validates a comma-combination of Alpaca's
// adjustments and returns its key form: Alpaca treats the combination as a
// set, so the names are de-duplicated and sorted ("split,dividend" and
// "dividend,split,split" are both "dividend,split").
func canonicalAdjustment(s string) (string, bool) {
	set := strings.Split(s, ",")
	for _, a := range set {
		if !adjustments[a] {
			return "", false
		}
	}
	slices.Sort(set)
	return strings.Join(slices.Compact(set), ","), true
}

// finiteDecimal parses a plain decimal number: an optional sign, digits
// with at most one '.', an optional exponent. Anything else (NaN, Inf,
// hexadecimal floats, '_' separators, a value beyond float64's range such
// as 1e400) is refused, so a number that reaches a cache key or the origin
// is always finite.
func finiteDecimal(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// validPageToken accepts the opaque, base64-like tokens Alpaca issues.
func validPageToken(s string) bool {
	if len(s) == 0 || len(s) > maxPageToken {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// query is a request's parsed query string: one value per name. A repeated
// name is a 400 (API Gateway would otherwise join the values with commas).
type query map[string]string

func parseQuery(raw string) (query, error) {
	if len(raw) > MaxQueryLen {
		return nil, badf("query string too long: at most %d bytes", MaxQueryLen)
	}
	q := query{}
	if raw == "" {
		return q, nil
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badf("malformed query string")
	}
	for k, v := range vals {
		if len(v) > 1 {
			return nil, badf("query parameter %s given more than once", excerpt(k))
		}
		q[k] = v[0]
	}
	return q, nil
}

// limit parses an optional integer parameter within [lo, hi]; absent, it
// is 0.
func (q query) limit(name string, lo, hi int) (int, error) {
	s, ok := q[name]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badf("%s must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

// number parses an optional finite decimal parameter within [lo, hi] and
// returns it with its key form (the shortest decimal spelling of the
// value, so 100, 100.0 and 1e2 share a key); "" when absent.
func (q query) number(name string, lo, hi float64) (key string, err error) {
	s, ok := q[name]
	if !ok {
		return "", nil
	}
	v, ok := finiteDecimal(s)
	if !ok || v < lo || v > hi {
		return "", badf("%s must be a decimal number from %g to %g", name, lo, hi)
	}
	if v == 0 {
		v = 0 // -0 is 0
	}
	return strconv.FormatFloat(v, 'f', -1, 64), nil
}

// oneOf checks an optional parameter against a set.
func (q query) oneOf(name string, set map[string]bool) (string, error) {
	s, ok := q[name]
	if !ok {
		return "", nil
	}
	if !set[s] {
		return "", badf("invalid %s %s", name, excerpt(s))
	}
	return s, nil
}

// timeArg is a parsed optional time parameter: the client's spelling
// (what the origin is sent), its key form (timeKey) and its value. All
// zero when absent.
type timeArg struct {
	raw, key string
	t        time.Time
}

// timeParam checks an optional RFC 3339 or YYYY-MM-DD parameter.
func (q query) timeParam(name string) (timeArg, error) {
	s, ok := q[name]
	if !ok {
		return timeArg{}, nil
	}
	t, dateOnly, ok := parseTime(s)
	if !ok {
		return timeArg{}, badf("%s must be RFC 3339 (2026-11-27T14:30:00Z) or YYYY-MM-DD, got %s", name, excerpt(s))
	}
	return timeArg{raw: s, key: timeKey(t, dateOnly), t: t}, nil
}

// symbolList splits a comma list into normalised, distinct valid symbols
// (in order) and the invalid entries. norm validates one symbol.
func symbolList(raw string, max int, norm func(string) (string, bool)) (valid, invalid []string, err error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil, badf("symbols is required: a comma-separated list")
	}
	parts := strings.Split(raw, ",")
	if len(parts) > max {
		return nil, nil, badf("too many symbols: at most %d per request", max)
	}
	seen := make(map[string]bool, len(parts))
	for _, p := range parts {
		s, ok := norm(strings.TrimSpace(p))
		switch {
		case !ok:
			invalid = append(invalid, p)
		case !seen[s]:
			seen[s] = true
			valid = append(valid, s)
		}
	}
	if len(valid) == 0 {
		return nil, nil, badf("no valid symbol in symbols")
	}
	return valid, invalid, nil
}
