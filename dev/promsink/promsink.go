// Package promsink adapts the service's metrics to Prometheus: a
// metrics.Sink whose instruments are Prometheus collectors named opitios_*,
// for the local server's /metrics page. The Lambda functions do not link it.
package promsink

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// Histogram buckets. Latencies span an L1 hit (tens of µs) to an origin call
// at its deadline (seconds).
var (
	latencyBuckets  = []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5}
	upstreamBuckets = []float64{5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10}
	ageBuckets      = []float64{0.1, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200}
	batchBuckets    = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}
)

// Sink is a metrics.Sink over Prometheus collectors.
type Sink struct {
	apiLatency         *prometheus.HistogramVec
	apiRequests        *prometheus.CounterVec
	cacheRequests      *prometheus.CounterVec
	upstreamLatency    *prometheus.HistogramVec
	upstreamRequests   *prometheus.CounterVec
	dataAge            *prometheus.HistogramVec
	batchSize          prometheus.Histogram
	batchDuration      prometheus.Histogram
	coalesced          *prometheus.CounterVec
	budgetLeft         prometheus.Gauge
	rateLimitRemaining prometheus.Gauge
	rateLimitLimit     prometheus.Gauge
	rateLimitReset     prometheus.Gauge
	prefetched         *prometheus.CounterVec
	prefetchSkipped    *prometheus.CounterVec
}

// New returns a Sink whose collectors are registered with reg. A collector
// reg already holds under the same description is reused, so two Sinks on
// one registry share their series. It panics if reg refuses a collector for
// another reason, as prometheus.MustRegister does.
func New(reg prometheus.Registerer) *Sink {
	const ns = "opitios"
	return &Sink{
		apiLatency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "api_latency_seconds", Help: "API response latency by route pattern and HTTP status.", Buckets: latencyBuckets,
		}, []string{"route", "status"})),
		apiRequests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "api_requests_total", Help: "API responses by route pattern and HTTP status.",
		}, []string{"route", "status"})),
		cacheRequests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "cache_requests_total", Help: "Cache lookups and writes by layer (l1, l2, origin), result and data type.",
		}, []string{"layer", "result", "data_type"})),
		upstreamLatency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "upstream_latency_seconds", Help: "Origin call latency by endpoint.", Buckets: upstreamBuckets,
		}, []string{"endpoint"})),
		upstreamRequests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "upstream_requests_total", Help: "Origin calls by endpoint and result.",
		}, []string{"endpoint", "result"})),
		dataAge: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "data_age_seconds", Help: "Age of data served (time since fetched from the origin) by data type.", Buckets: ageBuckets,
		}, []string{"data_type"})),
		batchSize: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Name: "batch_size", Help: "Symbols per batch request.", Buckets: batchBuckets,
		})),
		batchDuration: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Name: "batch_duration_seconds", Help: "Batch request latency.", Buckets: latencyBuckets,
		})),
		coalesced: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "coalesced_total", Help: "Callers served by another caller's fetch, by data type.",
		}, []string{"data_type"})),
		budgetLeft: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "origin_budget_left", Help: "Fleet-wide origin requests left in the current minute, as last seen.",
		})),
		rateLimitRemaining: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "origin_ratelimit_remaining", Help: "The origin's X-RateLimit-Remaining, as last seen.",
		})),
		rateLimitLimit: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "origin_ratelimit_limit", Help: "The origin's X-RateLimit-Limit, as last seen.",
		})),
		rateLimitReset: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "origin_ratelimit_reset_timestamp_seconds", Help: "The origin's X-RateLimit-Reset (Unix seconds), as last seen.",
		})),
		prefetched: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "prefetched_symbols_total", Help: "Symbols handled by prefetch runs, by result.",
		}, []string{"result"})),
		prefetchSkipped: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "prefetch_skipped_total", Help: "Prefetch runs that did nothing, by reason.",
		}, []string{"reason"})),
	}
}

// register registers c with reg and returns it, or returns the collector reg
// already holds under c's description.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err)
}

// Counter returns the counter of in with labels.
func (s *Sink) Counter(in metrics.Instrument, labels ...string) metrics.Counter {
	switch in {
	case metrics.InstAPIRequests:
		return s.apiRequests.WithLabelValues(labels...)
	case metrics.InstCacheRequests:
		return s.cacheRequests.WithLabelValues(labels...)
	case metrics.InstUpstreamRequests:
		return s.upstreamRequests.WithLabelValues(labels...)
	case metrics.InstCoalesced:
		return s.coalesced.WithLabelValues(labels...)
	case metrics.InstPrefetched:
		return s.prefetched.WithLabelValues(labels...)
	case metrics.InstPrefetchSkipped:
		return s.prefetchSkipped.WithLabelValues(labels...)
	}
	panic("promsink: no counter for instrument")
}

// Observer returns the histogram of in with labels.
func (s *Sink) Observer(in metrics.Instrument, labels ...string) metrics.Observer {
	switch in {
	case metrics.InstAPILatency:
		return s.apiLatency.WithLabelValues(labels...)
	case metrics.InstUpstreamLatency:
		return s.upstreamLatency.WithLabelValues(labels...)
	case metrics.InstDataAge:
		return s.dataAge.WithLabelValues(labels...)
	case metrics.InstBatchSize:
		return s.batchSize
	case metrics.InstBatchDuration:
		return s.batchDuration
	}
	panic("promsink: no histogram for instrument")
}

// Gauge returns the gauge of in.
func (s *Sink) Gauge(in metrics.Instrument) metrics.Gauge {
	switch in {
	case metrics.InstBudgetLeft:
		return s.budgetLeft
	case metrics.InstRateLimitRemaining:
		return s.rateLimitRemaining
	case metrics.InstRateLimitLimit:
		return s.rateLimitLimit
	case metrics.InstRateLimitReset:
		return s.rateLimitReset
	}
	panic("promsink: no gauge for instrument")
}
