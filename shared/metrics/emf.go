package metrics

import (
	"github.com/opitios/opitios-alpaca/shared/jsonenc"

	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits of one EMF document (CloudWatch EMF specification).
const (
	emfMaxMetrics    = 100 // MetricDefinitions per MetricDirective
	emfMaxValues     = 100 // values in one metric's array
	emfMaxDimensions = 30  // dimension keys per DimensionSet
)

// maxSamples bounds the samples one EMF metric series keeps between two
// flushes (ten documents' worth). Samples beyond it are not recorded in EMF;
// Prometheus still sees them. A Lambda invocation records a handful.
const maxSamples = 10 * emfMaxValues

// EMF units and storage resolutions used by the vocabulary.
const (
	unitMilliseconds = "Milliseconds"
	unitCount        = "Count"

	resolutionHigh     = 1  // one-second storage: the latency and hit-rate alarms read these
	resolutionStandard = 60 // one-minute storage
)

// metricDef describes one EMF metric of the vocabulary.
type metricDef struct {
	name       string
	unit       string
	resolution int
	summed     bool     // a counter: the values of one flush are summed into one
	dims       []string // the dimension names whose values the series carries, in label order
	// rollups are further dimension sets, each a subset of dims, published
	// beside the full one so alarms can read an aggregate over the rest
	// (CloudWatch alarms cannot sum across dimension values).
	rollups [][]string
}

// The vocabulary's EMF side. Every dimension set below is prefixed with
// Function when the Recorder has one (Options.Function).
var (
	defAPILatency       = &metricDef{name: ApiLatency, unit: unitMilliseconds, resolution: resolutionHigh, dims: []string{DimRoute, DimStatus}, rollups: [][]string{{}}}
	defCacheRequests    = &metricDef{name: CacheRequests, unit: unitCount, resolution: resolutionHigh, summed: true, dims: []string{DimLayer, DimResult, DimDataType}, rollups: [][]string{{DimLayer, DimResult}}}
	defUpstreamLatency  = &metricDef{name: UpstreamLatency, unit: unitMilliseconds, resolution: resolutionStandard, dims: []string{DimEndpoint}, rollups: [][]string{{}}}
	defUpstreamRequests = &metricDef{name: UpstreamRequests, unit: unitCount, resolution: resolutionStandard, summed: true, dims: []string{DimResult}}
	defDataAge          = &metricDef{name: DataAge, unit: unitMilliseconds, resolution: resolutionStandard, dims: []string{DimDataType}}
	defBatchSize        = &metricDef{name: BatchSize, unit: unitCount, resolution: resolutionStandard}
	defBatchDuration    = &metricDef{name: BatchDuration, unit: unitMilliseconds, resolution: resolutionStandard}
	defCoalesced        = &metricDef{name: Coalesced, unit: unitCount, resolution: resolutionStandard, summed: true, dims: []string{DimDataType}}
	defOriginBudgetLeft = &metricDef{name: OriginBudgetLeft, unit: unitCount, resolution: resolutionStandard}
	defRateLimitLeft    = &metricDef{name: OriginRateLimitRemaining, unit: unitCount, resolution: resolutionStandard}
	defPrefetched       = &metricDef{name: PrefetchedSymbols, unit: unitCount, resolution: resolutionStandard, summed: true, dims: []string{DimResult}}
	defPrefetchSkipped  = &metricDef{name: PrefetchSkipped, unit: unitCount, resolution: resolutionStandard, summed: true, dims: []string{DimReason}, rollups: [][]string{{}}}
)

// DimensionSets returns the EMF dimension sets the named metric is published
// with when the Recorder's Function is set (the CDK stack's alarms and
// dashboard must name one of them exactly), or nil for a name outside the
// vocabulary.
func DimensionSets(metric string) [][]string {
	for _, d := range []*metricDef{defAPILatency, defCacheRequests, defUpstreamLatency, defUpstreamRequests,
		defDataAge, defBatchSize, defBatchDuration, defCoalesced, defOriginBudgetLeft, defRateLimitLeft,
		defPrefetched, defPrefetchSkipped} {
		if d.name == metric {
			return d.dimensionSets(true)
		}
	}
	return nil
}

func (d *metricDef) dimensionSets(function bool) [][]string {
	sets := make([][]string, 0, 1+len(d.rollups))
	for _, s := range append([][]string{d.dims}, d.rollups...) {
		set := make([]string, 0, len(s)+1)
		if function {
			set = append(set, DimFunction)
		}
		sets = append(sets, append(set, s...))
	}
	return sets
}

// dim is one dimension's name and value.
type dim struct{ name, value string }

// agg is one EMF series (a metric and its dimension values) aggregated
// between two flushes.
type agg struct {
	def  *metricDef
	dims []dim      // sorted by name, Function included
	sets [][]string // dimension sets written in the directive
	key  string     // documents group series with equal keys

	mu      sync.Mutex
	n       int // additions to sum since the last flush
	sum     float64
	samples []float64
}

func newAgg(def *metricDef, function string, values []string) *agg {
	a := &agg{def: def, sets: def.dimensionSets(function != "")}
	if function != "" {
		a.dims = append(a.dims, dim{DimFunction, function})
	}
	for i, name := range def.dims {
		a.dims = append(a.dims, dim{name, values[i]})
	}
	slices.SortFunc(a.dims, func(x, y dim) int { return strings.Compare(x.name, y.name) })
	var k strings.Builder
	for _, s := range a.sets {
		k.WriteString(strings.Join(s, ","))
		k.WriteByte(';')
	}
	for _, d := range a.dims {
		k.WriteByte(0)
		k.WriteString(d.name)
		k.WriteByte('=')
		k.WriteString(d.value)
	}
	a.key = k.String()
	return a
}

func (a *agg) add(v float64) {
	a.mu.Lock()
	a.n++
	a.sum += v
	a.mu.Unlock()
}

func (a *agg) sample(v float64) {
	a.mu.Lock()
	if len(a.samples) < maxSamples {
		a.samples = append(a.samples, v)
	}
	a.mu.Unlock()
}

// take returns the values recorded since the last take, or nil if none, and
// resets the series. A counter yields its sum; keeping the samples' backing
// array lets the next invocation record without allocating.
// takeInto appends the values recorded since the last take to dst and
// resets them.
func (a *agg) takeInto(dst []float64) []float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.def.summed {
		if a.n == 0 {
			return dst
		}
		dst = append(dst, a.sum)
		a.n, a.sum = 0, 0
		return dst
	}
	dst = append(dst, a.samples...)
	a.samples = a.samples[:0]
	return dst
}

// emfMetric is one metric's values in a group.
type emfMetric struct {
	name       string
	unit       string
	resolution int
	values     []float64
}

// emfGroup is the metrics sharing one set of dimension values and dimension
// sets: the content of one or more documents.
type emfGroup struct {
	key     string
	sets    [][]string
	dims    []dim // sorted by name
	metrics []emfMetric
}

// FlushEMF writes every metric recorded since the last flush as CloudWatch
// EMF documents, one JSON object per line, all in one Write (Lambda makes
// each line of stdout a log event), stamped
// with now, and resets the aggregate. Counters are summed; latencies, ages,
// sizes and gauges are written as arrays of their samples (a lone sample as a
// number). Metrics sharing their dimension values share a document; a
// document holds at most 100 metrics and at most 100 values per metric, the
// rest going to further documents. Documents are ordered by dimension sets
// and values, metrics by name, so equal recordings give equal bytes.
//
// FlushEMF writes nothing and returns nil when nothing was recorded, when
// EMF is off, or on a nil Recorder. The aggregate is reset even if a write
// fails: metrics are best effort, and a broken stdout must not grow memory.
// It returns the Write's error.
func (r *Recorder) FlushEMF(w io.Writer, now time.Time) error {
	if r == nil || !r.emf {
		return nil
	}
	r.aggMu.Lock()
	list := r.aggList
	r.aggMu.Unlock()

	// Flushes run once per invocation: their buffers are reused, so a
	// flush allocates next to nothing.
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	fs := &r.flush
	fs.reset()
	for _, a := range list {
		start := len(fs.vals)
		fs.vals = a.takeInto(fs.vals)
		if len(fs.vals) == start {
			continue
		}
		// A full slice expression: later appends to fs.vals never write
		// into these values, even after it grows.
		v := fs.vals[start:len(fs.vals):len(fs.vals)]
		g := fs.group(a)
		g.metrics = append(g.metrics, emfMetric{name: a.def.name, unit: a.def.unit, resolution: a.def.resolution, values: v})
	}
	slices.SortFunc(fs.groups, func(x, y *emfGroup) int { return strings.Compare(x.key, y.key) })

	out := fs.out[:0]
	for _, g := range fs.groups {
		out, fs.part = encodeGroup(out, fs.part, Namespace, now.UnixMilli(), g)
	}
	fs.out = out
	if len(out) == 0 {
		return nil
	}
	_, err := w.Write(out)
	return err
}

// flushScratch is what a flush reuses from the last one.
type flushScratch struct {
	vals   []float64
	byKey  map[string]*emfGroup
	groups []*emfGroup
	spare  []*emfGroup
	part   []emfMetric
	out    []byte
}

func (fs *flushScratch) reset() {
	fs.vals = fs.vals[:0]
	if fs.byKey == nil {
		fs.byKey = map[string]*emfGroup{}
	}
	clear(fs.byKey)
	fs.spare = append(fs.spare, fs.groups...)
	fs.groups = fs.groups[:0]
}

// group returns the group of a's dimension values, reusing a spare one.
func (fs *flushScratch) group(a *agg) *emfGroup {
	if g := fs.byKey[a.key]; g != nil {
		return g
	}
	var g *emfGroup
	if n := len(fs.spare); n > 0 {
		g, fs.spare = fs.spare[n-1], fs.spare[:n-1]
	} else {
		g = &emfGroup{}
	}
	g.key, g.sets, g.dims, g.metrics = a.key, a.sets, a.dims, g.metrics[:0]
	fs.byKey[a.key] = g
	fs.groups = append(fs.groups, g)
	return g
}

// encodeGroup appends to dst the documents holding g, each ending in '\n'.
// Document k carries the k-th run of up to 100 values of every metric that
// has one, split again into documents of at most 100 metrics.
func encodeGroup(dst []byte, part []emfMetric, namespace string, timestamp int64, g *emfGroup) ([]byte, []emfMetric) {
	slices.SortFunc(g.metrics, func(x, y emfMetric) int { return strings.Compare(x.name, y.name) })
	runs := 0
	for _, m := range g.metrics {
		runs = max(runs, (len(m.values)+emfMaxValues-1)/emfMaxValues)
	}
	for k := range runs {
		part = part[:0]
		for _, m := range g.metrics {
			lo := k * emfMaxValues
			if lo >= len(m.values) {
				continue
			}
			m.values = m.values[lo:min(lo+emfMaxValues, len(m.values))]
			part = append(part, m)
		}
		for rest := part; len(rest) > 0; {
			n := min(len(rest), emfMaxMetrics)
			dst = appendDocument(dst, namespace, timestamp, g, rest[:n])
			rest = rest[n:]
		}
	}
	return dst, part[:0]
}

func appendDocument(b []byte, namespace string, timestamp int64, g *emfGroup, ms []emfMetric) []byte {
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, timestamp, 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b = jsonenc.AppendString(b, namespace)
	b = append(b, `,"Dimensions":[`...)
	for i, set := range g.sets {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, name := range set {
			if j > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, name)
		}
		b = append(b, ']')
	}
	b = append(b, `],"Metrics":[`...)
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Name":`...)
		b = jsonenc.AppendString(b, m.name)
		b = append(b, `,"Unit":`...)
		b = jsonenc.AppendString(b, m.unit)
		b = append(b, `,"StorageResolution":`...)
		b = strconv.AppendInt(b, int64(m.resolution), 10)
		b = append(b, '}')
	}
	b = append(b, `]}]}`...)
	for _, d := range g.dims {
		b = append(b, ',')
		b = jsonenc.AppendString(b, d.name)
		b = append(b, ':')
		b = jsonenc.AppendString(b, d.value)
	}
	for _, m := range ms {
		b = append(b, ',')
		b = jsonenc.AppendString(b, m.name)
		b = append(b, ':')
		if len(m.values) == 1 {
			b = appendNumber(b, m.values[0])
			continue
		}
		b = append(b, '[')
		for i, v := range m.values {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendNumber(b, v)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// appendNumber writes v in its shortest decimal form. The Recorder only
// records durations and integers, so v is always finite.
func appendNumber(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}
