package symbol

import (
	"strings"
	"testing"
)

// nonASCII are inputs whose Unicode case mapping changes their length or
// turns them into ASCII: 'ſ' (U+017F) and 'ı' (U+0131) upper-case to 'S'
// and 'I', the Kelvin sign (U+212A) lower-cases to 'k', 'ß' upper-cases
// to "SS", and '\xff' is not UTF-8 at all.
var nonASCII = []string{
	strings.Repeat("ſ", 9) + "AB",
	strings.Repeat("ſ", 4) + "240426C00152500",
	"ſPY261127C00600000",
	"SPY261127C0060000ſ",
	"ſ", "ſſ", "ıBM", "\u212aO", "ßAPL", "AAPL\xff", "\xffPY261127C00600000", "ÄPPL",
}

func TestStock(t *testing.T) {
	good := map[string]string{"AAPL": "AAPL", "aapl": "AAPL", "brk.b": "BRK.B", "BF-B": "BF-B", "A": "A", "SPY": "SPY", "ABCDEFGHIJ": "ABCDEFGHIJ", "X1": "X1"}
	for in, want := range good {
		if got, ok := Stock(in); !ok || got != want {
			t.Errorf("Stock(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "ABCDEFGHIJK", ".", "-", ".A", "A.", "A..B", "A.-B", "A B", "A/B", "A:B", "Ä", "A\x00", "*", "A_B", "A,B"} {
		if got, ok := Stock(in); ok {
			t.Errorf("Stock(%q) accepted as %q", in, got)
		}
	}
}

// TestNonASCIIIsRejected: no input with a byte outside ASCII is accepted,
// and none panics, whatever its case mapping would do.
func TestNonASCIIIsRejected(t *testing.T) {
	for _, in := range nonASCII {
		if got, ok := Stock(in); ok {
			t.Errorf("Stock(%q) accepted as %q", in, got)
		}
		if got, ok := OCC(in); ok {
			t.Errorf("OCC(%q) accepted as %q", in, got)
		}
	}
}

func TestOCC(t *testing.T) {
	good := map[string]string{
		"AAPL240426C00152500":   "AAPL240426C00152500",
		"spy261127p00600000":    "SPY261127P00600000",
		"A260116C00010000":      "A260116C00010000",
		"GOOGLE261218C01000000": "GOOGLE261218C01000000",
	}
	for in, want := range good {
		if got, ok := OCC(in); !ok || got != want {
			t.Errorf("OCC(%q) = %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "AAPL", "AAPL240426X00152500", "AAPL241326C00152500", "AAPL240230C00152500",
		"AAPL240426C0015250", "AAPL240426C001525000", "AAPLXYZW240426C00152500", "AA1L240426C00152500", "240426C00152500", "AAPL24O426C00152500"} {
		if got, ok := OCC(in); ok {
			t.Errorf("OCC(%q) accepted as %q", in, got)
		}
	}
}

func FuzzStock(f *testing.F) {
	for _, s := range append([]string{"AAPL", "brk.b", "../x", "Ä", ""}, nonASCII...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Stock(s)
		if !ok {
			return
		}
		if want := upperOf(s); got != want {
			t.Fatalf("%q -> %q, want its ASCII upper-casing %q", s, got, want)
		}
		if len(got) < 1 || len(got) > 10 {
			t.Fatalf("%q -> %q: bad length", s, got)
		}
		for _, c := range []byte(got) {
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
				t.Fatalf("%q -> %q: bad byte %q", s, got, c)
			}
		}
		if again, ok := Stock(got); !ok || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

func FuzzOCC(f *testing.F) {
	for _, s := range append([]string{"AAPL240426C00152500", "spy261127p00600000", "X", ""}, nonASCII...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := OCC(s)
		if !ok {
			return
		}
		if want := upperOf(s); got != want {
			t.Fatalf("%q -> %q, want its ASCII upper-casing %q", s, got, want)
		}
		for _, c := range []byte(got) {
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Fatalf("%q -> %q: bad byte %q", s, got, c)
			}
		}
		if again, ok := OCC(got); !ok || again != got {
			t.Fatalf("not idempotent: %q -> %q", s, got)
		}
		if n := len(got); n < 16 || n > 21 || (got[n-9] != 'C' && got[n-9] != 'P') {
			t.Fatalf("%q -> %q is not OCC", s, got)
		}
	})
}

// upperOf upper-cases a–z byte by byte and marks every other byte outside
// ASCII as '\x00', so no symbol can equal it.
func upperOf(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 0x80:
			b[i] = 0
		}
	}
	return string(b)
}

func TestCryptoAndPerp(t *testing.T) {
	for _, c := range []struct {
		f    func(string) (string, bool)
		in   string
		want string
		ok   bool
	}{
		{Crypto, "BTC/USD", "BTC/USD", true},
		{Crypto, "eth/btc", "ETH/BTC", true},
		{Crypto, "BTCUSD", "", false},
		{Crypto, "BTC/", "", false},
		{Crypto, "/USD", "", false},
		{Crypto, "BTC/USD/X", "", false},
		{Crypto, "BTC/U$D", "", false},
		{Crypto, "ÅBC/USD", "", false},
		{Perp, "BTC-PERP", "BTC-PERP", true},
		{Perp, "eth-perp", "ETH-PERP", true},
		{Perp, "BTC", "", false},
		{Perp, "-PERP", "", false},
		{Perp, "BTC/USD-PERP", "", false},
	} {
		got, ok := c.f(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: got %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzCrypto(f *testing.F) {
	for _, s := range []string{"BTC/USD", "eth/btc", "/", "BTC-PERP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, norm := range []func(string) (string, bool){Crypto, Perp} {
			u, ok := norm(s)
			if !ok {
				continue
			}
			if len(u) != len(s) || u != upperOf(s) {
				t.Fatalf("%q normalised to %q", s, u)
			}
			if again, ok := norm(u); !ok || again != u {
				t.Fatalf("not idempotent: %q -> %q", u, again)
			}
		}
	})
}
