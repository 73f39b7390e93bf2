package alpacasim

import (
	"math"
	"strconv"
	"time"
)

// The simulator writes its JSON by appending to a byte slice: the shapes are
// fixed, the strings are validated symbols and constants, and the load tests
// call it hard. Every string appended unescaped by these helpers is either a
// constant or a symbol that passed validStockSymbol or parseOCC.

// appendFloat formats f as encoding/json does: shortest representation that
// round-trips, exponent form only for very small or very large magnitudes.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		// Unreachable by construction; a JSON body must never carry them.
		return append(b, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendTime appends t as a quoted RFC 3339 timestamp in UTC with as many
// fractional digits as needed, Alpaca's format.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendNum appends "key":v.
func appendNum(b []byte, key string, v float64) []byte {
	b = appendKey(b, key)
	return appendFloat(b, v)
}

// appendUint appends "key":v.
func appendUint(b []byte, key string, v uint64) []byte {
	b = appendKey(b, key)
	return strconv.AppendUint(b, v, 10)
}

func comma(b []byte) []byte { return append(b, ',') }

// round2 rounds to cents; floor2 and ceil2 round down and up to cents.
func round2(x float64) float64 { return math.Round(x*100) / 100 }
func floor2(x float64) float64 { return math.Floor(x*100+1e-7) / 100 }
func ceil2(x float64) float64  { return math.Ceil(x*100-1e-7) / 100 }
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
