package metrics

// The label dimensions whose values the service knows in advance are small
// typed values. Each value is its own index into a metric family's series
// (the zero value stands for Other), and String gives its label text in EMF
// and Prometheus. A value outside the known set is recorded as Other.

// Layer is the Layer dimension of CacheRequests: where an answer came from.
type Layer uint8

// The cache layers.
const (
	_ Layer = iota // Other
	L1
	L2
	Origin
	numLayers
)

var layerNames = [numLayers]string{Other, "l1", "l2", "origin"}

func (l Layer) index() int { return known(int(l), int(numLayers)) }

// String returns the layer's label text ("l1", "l2", "origin" or "other").
func (l Layer) String() string { return layerNames[l.index()] }

// Result is the Result dimension of CacheRequests.
type Result uint8

// Values of the Result dimension of CacheRequests.
const (
	_ Result = iota // Other
	ResultHit
	ResultMiss
	ResultStale
	ResultError
	ResultWrite
	// ResultExpired counts an answer that stopped being fresh while its
	// request waited for others, and was looked up again.
	ResultExpired
	numResults
)

var resultNames = [numResults]string{Other, "hit", "miss", "stale", "error", "write", "expired"}

func (r Result) index() int { return known(int(r), int(numResults)) }

// String returns the result's label text ("hit", "miss", ...).
func (r Result) String() string { return resultNames[r.index()] }

// DataType is the DataType dimension: the TTL class of the data concerned
// (the cache's DataType, as a label).
type DataType uint8

// The data types.
const (
	_ DataType = iota // Other
	StockQuote
	OptionQuote
	HistoricalData
	CryptoQuote
	Reference
	Screener
	News
	numDataTypes
)

var dataTypeNames = [numDataTypes]string{Other, "stock_quote", "option_quote", "historical_data",
	"crypto_quote", "reference", "screener", "news"}

func (d DataType) index() int { return known(int(d), int(numDataTypes)) }

// String returns the data type's label text ("stock_quote", ...).
func (d DataType) String() string { return dataTypeNames[d.index()] }

// UpstreamResult is the Result dimension of UpstreamRequests: how one call
// to the origin ended.
type UpstreamResult uint8

// Values of the Result dimension of UpstreamRequests.
const (
	_ UpstreamResult = iota // Other
	UpstreamOK
	UpstreamRateLimited
	UpstreamClientError
	UpstreamServerError
	UpstreamTimeout
	UpstreamNetwork
	// UpstreamCredentialsRefused: the origin refused the service's own
	// credentials (a deployment fault, alarmed), as opposed to refusing one
	// request (client_error).
	UpstreamCredentialsRefused
	numUpstreamResults
)

var upstreamResultNames = [numUpstreamResults]string{Other, "ok", "rate_limited", "client_error",
	"server_error", "timeout", "network_error", "credentials_refused"}

func (u UpstreamResult) index() int { return known(int(u), int(numUpstreamResults)) }

// String returns the result's label text ("ok", "rate_limited", ...).
func (u UpstreamResult) String() string { return upstreamResultNames[u.index()] }

// PrefetchResult is the Result dimension of PrefetchedSymbols.
type PrefetchResult uint8

// Values of the Result dimension of PrefetchedSymbols.
const (
	_ PrefetchResult = iota // Other
	PrefetchResultRefreshed
	PrefetchResultSkipped
	PrefetchResultFailed
	numPrefetchResults
)

var prefetchResultNames = [numPrefetchResults]string{Other, "refreshed", "skipped", "failed"}

func (p PrefetchResult) index() int { return known(int(p), int(numPrefetchResults)) }

// String returns the result's label text ("refreshed", "skipped", "failed").
func (p PrefetchResult) String() string { return prefetchResultNames[p.index()] }

// Reason is the Reason dimension of PrefetchSkipped: why a prefetch run did
// nothing.
type Reason uint8

// Values of the Reason dimension of PrefetchSkipped.
const (
	_ Reason = iota // Other
	ReasonMarketClosed
	numReasons
)

var reasonNames = [numReasons]string{Other, "market_closed"}

func (r Reason) index() int { return known(int(r), int(numReasons)) }

// String returns the reason's label text ("market_closed").
func (r Reason) String() string { return reasonNames[r.index()] }

// known returns i if it is below n, else 0 (Other).
func known(i, n int) int {
	if i < n {
		return i
	}
	return 0
}
