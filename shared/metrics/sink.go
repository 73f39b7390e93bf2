package metrics

// Counter, Observer and Gauge are the instruments a Sink hands out; they
// must be safe for concurrent use. Prometheus's own types satisfy them.
type (
	Counter  interface{ Add(float64) }
	Observer interface{ Observe(float64) }
	Gauge    interface{ Set(float64) }
)

// Sink is a Recorder's second output: it receives each value as it is
// recorded, through instruments it hands out once per combination of label
// values (so it may allocate there, never when a value is recorded). The
// labels of each instrument are listed beside it, in order; durations are
// in seconds. The local server adapts a Sink to Prometheus; the Lambda
// functions use EMF alone, and link no sink.
type Sink interface {
	Counter(in Instrument, labels ...string) Counter
	Observer(in Instrument, labels ...string) Observer
	Gauge(in Instrument) Gauge
}

// Instrument names one of the values a Recorder hands to a Sink.
type Instrument int

// The instruments, with their labels.
const (
	InstAPILatency         Instrument = iota // Observer: route, status
	InstAPIRequests                          // Counter: route, status
	InstCacheRequests                        // Counter: layer, result, data_type
	InstUpstreamLatency                      // Observer: endpoint
	InstUpstreamRequests                     // Counter: endpoint, result
	InstDataAge                              // Observer: data_type
	InstBatchSize                            // Observer
	InstBatchDuration                        // Observer
	InstCoalesced                            // Counter: data_type
	InstBudgetLeft                           // Gauge
	InstRateLimitRemaining                   // Gauge
	InstRateLimitLimit                       // Gauge
	InstRateLimitReset                       // Gauge: Unix seconds
	InstPrefetched                           // Counter: result
	InstPrefetchSkipped                      // Counter: reason
	// NumInstruments is the number of instruments.
	NumInstruments
)
