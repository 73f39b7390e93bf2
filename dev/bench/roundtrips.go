package main

import "fmt"

// maxMissRoundTrips is the cache's promise for a miss: at most three Redis
// round trips beside the origin call (shared/cache's package documentation,
// "Round trips").
const maxMissRoundTrips = 3

// withMissRoundTrips adds to the miss row the Redis round trips per miss
// that BenchmarkHandlerMiss counted (redis-rtt/op), and fails the row when
// they exceed the promise. Without the count the row is left as it is.
func withMissRoundTrips(v verdict, hm microResult) verdict {
	n, ok := hm.Metrics["redis-rtt/op"]
	if !ok {
		return v
	}
	v.Measured += fmt.Sprintf("; %.2f Redis round trips per miss (≤ %d)", n, maxMissRoundTrips)
	// A few hundredths above a whole number are the service's own
	// background writes (hot set, windows) counted by the same hook.
	if n > maxMissRoundTrips+0.1 {
		v.Status = statusFail
		v.Miss = fmt.Sprintf("%.2f Redis round trips per miss, %d at most", n, maxMissRoundTrips)
	}
	return v
}
