package cache

import (
	"strconv"
	"testing"
	"time"
)

// parseTime reads what time.Parse reads, as time.Parse does.
func TestParseTimeAgreesWithTimeParse(t *testing.T) {
	for _, s := range []string{
		"2026-11-27T15:00:00Z", "2026-11-27T15:00:00.1Z", "2026-11-27T15:00:00.123456789Z", "2026-11-27T15:00:00.000000001Z",
		"2024-02-29T23:59:59.5Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-27T24:00:00Z",
		"2026-11-27T15:60:00Z", "2026-11-27T15:00:60Z", "2026-11-27T15:00:00.Z", "2026-11-27T15:00:00.1234567891Z",
		"2026-11-27T15:00:00+01:00", "2026-11-27t15:00:00Z", "2026-1-27T15:00:00Z", "0000-01-01T00:00:00Z", "2026-11-27T15:00:0aZ",
		"", "Z", "2026-11-27T15:00:00.12a4Z",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		got, ok := parseTime([]byte(s))
		if ok != (err == nil) || (ok && (!got.Equal(want) || got.Location() != want.Location())) {
			t.Errorf("parseTime(%q) = %v, %v; time.Parse: %v, %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"30", "0", "007", "+5", "-1", "", "1a", "99999999999999999999"} {
		want, err := strconv.ParseInt(s, 10, 64)
		if got, ok := parseSeconds([]byte(s)); ok != (err == nil) || got != want {
			t.Errorf("parseSeconds(%q) = %d, %v; strconv: %d, %v", s, got, ok, want, err)
		}
	}
}

// BenchmarkDecodeEnvelope decodes the envelope of a quote, as an L2 hit does.
func BenchmarkDecodeEnvelope(b *testing.B) {
	e := sampleEntry()
	e.Data = []byte(`{"ap":187.32,"as":2,"ax":"V","bp":187.3,"bs":3,"bx":"V","c":["R"],"t":"2026-11-24T17:00:00.000000000Z","z":"C"}`)
	v := AppendEnvelope(nil, e)
	key := Key(StockQuote, e.Symbol)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeKeyed(v, key); err != nil {
			b.Fatal(err)
		}
	}
}
