package service

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/opitios/opitios-alpaca/shared/config"
)

func TestTuneGC(t *testing.T) {
	prevPercent, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	if p, l := TuneGC(env(nil), 1024); p != config.DefaultGCPercent || l != 768<<20 {
		t.Fatalf("defaults with 1024 MB: GOGC %d, limit %d; want %d, %d", p, l, config.DefaultGCPercent, 768<<20)
	}
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	if p, l := TuneGC(env(nil), 0); p != config.DefaultGCPercent || l != math.MaxInt64 {
		t.Fatalf("unknown memory: GOGC %d, limit %d; want no limit", p, l)
	}
	// What the operator set is left alone (the runtime read it at start).
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	if p, l := TuneGC(env(map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}), 512); p != 150 || l != 1<<30 {
		t.Fatalf("with GOGC and GOMEMLIMIT set: GOGC %d, limit %d; want 150, 1 GiB", p, l)
	}
}
