package main

import (
	"strings"
	"testing"
)

func TestWithMissRoundTrips(t *testing.T) {
	v := verdict{Level: "Real-time (miss)", Measured: "+1 ms", Status: statusPass}
	if got := withMissRoundTrips(v, microResult{Name: "HandlerMiss"}); got != v {
		t.Fatalf("no count must leave the row: %+v", got)
	}
	got := withMissRoundTrips(v, microResult{Metrics: map[string]float64{"redis-rtt/op": 3.003}})
	if got.Status != statusPass || !strings.Contains(got.Measured, "3.00 Redis round trips per miss") {
		t.Fatalf("3 round trips: %+v", got)
	}
	got = withMissRoundTrips(v, microResult{Metrics: map[string]float64{"redis-rtt/op": 5.004}})
	if got.Status != statusFail || got.Miss == "" {
		t.Fatalf("5 round trips must fail the row: %+v", got)
	}
}
