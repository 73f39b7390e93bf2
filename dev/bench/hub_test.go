package main

import (
	"context"
	"testing"
	"time"
)

// The fan-out measurement delivers every client the upstream's messages
// (within a batch or two of the window's edges) and reports ordered
// percentiles.
func TestHubFanout(t *testing.T) {
	plan := hubPlan{clients: 5, rate: 200, batch: 10, dur: time.Second}
	r, err := runHubFanout(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if r.Delivered < r.Expected*8/10 || r.Delivered > r.Expected*12/10 {
		t.Errorf("delivered %d of %d", r.Delivered, r.Expected)
	}
	if !(0 < r.P50Ms && r.P50Ms <= r.P99Ms && r.P99Ms <= r.MaxMs) {
		t.Errorf("percentiles %+v", r)
	}
}
