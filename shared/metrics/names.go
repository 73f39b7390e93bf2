// Package metrics records the service's one metrics vocabulary and writes it
// out in two forms: CloudWatch Embedded Metric Format documents on stdout in
// Lambda, and a Prometheus page on the local server.
//
// The names below are the contract with the CDK stack: its dashboard and
// alarms read these constants, so a metric renamed here is renamed there.
// DimensionSets lists the dimension sets each metric is published with.
package metrics

// Namespace is the CloudWatch namespace every EMF document is written to.
const Namespace = "Opitios/MarketData"

// Metric names (docs/design.md and the README's Observability section).
const (
	ApiLatency        = "ApiLatency"        // milliseconds; dims Route, Status
	CacheRequests     = "CacheRequests"     // count; dims Layer, Result, DataType
	UpstreamLatency   = "UpstreamLatency"   // milliseconds; dim Endpoint
	UpstreamRequests  = "UpstreamRequests"  // count; dim Result
	DataAge           = "DataAge"           // milliseconds; dim DataType
	BatchSize         = "BatchSize"         // count
	BatchDuration     = "BatchDuration"     // milliseconds
	Coalesced         = "Coalesced"         // count; dim DataType
	OriginBudgetLeft  = "OriginBudgetLeft"  // count
	PrefetchedSymbols = "PrefetchedSymbols" // count; dim Result
	PrefetchSkipped   = "PrefetchSkipped"   // count; dim Reason (e.g. market_closed)

	OriginRateLimitRemaining = "OriginRateLimitRemaining" // count; Alpaca's X-RateLimit-Remaining as last seen
)

// Dimension names.
const (
	DimRoute    = "Route"
	DimStatus   = "Status"
	DimLayer    = "Layer"
	DimResult   = "Result"
	DimDataType = "DataType"
	DimEndpoint = "Endpoint"
	DimFunction = "Function"
	DimReason   = "Reason"
)

// Other is the label value recorded in place of a value that cannot be a
// label: empty, longer than 250 bytes, not valid UTF-8, beyond the number
// of distinct values a label may take, or a typed label value outside its
// known set (see Recorder).
const Other = "other"
