package alpaca

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkSplitQuotes measures splitting a 100-symbol latest-quotes body
// into raw per-symbol values.
func BenchmarkSplitQuotes(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"quotes":{`)
	for i := range 100 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"SYM%03d":{"t":"2024-04-26T15:59:59.123456789Z","ax":"V","ap":169.%02d,"as":3,"bx":"V","bp":169.2,"bs":1,"c":["R"],"z":"C"}`, i, i)
	}
	sb.WriteString(`}}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		m, _, err := splitMember(body, "quotes")
		if err != nil || len(m) != 100 {
			b.Fatal(err, len(m))
		}
	}
}

// BenchmarkSpliceArrays measures joining three pages of one symbol's bars.
func BenchmarkSpliceArrays(b *testing.B) {
	page := []byte(`[` + strings.Repeat(`{"t":"2024-04-01T04:00:00Z","o":1.5,"h":2,"l":1,"c":2,"v":100,"n":5,"vw":1.7},`, 999) +
		`{"t":"2024-04-01T04:00:00Z","o":1.5,"h":2,"l":1,"c":2,"v":100,"n":5,"vw":1.7}]`)
	b.SetBytes(3 * int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		spliceArrays([]json.RawMessage{page, page, page})
	}
}
