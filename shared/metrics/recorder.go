package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Interner sizes: a label takes one value fewer than its size before new
// values are recorded as Other (slot 0 is Other itself).
const (
	layerValues    = 8
	resultValues   = 16
	dataTypeValues = 16
	routeValues    = 32
	statusValues   = 32
	endpointValues = 16
	reasonValues   = 8
)

// Recorder records the service's metrics vocabulary. With Options.EMF it
// aggregates them for FlushEMF, once per Lambda invocation; with a Sink
// it hands them to a Sink (Prometheus, locally); with both it does both,
// and with neither it records nothing. A nil *Recorder is valid and records
// nothing, so a component may be built without metrics.
//
// All methods are safe for concurrent use. The recording methods do not
// allocate once a combination of label values has been seen: each label
// value is interned to a small index and the combination's sink
// instruments and EMF series are resolved once. A label takes a bounded number
// of distinct values: 7 layers, 7 prefetch skip reasons, 15 cache results,
// upstream results, prefetch results, data types or endpoints, 31 routes or
// statuses. Values beyond those, and values that cannot be labels (empty,
// over 250 bytes, invalid UTF-8, an HTTP status outside 100–599), are
// recorded as Other.
type Recorder struct {
	on       bool // EMF or a sink
	emf      bool
	function string
	sink     Sink

	layers, cacheResults, dataTypes, routes *interner[string]
	endpoints, upstreamResults              *interner[string]
	prefetchResults, reasons                *interner[string]
	statuses                                *interner[int]

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
		layers:          newInterner(layerValues, stringLabel),
		cacheResults:    newInterner(resultValues, stringLabel),
		dataTypes:       newInterner(dataTypeValues, stringLabel),
		routes:          newInterner(routeValues, stringLabel),
		endpoints:       newInterner(endpointValues, stringLabel),
		upstreamResults: newInterner(resultValues, stringLabel),
		prefetchResults: newInterner(resultValues, stringLabel),
		reasons:         newInterner(reasonValues, stringLabel),
		statuses:        newInterner(statusValues, statusLabel),
		aggs:            map[string]*agg{},
	}
	r.emf, r.function, r.sink = o.EMF, o.Function, o.Sink
	r.on = r.emf || r.sink != nil
	r.cache.init(layerValues * resultValues * dataTypeValues)
	r.api.init(routeValues * statusValues)
	r.upLatency.init(endpointValues)
	r.upRequests.init(endpointValues * resultValues)
	r.dataAge.init(dataTypeValues)
	r.coalesced.init(dataTypeValues)
	r.prefetched.init(resultValues)
	r.skipped.init(reasonValues)

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

// CacheResult counts one cache lookup or write: layer is "l1", "l2" or
// "origin", result one of the Result* constants.
func (r *Recorder) CacheResult(layer, result, dataType string) {
	if r == nil || !r.on {
		return
	}
	l, res, dt := r.layers.index(layer), r.cacheResults.index(result), r.dataTypes.index(dataType)
	i := (l*resultValues+res)*dataTypeValues + dt
	s := r.cache.get(i)
	if s == nil {
		s = r.cache.create(i, func() *series {
			ls := []string{r.layers.labelOf(l), r.cacheResults.labelOf(res), r.dataTypes.labelOf(dt)}
			s := &series{emf: r.agg(defCacheRequests, ls...)}
			if r.sink != nil {
				s.counter = r.sink.Counter(InstCacheRequests, ls...)
			}
			return s
		})
	}
	s.count(1)
}

// Coalesced counts a caller served by another caller's fetch of the same
// key, in this instance or through the fleet-wide lock.
func (r *Recorder) Coalesced(dataType string) {
	if r == nil || !r.on {
		return
	}
	i := r.dataTypes.index(dataType)
	s := r.coalesced.get(i)
	if s == nil {
		s = r.coalesced.create(i, func() *series {
			dt := r.dataTypes.labelOf(i)
			s := &series{emf: r.agg(defCoalesced, dt)}
			if r.sink != nil {
				s.counter = r.sink.Counter(InstCoalesced, dt)
			}
			return s
		})
	}
	s.count(1)
}

// APIRequest records one API response: its route (the route pattern, not
// the path), HTTP status and latency.
func (r *Recorder) APIRequest(route string, status int, d time.Duration) {
	if r == nil || !r.on {
		return
	}
	ro, st := r.routes.index(route), r.statuses.index(status)
	i := ro*statusValues + st
	s := r.api.get(i)
	if s == nil {
		s = r.api.create(i, func() *series {
			ls := []string{r.routes.labelOf(ro), r.statuses.labelOf(st)}
			s := &series{emf: r.agg(defAPILatency, ls...)}
			if r.sink != nil {
				s.observer = r.sink.Observer(InstAPILatency, ls...)
				s.counter = r.sink.Counter(InstAPIRequests, ls...)
			}
			return s
		})
	}
	s.count(1)
	s.duration(d)
}

// DataAge records the age of data served: the time since it was fetched
// from the origin.
func (r *Recorder) DataAge(dataType string, age time.Duration) {
	if r == nil || !r.on {
		return
	}
	i := r.dataTypes.index(dataType)
	s := r.dataAge.get(i)
	if s == nil {
		s = r.dataAge.create(i, func() *series {
			dt := r.dataTypes.labelOf(i)
			s := &series{emf: r.agg(defDataAge, dt)}
			if r.sink != nil {
				s.observer = r.sink.Observer(InstDataAge, dt)
			}
			return s
		})
	}
	s.duration(age)
}

// UpstreamRequest records one call to the origin: endpoint names the origin
// endpoint, result is one of the Upstream* constants, d the call's latency.
func (r *Recorder) UpstreamRequest(endpoint, result string, d time.Duration) {
	if r == nil || !r.on {
		return
	}
	e, res := r.endpoints.index(endpoint), r.upstreamResults.index(result)
	s := r.upLatency.get(e)
	if s == nil {
		s = r.upLatency.create(e, func() *series {
			ep := r.endpoints.labelOf(e)
			s := &series{emf: r.agg(defUpstreamLatency, ep)}
			if r.sink != nil {
				s.observer = r.sink.Observer(InstUpstreamLatency, ep)
			}
			return s
		})
	}
	s.duration(d)
	i := e*resultValues + res
	s = r.upRequests.get(i)
	if s == nil {
		s = r.upRequests.create(i, func() *series {
			ep, rs := r.endpoints.labelOf(e), r.upstreamResults.labelOf(res)
			s := &series{emf: r.agg(defUpstreamRequests, rs)}
			if r.sink != nil {
				s.counter = r.sink.Counter(InstUpstreamRequests, ep, rs)
			}
			return s
		})
	}
	s.count(1)
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
func (r *Recorder) Prefetched(result string, n int) {
	if r == nil || !r.on {
		return
	}
	i := r.prefetchResults.index(result)
	s := r.prefetched.get(i)
	if s == nil {
		s = r.prefetched.create(i, func() *series {
			rs := r.prefetchResults.labelOf(i)
			s := &series{emf: r.agg(defPrefetched, rs)}
			if r.sink != nil {
				s.counter = r.sink.Counter(InstPrefetched, rs)
			}
			return s
		})
	}
	s.count(float64(n))
}

// PrefetchSkipped counts a prefetch run that did nothing, and why (for
// example ReasonMarketClosed).
func (r *Recorder) PrefetchSkipped(reason string) {
	if r == nil || !r.on {
		return
	}
	i := r.reasons.index(reason)
	s := r.skipped.get(i)
	if s == nil {
		s = r.skipped.create(i, func() *series {
			rs := r.reasons.labelOf(i)
			s := &series{emf: r.agg(defPrefetchSkipped, rs)}
			if r.sink != nil {
				s.counter = r.sink.Counter(InstPrefetchSkipped, rs)
			}
			return s
		})
	}
	s.count(1)
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

func (f *family) get(i int) *series { return f.slots[i].Load() }

// create returns slot i's series, building it with mk if it is still empty.
// It runs once per label combination, so mk may allocate.
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
