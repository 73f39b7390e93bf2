package api

import (
	"encoding/json"
	"testing"
)

var benchQuote = []byte(`{"ap":187.52,"as":3,"ax":"V","bp":187.49,"bs":2,"bx":"V","c":["R"],"t":"2026-11-25T19:00:00.123456789Z","z":"C"}`)

// TestAppendOneIsAlpacasBody: the appended single-symbol bodies are what
// encoding/json writes for Alpaca's shapes.
func TestAppendOneIsAlpacasBody(t *testing.T) {
	want, _ := json.Marshal(struct {
		Symbol string          `json:"symbol"`
		Quote  json.RawMessage `json:"quote"`
	}{"BRK.B", benchQuote})
	if got := appendOne(nil, "quote", "BRK.B", benchQuote); string(got) != string(want) {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if got := appendOne(nil, "", "AAPL", []byte(`{"latestQuote":{}}`)); string(got) != `{"symbol":"AAPL","latestQuote":{}}` {
		t.Errorf("spread: %s", got)
	}
	if got := appendOne(nil, "", "AAPL", []byte(`{}`)); string(got) != `{"symbol":"AAPL"}` {
		t.Errorf("empty: %s", got)
	}
}

// The single-symbol body is assembled on every hit: appending costs one
// allocation, json.Marshal over a json.RawMessage re-scans the cached
// bytes and allocates more (see the benchmark's ns/op and allocs/op).
func BenchmarkBodyAppend(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		body := make([]byte, 0, 24+5+4+len(benchQuote))
		_ = appendOne(body, "quote", "AAPL", benchQuote)
	}
}

func BenchmarkBodyMarshal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = json.Marshal(struct {
			Symbol string          `json:"symbol"`
			Quote  json.RawMessage `json:"quote"`
		}{"AAPL", benchQuote})
	}
}
