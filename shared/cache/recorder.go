package cache

// Layer names the place an answer came from.
type Layer string

// The layers, as reported in results and metrics.
const (
	LayerL1     Layer = "l1"
	LayerL2     Layer = "l2"
	LayerOrigin Layer = "origin"
)

// Results reported to a Recorder.
const (
	resultHit     = "hit"
	resultMiss    = "miss"
	resultStale   = "stale"
	resultError   = "error"
	resultWrite   = "write"
	resultExpired = "expired"
)

// Recorder receives the cache's events. Implementations must be safe for
// concurrent use and cheap: CacheResult is called on every read.
//
// CacheResult is called once per key and layer consulted, with result "hit",
// "miss", "stale" (an L2 entry past its freshness, deleted), "error" (an L2
// failure or corrupt value; for the origin layer, a failed fetch) or "write"
// (an entry stored) or "expired" (an answer, from any layer, that stopped
// being fresh while its call waited for others, and was looked up again).
// Coalesced is called once per key a caller received from
// another caller's fetch, in this process or another.
type Recorder interface {
	CacheResult(layer, result, dataType string)
	Coalesced(dataType string)
}

type nopRecorder struct{}

func (nopRecorder) CacheResult(string, string, string) {}
func (nopRecorder) Coalesced(string)                   {}
