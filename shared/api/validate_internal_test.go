package api

import "testing"

func TestNormSymbol(t *testing.T) {
	good := map[string]string{"AAPL": "AAPL", "aapl": "AAPL", "brk.b": "BRK.B", "BF-B": "BF-B", "A": "A", "SPY": "SPY", "ABCDEFGHIJ": "ABCDEFGHIJ", "X1": "X1"}
	for in, want := range good {
		if got, ok := normSymbol(in); !ok || got != want {
			t.Errorf("normSymbol(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "ABCDEFGHIJK", ".", "-", ".A", "A.", "A..B", "A.-B", "A B", "A/B", "A:B", "Ä", "A\x00", "*", "A_B", "A,B"} {
		if got, ok := normSymbol(in); ok {
			t.Errorf("normSymbol(%q) accepted as %q", in, got)
		}
	}
}

func TestNormOCC(t *testing.T) {
	good := map[string]string{
		"AAPL240426C00152500":   "AAPL240426C00152500",
		"spy261127p00600000":    "SPY261127P00600000",
		"A260116C00010000":      "A260116C00010000",
		"GOOGLE261218C01000000": "GOOGLE261218C01000000",
	}
	for in, want := range good {
		if got, ok := normOCC(in); !ok || got != want {
			t.Errorf("normOCC(%q) = %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "AAPL", "AAPL240426X00152500", "AAPL241326C00152500", "AAPL240230C00152500",
		"AAPL240426C0015250", "AAPL240426C001525000", "AAPLXYZW240426C00152500", "AA1L240426C00152500", "240426C00152500", "AAPL24O426C00152500"} {
		if got, ok := normOCC(in); ok {
			t.Errorf("normOCC(%q) accepted as %q", in, got)
		}
	}
}

func TestValidTimeframe(t *testing.T) {
	for _, tf := range []string{"1Min", "59Min", "5T", "1Hour", "23Hour", "4H", "1Day", "1D", "1Week", "1W", "1Month", "2Month", "3M", "4Month", "6Month", "12Month"} {
		if !validTimeframe(tf) {
			t.Errorf("%s rejected", tf)
		}
	}
	for _, tf := range []string{"", "Min", "0Min", "60Min", "01Min", "24Hour", "2Day", "2Week", "5Month", "7M", "1min", "1Sec", "100Min", "1Year", "-1Min"} {
		if validTimeframe(tf) {
			t.Errorf("%s accepted", tf)
		}
	}
}

func TestParseQueryRejectsDuplicates(t *testing.T) {
	if _, err := parseQuery("a=1&a=2"); err == nil {
		t.Fatal("duplicate accepted")
	}
	q, err := parseQuery("symbols=AAPL%2CMSFT&feed=iex")
	if err != nil || q["symbols"] != "AAPL,MSFT" || q["feed"] != "iex" {
		t.Fatalf("%v %v", q, err)
	}
}

func FuzzNormSymbol(f *testing.F) {
	for _, s := range []string{"AAPL", "brk.b", "../x", "Ä", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := normSymbol(s)
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
		if again, ok := normSymbol(got); !ok || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

func FuzzNormOCC(f *testing.F) {
	for _, s := range []string{"AAPL240426C00152500", "spy261127p00600000", "X", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := normOCC(s)
		if !ok {
			return
		}
		if again, ok := normOCC(got); !ok || again != got {
			t.Fatalf("not idempotent: %q -> %q", s, got)
		}
		if n := len(got); n < 16 || n > 21 || (got[n-9] != 'C' && got[n-9] != 'P') {
			t.Fatalf("%q -> %q is not OCC", s, got)
		}
	})
}

func FuzzValidTimeframe(f *testing.F) {
	for _, s := range []string{"1Min", "12Month", "60Min", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = validTimeframe(s) // must not panic
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"symbols=AAPL,MSFT", "a=1&a=2", "%zz", "timeframe=1Day&limit=5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseQuery(s)
		if err != nil {
			if _, ok := err.(*badRequest); !ok {
				t.Fatalf("error %T is not a 400", err)
			}
			return
		}
		if len(s) > MaxQueryLen {
			t.Fatalf("accepted a %d-byte query", len(s))
		}
		_ = q
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-27", "2026-11-27T14:30:00Z", "yesterday"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseTime(s)
	})
}
