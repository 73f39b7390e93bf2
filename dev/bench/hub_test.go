package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// buildPkg builds a package of the module into dir and returns the binary.
func buildPkg(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	if err := goBuild(context.Background(), "", bin, pkg, nil); err != nil {
		t.Fatal(err)
	}
	return bin
}

func hubRedis(t *testing.T) *redisServer {
	t.Helper()
	rs, err := startRedis(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.stop)
	return rs
}

// The fan-out measurement delivers every client the upstream's messages
// (within a batch or two of the window's edges), reports ordered
// percentiles, and reads the hub process's CPU and memory (parseStatCPU and
// parseVmRSS have their own tests).
func TestHubFanout(t *testing.T) {
	dir := t.TempDir()
	bin := buildPkg(t, dir, "github.com/opitios/opitios-alpaca/hub")
	plan := hubPlan{clients: 5, rate: 200, batch: 10, dur: time.Second}
	r, err := runHubFanout(context.Background(), bin, dir, hubRedis(t), plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *r)
	if r.Delivered < r.Expected*8/10 || r.Delivered > r.Expected*12/10 {
		t.Errorf("delivered %d of %d", r.Delivered, r.Expected)
	}
	if !(0 < r.P50Ms && r.P50Ms <= r.P99Ms && r.P99Ms <= r.MaxMs) {
		t.Errorf("percentiles %+v", r)
	}
	// CPU time comes in 10 ms ticks: a quick machine may spend none in 1 s.
	if r.CPUPercent < 0 || r.CPUPercent > 200 || r.RSSMiB <= 0 {
		t.Errorf("hub CPU %.1f %%, memory %.1f MiB: not read", r.CPUPercent, r.RSSMiB)
	}
}

// A symbol the hub streams is answered from the cache, at most a second
// old, without a REST call to the origin.
func TestStreamedSymbolCostsNoREST(t *testing.T) {
	dir := t.TempDir()
	l := &launcher{logs: dir, localBin: buildPkg(t, dir, "github.com/opitios/opitios-alpaca/dev/local")}
	r, err := runStreamed(context.Background(), l, hubRedis(t), streamedPlan{requests: 10, every: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *r)
	if r.Requests != 10 || r.Hits != 10 || r.OriginCalls != 0 || r.MaxAgeS > 1 {
		t.Fatalf("streamed %+v: want 10 cache hits, no origin call, Age ≤ 1 s", r)
	}
}
