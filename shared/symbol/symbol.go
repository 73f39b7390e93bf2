// Package symbol validates and normalises the identifiers that reach cache
// keys and origin URLs: stock symbols, OCC option symbols, crypto pairs and
// perpetual futures. The API and
// the prefetch job use the same rules, so they read and write the same keys
// and no unvalidated byte reaches either.
//
// Both functions look at bytes, not runes: any byte outside printable ASCII
// rejects the input before it is transformed, so no Unicode case mapping
// (which can change a string's length, as 'ſ' upper-casing to 'S' does) ever
// applies, and a normalised symbol always has the length of its input.
package symbol

import (
	"strings"
	"time"
)

// MaxStockLen is the longest stock symbol accepted.
const MaxStockLen = 10

// upperASCII returns s with a–z upper-cased and reports whether every byte
// of s is printable ASCII (0x21–0x7e). On false the result is "".
func upperASCII(s string) (string, bool) {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c <= ' ' || c >= 0x7f:
			return "", false
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b), true
}

// Stock upper-cases s and reports whether it is a stock symbol: 1–10
// characters of ASCII letters and digits, optionally joined by single '.'
// or '-' (BRK.B, BF-B), starting and ending with a letter or digit. Any
// non-ASCII byte rejects s.
func Stock(s string) (string, bool) {
	if len(s) == 0 || len(s) > MaxStockLen {
		return "", false
	}
	u, ok := upperASCII(s)
	if !ok {
		return "", false
	}
	prevSep := true
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
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
	return u, true
}

// OCC upper-cases s and reports whether it is an OCC option symbol:
// root (1–6 ASCII letters) + YYMMDD (a real date) + C|P + strike × 1000 as
// 8 digits, e.g. AAPL240426C00152500. Any non-ASCII byte rejects s.
func OCC(s string) (string, bool) {
	n := len(s)
	if n < 16 || n > 21 {
		return "", false
	}
	u, ok := upperASCII(s)
	if !ok {
		return "", false
	}
	root := u[:n-15]
	for i := 0; i < len(root); i++ {
		if c := root[i]; c < 'A' || c > 'Z' {
			return "", false
		}
	}
	date, cp, strike := u[n-15:n-9], u[n-9], u[n-8:]
	if cp != 'C' && cp != 'P' || !digits(date) || !digits(strike) {
		return "", false
	}
	if _, err := time.Parse("060102", date); err != nil {
		return "", false
	}
	return u, true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// Crypto upper-cases s and reports whether it is a crypto pair as Alpaca
// spells it: a base and a quote currency, each 1–10 ASCII letters or
// digits, joined by '/' (BTC/USD, ETH/BTC).
func Crypto(s string) (string, bool) {
	base, quote, ok := strings.Cut(s, "/")
	if !ok || !code(base, 10) || !code(quote, 10) {
		return "", false
	}
	return upperASCII(s)
}

// Perp upper-cases s and reports whether it is a perpetual future as
// Alpaca spells it: 1–10 ASCII letters or digits followed by -PERP
// (BTC-PERP).
func Perp(s string) (string, bool) {
	u, ok := upperASCII(s)
	if !ok {
		return "", false
	}
	base, found := strings.CutSuffix(u, "-PERP")
	if !found || !code(base, 10) {
		return "", false
	}
	return u, true
}

// code reports whether s is 1–max ASCII letters or digits.
func code(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}
