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
