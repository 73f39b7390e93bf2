package service

import (
	"runtime/debug"
	"runtime/metrics"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// TuneGC sets the collector for a serving process: config.DefaultGCPercent
// unless GOGC is set, and a soft memory limit of config.GCLimitBytes of
// memoryMB unless GOMEMLIMIT is set or memoryMB is 0 (unknown). It returns
// the settings in force afterwards (the limit is math.MaxInt64 when there is
// none).
//
// A request allocates a few KiB and keeps none of it, while the live heap
// (mostly L1) is small: at Go's default of 100 the collector ran tens of
// times a second under load, and its stack scans and assists set the tail
// latency. At 400 it runs a quarter as often; the limit keeps it working
// harder before L1 has to be dropped.
func TuneGC(getenv func(string) string, memoryMB int) (gcPercent int, memLimit int64) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(config.DefaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" && memoryMB > 0 {
		debug.SetMemoryLimit(config.GCLimitBytes(memoryMB))
	}
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64()), int64(s[1].Value.Uint64())
}
