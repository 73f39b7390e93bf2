package config

import "time"

// Defaults the functions and the CDK stack share. The stack starts its own
// configuration from these and sets the functions' environment from it; a
// function falls back to the same values when a variable is unset, so the
// two never disagree about a default.
const (
	// KeyPrefix begins every key the service writes to Redis (cache entries,
	// locks, the budget, the hot set, the hit-rate windows, prefetch state);
	// its version changes when a stored format does.
	KeyPrefix = "opitios:v2:"

	// DefaultRedisTimeout bounds each Redis operation: past it the caller
	// falls back (L1 and the origin for the cache, a local limit for the
	// budget) rather than wait.
	DefaultRedisTimeout = 50 * time.Millisecond

	// DefaultOriginBudgetPerMin is the fleet-wide origin budget, in requests
	// per minute: Alpaca's limit on the free plan.
	DefaultOriginBudgetPerMin = 200

	// DefaultAPIConcurrency and DefaultPrefetchConcurrency are the reserved
	// concurrency of the api and prefetch functions: the most instances of
	// each that run at once.
	DefaultAPIConcurrency      = 100
	DefaultPrefetchConcurrency = 1

	// UnreservedConcurrency is the instance count assumed for a function
	// without reserved concurrency: AWS's default concurrency quota of an
	// account, which such a function may use up entirely.
	UnreservedConcurrency = 1000

	// DefaultOriginInstances is OriginInstances of the default reservations.
	DefaultOriginInstances = DefaultAPIConcurrency + DefaultPrefetchConcurrency

	// DefaultRevocationWindow is the longest a client key revoked in the
	// client-keys secret may still be accepted (RevocationSplit).
	DefaultRevocationWindow = 60 * time.Second
	// MaxRevocationWindow is the longest window the setting accepts.
	MaxRevocationWindow = time.Hour
)

// OriginInstances returns the most instances that can share the origin
// budget at once, given the reserved concurrency of the api and prefetch
// functions (the two that call the origin); a reservation of 0 or less
// means none, which counts as UnreservedConcurrency.
func OriginInstances(apiReserved, prefetchReserved int) int {
	n := 0
	for _, r := range []int{apiReserved, prefetchReserved} {
		if r <= 0 {
			r = UnreservedConcurrency
		}
		n += r
	}
	return n
}

// RevocationSplit divides a revocation window between the two caches a
// client key's verdict passes through: API Gateway's cache of authorizer
// results (resultTTL, whole seconds, 0 meaning no caching) and the
// authorizer's own copy of the key list (keyRefresh, how long a read of the
// secret is used, counted from the start of that read).
//
// Their sum is the window: a key revoked at instant R is missing from every
// read that starts after R, so the authorizer stops accepting it before
// R + keyRefresh, and the last verdict it cached expires before
// R + keyRefresh + resultTTL = R + window. That holds while Secrets Manager
// answers; while its reads fail, the authorizer trusts its last read for a
// bounded time only (auth.LoaderOptions.MaxAge).
func RevocationSplit(window time.Duration) (resultTTL, keyRefresh time.Duration) {
	resultTTL = (window / 2).Truncate(time.Second)
	return resultTTL, window - resultTTL
}

// RevocationWindow reads EnvRevocationWindow, whole seconds between 1 and
// MaxRevocationWindow, default DefaultRevocationWindow.
func RevocationWindow(getenv func(string) string) (time.Duration, error) {
	secs, err := Int(getenv, EnvRevocationWindow, int(DefaultRevocationWindow/time.Second), 1, int(MaxRevocationWindow/time.Second))
	return time.Duration(secs) * time.Second, err
}

// PositiveOr is v when it is positive, else def: how a zero (or negative)
// field of an options struct takes its default.
func PositiveOr[T ~int | ~int64 | ~float64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Collector settings of the serving processes (service.TuneGC), unless
// GOGC or GOMEMLIMIT is set: DefaultGCPercent, and a soft memory limit of
// GCLimitPercent of the process's memory (the function's memory size; the
// stack sets the hub task's GOMEMLIMIT from it), below the 80 % at which
// the api function drops L1.
const (
	DefaultGCPercent = 400
	GCLimitPercent   = 75
)

// GCLimitBytes is the soft memory limit for a process of memoryMB.
func GCLimitBytes(memoryMB int) int64 { return int64(memoryMB) << 20 * GCLimitPercent / 100 }
