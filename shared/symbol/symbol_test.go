package symbol

import "testing"

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
	for _, s := range []string{"AAPL", "brk.b", "../x", "Ä", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Stock(s)
		if !ok {
			return
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
	for _, s := range []string{"AAPL240426C00152500", "spy261127p00600000", "X", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := OCC(s)
		if !ok {
			return
		}
		if again, ok := OCC(got); !ok || again != got {
			t.Fatalf("not idempotent: %q -> %q", s, got)
		}
		if n := len(got); n < 16 || n > 21 || (got[n-9] != 'C' && got[n-9] != 'P') {
			t.Fatalf("%q -> %q is not OCC", s, got)
		}
	})
}
