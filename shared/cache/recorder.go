package cache

import "github.com/opitios/opitios-alpaca/shared/metrics"

// Layer names the place an answer came from: the metrics label type itself,
// so a Result's layer is recorded as it is.
type Layer = metrics.Layer

// The layers, as reported in results and metrics.
const (
	LayerL1     = metrics.L1
	LayerL2     = metrics.L2
	LayerOrigin = metrics.Origin
)

// Recorder receives the cache's events. Implementations must be safe for
// concurrent use and cheap: CacheResult is called on every read.
//
// CacheResult is called once per key and layer consulted, with result
// ResultHit, ResultMiss, ResultStale (an L2 entry past its freshness,
// deleted), ResultError (an L2 failure or corrupt value; for the origin
// layer, a failed fetch), ResultWrite (an entry stored) or ResultExpired (an
// answer, from any layer, that stopped being fresh while its call waited for
// others, and was looked up again); all are metrics.Result values.
// Coalesced is called once per key a caller received from
// another caller's fetch, in this process or another.
type Recorder interface {
	CacheResult(layer Layer, result metrics.Result, dataType metrics.DataType)
	Coalesced(dataType metrics.DataType)
}

type nopRecorder struct{}

func (nopRecorder) CacheResult(Layer, metrics.Result, metrics.DataType) {}
func (nopRecorder) Coalesced(metrics.DataType)                          {}
