package config

// Defaults the functions and the CDK stack share. The stack starts its own
// configuration from these and sets the functions' environment from it; a
// function falls back to the same values when a variable is unset, so the
// two never disagree about a default.
const (
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
