package prefetch

import (
	"strings"
	"time"
)

// maxSymbolLen is the longest stock symbol the API accepts.
const maxSymbolLen = 10

// normSymbol upper-cases s and reports whether it is a stock symbol as the
// API accepts one (1–10 letters or digits, optionally joined by single '.'
// or '-'), so that prefetch writes exactly the keys the API reads and no
// unvalidated byte from configuration or Redis reaches a key.
func normSymbol(s string) (string, bool) {
	if len(s) == 0 || len(s) > maxSymbolLen {
		return "", false
	}
	b := []byte(s)
	prevSep := true
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
			prevSep = false
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			prevSep = false
		case c == '.' || c == '-':
			if prevSep {
				return "", false
			}
			prevSep = true
		default:
			return "", false
		}
	}
	if prevSep {
		return "", false
	}
	return string(b), true
}

// validOCC reports whether s is an upper-case OCC option symbol as the API
// accepts one: root (1–6 letters) + YYMMDD (a real date) + C|P + strike ×
// 1000 as 8 digits, e.g. SPY261127C00600000.
func validOCC(s string) bool {
	n := len(s)
	if n < 16 || n > 21 {
		return false
	}
	for i := 0; i < n-15; i++ {
		if c := s[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	date, cp, strike := s[n-15:n-9], s[n-9], s[n-8:]
	if cp != 'C' && cp != 'P' || !digits(date) || !digits(strike) {
		return false
	}
	_, err := time.Parse("060102", date)
	return err == nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// normList upper-cases and validates symbols, dropping repeats and
// returning the malformed ones apart.
func normList(symbols []string) (valid, bad []string) {
	seen := make(map[string]bool, len(symbols))
	for _, s := range symbols {
		n, ok := normSymbol(strings.TrimSpace(s))
		if !ok {
			bad = append(bad, s)
			continue
		}
		if !seen[n] {
			seen[n] = true
			valid = append(valid, n)
		}
	}
	return valid, bad
}
