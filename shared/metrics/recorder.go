package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Interner sizes: a label takes one value fewer than its size before new
// values are recorded as Other (slot 0 is Other itself). Typed labels (Layer,
// Result, DataType, UpstreamResult, PrefetchResult, Reason) need no interner: each value is its own index.
const (
	routeValues    = 64
	statusValues   = 32
	endpointValues = 64
)

// Recorder records the service's metrics vocabulary. With Options.EMF it
// aggregates them for FlushEMF, once per Lambda invocation; with a Sink
// it hands them to a Sink (Prometheus, locally); with both it does both,
// and with neither it records nothing. A nil *Recorder is valid and records
// nothing, so a component may be built without metrics.
//
// All methods are safe for concurrent use. The recording methods do not
// allocate once a combination of label values has been seen: each label
// value is a small index (typed labels are their own; the others are
// interned) and the combination's sink instruments and EMF series are
// resolved once. A string label takes a bounded number of distinct values:
// 63 routes or endpoints, 31 statuses (the catalog has about 50 routes). Values beyond those, values that cannot
// be labels (empty, over 250 bytes, invalid UTF-8, an HTTP status outside
// 100–599) and typed values outside their known set are recorded as Other.
type Recorder struct {
	on       bool // EMF or a sink
	emf      bool
	function string
	sink     Sink

	routes, endpoints *interner[string]
	statuses          *interner[int]

	cache, api, upLatency, upRequests, dataAge, coalesced, prefetched, skipped family

	batchSize, batchDuration, budgetLeft, rateLimitLeft *series

	aggMu   sync.Mutex
	aggs    map[string]*agg // by metric name and agg key
	aggList []*agg

	flushMu sync.Mutex // one flush at a time; guards flush
	flush   flushScratch
}

// Options configures New. The zero value records nothing.
type Options struct {
	// EMF makes the Recorder aggregate metrics for FlushEMF.
	EMF bool

	// Function, with EMF, is written as the Function dimension of every
	// document (the Lambda function's name); empty leaves it out.
	Function string

	// Sink, when not nil, is handed every value as it is recorded, beside
	// or instead of EMF (the local server adapts it to Prometheus).
	Sink Sink
}

// New returns a Recorder configured by o.
func New(o Options) *Recorder {
	r := &Recorder{
		routes:    newInterner(routeValues, stringLabel),
		endpoints: newInterner(endpointValues, stringLabel),
		statuses:  newInterner(statusValues, statusLabel),
		aggs:      map[string]*agg{},
	}
	r.emf, r.function, r.sink = o.EMF, o.Function, o.Sink
	r.on = r.emf || r.sink != nil
	r.cache.init(int(numLayers) * int(numResults) * int(numDataTypes))
	r.api.init(routeValues * statusValues)
	r.upLatency.init(endpointValues)
	r.upRequests.init(endpointValues * int(numUpstreamResults))
	r.dataAge.init(int(numDataTypes))
	r.coalesced.init(int(numDataTypes))
	r.prefetched.init(int(numPrefetchResults))
	r.skipped.init(int(numReasons))

	r.batchSize = &series{emf: r.agg(defBatchSize)}
	r.batchDuration = &series{emf: r.agg(defBatchDuration)}
	r.budgetLeft = &series{emf: r.agg(defOriginBudgetLeft)}
	r.rateLimitLeft = &series{emf: r.agg(defRateLimitLeft)}
	if k := r.sink; k != nil {
		r.batchSize.observer = k.Observer(InstBatchSize)
		r.batchDuration.observer = k.Observer(InstBatchDuration)
		r.budgetLeft.gauge = k.Gauge(InstBudgetLeft)
		r.rateLimitLeft.gauge = k.Gauge(InstRateLimitRemaining)
	}
	return r
}

func statusLabel(s int) (string, bool) {
	return strconv.Itoa(s), s >= 100 && s <= 599
}

// CacheResult counts one cache lookup or write: the layer consulted, its
// result and the data type.
func (r *Recorder) CacheResult(layer Layer, result Result, dataType DataType) {
	if r == nil || !r.on {
		return
	}
	l, res, dt := layer.index(), result.index(), dataType.index()
	r.cache.series((l*int(numResults)+res)*int(numDataTypes)+dt, func() *series {
		ls := []string{layerNames[l], resultNames[res], dataTypeNames[dt]}
		return r.newSeries(defCacheRequests, ls, InstCacheRequests, noInst)
	}).count(1)
}

// Coalesced counts a caller served by another caller's fetch of the same
// key, in this instance or through the fleet-wide lock.
func (r *Recorder) Coalesced(dataType DataType) {
	if r == nil || !r.on {
		return
	}
	i := dataType.index()
	r.coalesced.series(i, func() *series {
		return r.newSeries(defCoalesced, []string{dataTypeNames[i]}, InstCoalesced, noInst)
	}).count(1)
}

// APIRequest records one API response: its route (the route pattern, not
// the path), HTTP status and latency.
func (r *Recorder) APIRequest(route string, status int, d time.Duration) {
	if r == nil || !r.on {
		return
	}
	ro, st := r.routes.index(route), r.statuses.index(status)
	s := r.api.series(ro*statusValues+st, func() *series {
		ls := []string{r.routes.labelOf(ro), r.statuses.labelOf(st)}
		return r.newSeries(defAPILatency, ls, InstAPIRequests, InstAPILatency)
	})
	s.count(1)
	s.duration(d)
}

// DataAge records the age of data served: the time since it was fetched
// from the origin.
func (r *Recorder) DataAge(dataType DataType, age time.Duration) {
	if r == nil || !r.on {
		return
	}
	i := dataType.index()
	r.dataAge.series(i, func() *series {
		return r.newSeries(defDataAge, []string{dataTypeNames[i]}, noInst, InstDataAge)
	}).duration(age)
}

// UpstreamRequest records one call to the origin: endpoint names the origin
// endpoint, result how the call ended, d the call's latency.
func (r *Recorder) UpstreamRequest(endpoint string, result UpstreamResult, d time.Duration) {
	if r == nil || !r.on {
		return
	}
	e, res := r.endpoints.index(endpoint), result.index()
	r.upLatency.series(e, func() *series {
		return r.newSeries(defUpstreamLatency, []string{r.endpoints.labelOf(e)}, noInst, InstUpstreamLatency)
	}).duration(d)
	r.upRequests.series(e*int(numUpstreamResults)+res, func() *series {
		ep, rs := r.endpoints.labelOf(e), upstreamResultNames[res]
		// The EMF side has no Endpoint dimension.
		s := r.newSeries(defUpstreamRequests, []string{rs}, noInst, noInst)
		if r.sink != nil {
			s.counter = r.sink.Counter(InstUpstreamRequests, ep, rs)
		}
		return s
	}).count(1)
}

// OriginRateLimit records the origin's X-RateLimit-* headers as last seen:
// the requests allowed per window, those remaining, and when the window
// resets (a zero reset leaves the last one). Only remaining goes to EMF.
func (r *Recorder) OriginRateLimit(limit, remaining int, reset time.Time) {
	if r == nil || !r.on {
		return
	}
	r.rateLimitLeft.set(float64(remaining))
	if r.sink != nil {
		r.sink.Gauge(InstRateLimitLimit).Set(float64(limit))
		if !reset.IsZero() {
			r.sink.Gauge(InstRateLimitReset).Set(float64(reset.UnixMilli()) / 1e3)
		}
	}
}

// Batch records one batch request: how many symbols it asked for and how
// long it took.
func (r *Recorder) Batch(size int, d time.Duration) {
	if r == nil || !r.on {
		return
	}
	r.batchSize.observe(float64(size))
	r.batchDuration.duration(d)
}

// OriginBudgetLeft records the fleet-wide origin budget left in the current
// minute, as last seen.
func (r *Recorder) OriginBudgetLeft(n int) {
	if r == nil || !r.on {
		return
	}
	r.budgetLeft.set(float64(n))
}

// Prefetched counts n symbols handled by one prefetch run with the given
// result (PrefetchResultRefreshed, PrefetchResultSkipped or PrefetchResultFailed).
func (r *Recorder) Prefetched(result PrefetchResult, n int) {
	if r == nil || !r.on {
		return
	}
	i := result.index()
	r.prefetched.series(i, func() *series {
		return r.newSeries(defPrefetched, []string{prefetchResultNames[i]}, InstPrefetched, noInst)
	}).count(float64(n))
}

// PrefetchSkipped counts a prefetch run that did nothing, and why (for
// example ReasonMarketClosed).
func (r *Recorder) PrefetchSkipped(reason Reason) {
	if r == nil || !r.on {
		return
	}
	i := reason.index()
	r.skipped.series(i, func() *series {
		return r.newSeries(defPrefetchSkipped, []string{reasonNames[i]}, InstPrefetchSkipped, noInst)
	}).count(1)
}

// noInst stands for no instrument in newSeries.
const noInst Instrument = -1

// newSeries builds the series of one label combination: its EMF series of
// def and, with a sink, its counter and observer instruments (noInst for
// none), labelled ls. It runs once per combination, so it may allocate.
func (r *Recorder) newSeries(def *metricDef, ls []string, counter, observer Instrument) *series {
	s := &series{emf: r.agg(def, ls...)}
	if r.sink != nil && counter != noInst {
		s.counter = r.sink.Counter(counter, ls...)
	}
	if r.sink != nil && observer != noInst {
		s.observer = r.sink.Observer(observer, ls...)
	}
	return s
}

// agg returns the EMF series of def with the given dimension values (in
// def.dims order), creating it on first use, or nil when EMF is off. Series
// whose sink labels differ may share one EMF series: the EMF side of
// UpstreamRequests has no Endpoint dimension.
func (r *Recorder) agg(def *metricDef, values ...string) *agg {
	if !r.emf {
		return nil
	}
	a := newAgg(def, r.function, values)
	id := def.name + "\x00" + a.key
	r.aggMu.Lock()
	defer r.aggMu.Unlock()
	if old := r.aggs[id]; old != nil {
		return old
	}
	r.aggs[id] = a
	r.aggList = append(r.aggList, a)
	return a
}

// series is one combination of label values: its sink instruments (nil
// without a sink or when the metric has none of that kind) and its EMF
// series (nil when EMF is off).
type series struct {
	counter  Counter
	observer Observer
	gauge    Gauge
	emf      *agg
}

// count adds n to a counter.
func (s *series) count(n float64) {
	if s.counter != nil {
		s.counter.Add(n)
	}
	if s.emf != nil && s.emf.def.summed {
		s.emf.add(n)
	}
}

// duration observes d: in seconds for the sink, in milliseconds for EMF.
func (s *series) duration(d time.Duration) {
	if s.observer != nil {
		s.observer.Observe(d.Seconds())
	}
	if s.emf != nil && !s.emf.def.summed {
		s.emf.sample(float64(d) / float64(time.Millisecond))
	}
}

// observe records one sample of a unitless distribution.
func (s *series) observe(v float64) {
	if s.observer != nil {
		s.observer.Observe(v)
	}
	if s.emf != nil {
		s.emf.sample(v)
	}
}

// set records a gauge's value.
func (s *series) set(v float64) {
	if s.gauge != nil {
		s.gauge.Set(v)
	}
	if s.emf != nil {
		s.emf.sample(v)
	}
}

// family holds the series of one metric family, indexed by the combination
// of its labels' interned indexes.
type family struct {
	mu    sync.Mutex
	slots []atomic.Pointer[series]
}

func (f *family) init(n int) { f.slots = make([]atomic.Pointer[series], n) }

// series returns slot i's series, building it with mk on first use. The
// hot path is one atomic load; mk runs at most once per slot, under f.mu,
// so it may allocate.
func (f *family) series(i int, mk func() *series) *series {
	if s := f.slots[i].Load(); s != nil {
		return s
	}
	return f.create(i, mk)
}

func (f *family) create(i int, mk func() *series) *series {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.slots[i].Load(); s != nil {
		return s
	}
	s := mk()
	f.slots[i].Store(s)
	return s
}
