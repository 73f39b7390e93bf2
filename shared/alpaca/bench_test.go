package alpaca

import (
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
