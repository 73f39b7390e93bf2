package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/catalog"
)

// soakPlan sizes the soak: the `make run` program under
// a mixed workload at full speed while its Redis is restarted (empty) and
// the simulator fails a share of requests and answers slowly.
type soakPlan struct {
	dur       time.Duration
	conns     int
	restarts  []time.Duration // offsets from the start of the load
	errorRate float64         // share of origin requests the simulator answers 500
	latency   time.Duration   // the simulator's added latency
	l1Bytes   int64           // the L1 bound set on the server (L1_MAX_BYTES)
}

var (
	fullSoak = soakPlan{dur: 60 * time.Second, conns: 500, restarts: []time.Duration{20 * time.Second, 40 * time.Second},
		errorRate: 0.05, latency: 20 * time.Millisecond, l1Bytes: 64 << 20}
	smokeSoak = soakPlan{dur: 3 * time.Second, conns: 50, restarts: []time.Duration{time.Second, 2 * time.Second},
		errorRate: 0.05, latency: 20 * time.Millisecond, l1Bytes: 64 << 20}
)

// soakWorkload describes the mix, for the report.
const soakWorkload = "60 % single quotes (Zipf), 20 % batches of 20, 10 % daily bars, 5 % option quotes (5 contracts), 5 % market status"

// redisRestart is one restart of the soak's Redis.
type redisRestart struct {
	AtS    float64 `json:"at_s"`    // seconds into the load
	DownMS float64 `json:"down_ms"` // from the stop signal to PING answered again
	Err    string  `json:"error,omitempty"`
}

// memory is the server's footprint at one instant.
type memory struct {
	RSS       int64 `json:"rss_bytes"`
	HeapInuse int64 `json:"heap_inuse_bytes"`
}

// soakResult is the soak's figures.
type soakResult struct {
	Load          loadResult     `json:"load"`
	Workload      string         `json:"workload"`
	ErrorRate     float64        `json:"origin_error_rate"`
	OriginLatency string         `json:"origin_latency"`
	Restarts      []redisRestart `json:"redis_restarts"`
	Before        memory         `json:"memory_before"`
	After         memory         `json:"memory_after"`
	L1BoundBytes  int64          `json:"l1_bound_bytes"`
}

// mixedTargets draws the soak's workload from a fixed random seed.
func mixedTargets(base string, syms []string, options []string) vegeta.Targeter {
	z := newZipf(len(syms), 44)
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(45, 46))
	return func(t *vegeta.Target) error {
		mu.Lock()
		p, o := r.IntN(100), r.IntN(max(len(options)-5, 1))
		mu.Unlock()
		switch {
		case p < 60:
			*t = target(base + quotePath(syms[z.next()]))
		case p < 80:
			idx := z.distinct(20)
			pick := make([]string, len(idx))
			for i, j := range idx {
				pick[i] = syms[j]
			}
			*t = target(base + batchPath(pick))
		case p < 90:
			*t = target(base + "/v2/stocks/" + syms[z.next()] + "/bars?timeframe=1Day&limit=5")
		case p < 95:
			*t = target(base + "/v1beta1/options/quotes/latest" + "?symbols=" + strings.Join(options[o:min(o+5, len(options))], ","))
		default:
			*t = target(base + catalog.PathMarketStatus)
		}
		return nil
	}
}

// optionContracts lists some contracts the simulator lists today: the first
// ten of each of its first three underlyings.
func optionContracts() []string {
	sim := alpacasim.New(alpacasim.Config{})
	var out []string
	for _, u := range alpacasim.OptionUnderlyings()[:min(3, len(alpacasim.OptionUnderlyings()))] {
		cs := sim.OptionSymbols(u)
		out = append(out, cs[:min(10, len(cs))]...)
	}
	return out
}

// soak runs the soak on a fresh instance of ours.
func (lr *loadRunner) soak(ctx context.Context, plan soakPlan) (*soakResult, error) {
	if err := lr.fresh(); err != nil {
		return nil, err
	}
	s, err := lr.launch.ours(ctx, lr.redis.url(), "L1_MAX_BYTES="+strconv.FormatInt(plan.l1Bytes, 10))
	if err != nil {
		return nil, err
	}
	defer s.stop()
	res := &soakResult{Workload: soakWorkload, ErrorRate: plan.errorRate, OriginLatency: plan.latency.String(), L1BoundBytes: plan.l1Bytes}
	if err := s.setLatency(ctx, plan.latency); err != nil {
		return nil, err
	}
	if err := s.sim(ctx, "/_sim/error-rate", url.Values{"rate": {strconv.FormatFloat(plan.errorRate, 'f', -1, 64)}}); err != nil {
		return nil, err
	}
	if res.Before, err = lr.footprint(ctx, s); err != nil {
		return nil, err
	}
	options := optionContracts()
	if len(options) == 0 {
		return nil, fmt.Errorf("soak: the simulator lists no option contracts today")
	}

	start := time.Now()
	restarts := make(chan []redisRestart, 1)
	go func() {
		var rs []redisRestart
		defer func() { restarts <- rs }()
		for _, at := range plan.restarts {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(at))):
			}
			t0 := time.Now()
			r := redisRestart{AtS: round(t0.Sub(start).Seconds(), 2)}
			if err := lr.redis.restart(ctx); err != nil {
				r.Err = err.Error()
			}
			r.DownMS = round(ms(time.Since(t0)), 1)
			rs = append(rs, r)
		}
	}()
	spec := attackSpec{conns: plan.conns, dur: plan.dur, targets: mixedTargets(s.url, lr.zipf, options)}
	res.Load, err = lr.measure(ctx, "soak", s, spec)
	res.Restarts = <-restarts
	res.Load.Note = fmt.Sprintf("Redis restarted empty %d times; simulator: %.0f %% errors, +%s", len(res.Restarts), plan.errorRate*100, plan.latency)
	if err != nil {
		return res, err
	}
	for _, r := range res.Restarts {
		if r.Err != "" {
			return res, fmt.Errorf("soak: Redis restart at %.1fs: %s", r.AtS, r.Err)
		}
	}
	if len(res.Restarts) != len(plan.restarts) {
		return res, fmt.Errorf("soak: %d of %d Redis restarts happened", len(res.Restarts), len(plan.restarts))
	}
	res.After, err = lr.footprint(ctx, s)
	return res, err
}

// footprint reads the server's RSS (from /proc) and Go heap in use (from its
// /metrics page).
func (lr *loadRunner) footprint(ctx context.Context, s *system) (memory, error) {
	var m memory
	var err error
	if m.RSS, err = s.proc.rss(); err != nil {
		return m, err
	}
	page, err := fetchBody(ctx, s.url+"/metrics")
	if err != nil {
		return m, err
	}
	v, ok := metricValue(page, "go_memstats_heap_inuse_bytes")
	if !ok {
		return m, fmt.Errorf("soak: no go_memstats_heap_inuse_bytes on /metrics")
	}
	m.HeapInuse = int64(v)
	return m, nil
}
