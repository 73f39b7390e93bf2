package cache

import (
	"encoding/json"
	"testing"
)

// validJSON agrees with json.Valid, and its own scanner never accepts what
// json.Valid rejects.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		`{"ap":187.32,"as":2,"c":["R"],"t":"2026-11-24T17:00:00Z","z":"C"}`, `[]`, `{}`, `[1,2,]`, `{"a":}`, `"\u00e9"`, `"a\"b"`,
		`-0.5e+10`, `01`, `1.`, `-`, `tru`, `nullx`, `[[[[]]]]`, ` { "a" : [ true , false , null ] } `, `"\x"`, "\"\x01\"", `"é"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b)
		if got := validJSON(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", b, got, want)
		}
		s := plainScanner{b: b}
		if s.value(0) && s.ws() == len(b) && !want {
			t.Fatalf("the plain scanner accepted %q, which json.Valid rejects", b)
		}
	})
}
