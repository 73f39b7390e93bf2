package api

import (
	"math"
	"testing"
)

func TestFiniteDecimal(t *testing.T) {
	good := map[string]float64{"0": 0, "-0": 0, "152.5": 152.5, "+1": 1, "1e2": 100, "1E-3": 0.001, ".5": 0.5, "5.": 5, "007": 7, "1e-400": 0}
	for in, want := range good {
		if got, ok := finiteDecimal(in); !ok || got != want {
			t.Errorf("finiteDecimal(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "NaN", "nan", "Inf", "+Inf", "-inf", "Infinity", "1e400", "-1e400", "0x1p3", "0x10",
		"1_000", " 1", "1 ", "1e", "e1", ".", "+", "--1", "1.2.3", "١", "1e+"} {
		if got, ok := finiteDecimal(in); ok {
			t.Errorf("finiteDecimal(%q) accepted as %v", in, got)
		}
	}
}

func FuzzFiniteDecimal(f *testing.F) {
	for _, s := range []string{"152.5", "NaN", "+Inf", "1e400", "0x1p3", "1_0", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := finiteDecimal(s)
		if ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("%q -> %v accepted", s, v)
		}
	})
}

func TestCanonicalTimeframe(t *testing.T) {
	cases := map[string]string{"1Min": "1Min", "1T": "1Min", "59T": "59Min", "1H": "1Hour", "23Hour": "23Hour",
		"1D": "1Day", "1Day": "1Day", "1W": "1Week", "1M": "1Month", "12M": "12Month", "6Month": "6Month"}
	for in, want := range cases {
		if got, ok := canonicalTimeframe(in); !ok || got != want {
			t.Errorf("canonicalTimeframe(%q) = %q %v, want %q", in, got, ok, want)
		}
		if again, ok := canonicalTimeframe(want); !ok || again != want {
			t.Errorf("canonicalTimeframe(%q) = %q: not a fixed point", want, again)
		}
	}
}

func TestTimeKey(t *testing.T) {
	same := [][]string{
		{"2026-11-27T14:30:00Z", "2026-11-27T09:30:00-05:00", "2026-11-27T14:30:00.000Z", "2026-11-27T15:30:00.0+01:00"},
		{"2026-11-27", "2026-11-27"},
	}
	for _, group := range same {
		var first string
		for i, s := range group {
			tm, dateOnly, ok := parseTime(s)
			if !ok {
				t.Fatalf("parseTime(%q) failed", s)
			}
			if k := timeKey(tm, dateOnly); i == 0 {
				first = k
			} else if k != first {
				t.Errorf("%q keyed %q, %q keyed %q", group[0], first, s, k)
			}
		}
	}
	d, _, _ := parseTime("2026-11-27")
	i, _, _ := parseTime("2026-11-27T00:00:00Z")
	if timeKey(d, true) == timeKey(i, false) {
		t.Error("a date and the instant of its UTC midnight share a key")
	}
}

func TestCanonicalAdjustment(t *testing.T) {
	cases := map[string]string{"raw": "raw", "split,dividend": "dividend,split", "dividend,split,split": "dividend,split",
		"all": "all", "spin-off,split": "spin-off,split"}
	for in, want := range cases {
		if got, ok := canonicalAdjustment(in); !ok || got != want {
			t.Errorf("canonicalAdjustment(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", ",", "split,", "Split", "magic"} {
		if got, ok := canonicalAdjustment(in); ok {
			t.Errorf("canonicalAdjustment(%q) accepted as %q", in, got)
		}
	}
}
