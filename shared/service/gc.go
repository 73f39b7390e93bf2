package service

import "runtime/debug"

// DefaultGCPercent is the garbage collector's target the service runs with
// when GOGC is not set. A request allocates a few KiB and keeps none of it,
// while the live heap (mostly L1) is small: at Go's default of 100 the
// collector ran tens of times a second under load, and its stack scans
// and assists set the tail latency. At 400 it runs a quarter as often.
const DefaultGCPercent = 400

// gcLimitPercent is the share of the function's memory the heap is held
// under (GOMEMLIMIT), below the 80 % at which APIHandler drops L1: the
// collector works harder before L1 is thrown away.
const gcLimitPercent = 75

// TuneGC sets the collector for a serving process: DefaultGCPercent unless
// GOGC is set, and a soft memory limit of 75 % of memoryMB unless
// GOMEMLIMIT is set or memoryMB is 0 (unknown). It returns the settings in
// force afterwards (the limit is math.MaxInt64 when there is none).
func TuneGC(getenv func(string) string, memoryMB int) (gcPercent int, memLimit int64) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" && memoryMB > 0 {
		debug.SetMemoryLimit(int64(memoryMB) << 20 * gcLimitPercent / 100)
	}
	gcPercent = debug.SetGCPercent(-1)
	debug.SetGCPercent(gcPercent)
	return gcPercent, debug.SetMemoryLimit(-1)
}
