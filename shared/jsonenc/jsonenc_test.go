package jsonenc

import (
	"encoding/json"
	"testing"
)

func TestAppendString(t *testing.T) {
	cases := map[string]string{
		"AAPL":          "AAPL",
		"A\"B\\C\n\r\t": "A\"B\\C\n\r\t",
		"\x01\x1f\x7f":  "\x01\x1f\x7f",
		"é€😀":           "é€😀",
		"bad\xffutf8":   "bad\ufffdutf8",
		"<script>&":     "<script>&",
		"\u2028":        "\u2028",
		"":              "",
	}
	for in, want := range cases {
		b := AppendString([]byte("x"), in)
		var got string
		if err := json.Unmarshal(b[1:], &got); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", in, b, err)
		}
		if got != want {
			t.Errorf("%q: decoded %q, want %q", in, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("AAPL")
	f.Add("\x00\"\\\xff")
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON for %q: %s", s, b)
		}
		want, _ := json.Marshal(s)
		var w string
		_ = json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("%q decodes to %q, encoding/json gives %q", s, got, w)
		}
	})
}
