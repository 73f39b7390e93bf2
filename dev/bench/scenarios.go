package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
)

// Scenario names, as in results.json and the verdict table.
const (
	scL1       = "l1-hits"  // cached symbols, as fast as 500 connections go (also the load check)
	scZipf     = "zipf"     // single quotes over 500 symbols, Zipf's law, origin +50 ms
	scBatch    = "batch20"  // batches of 20 Zipf-drawn symbols, origin +50 ms
	scStampede = "stampede" // 200 clients at once on one new symbol, per round
)

// loadPlan sizes the load section.
type loadPlan struct {
	conns           int           // concurrent connections
	warmup          time.Duration // unrecorded load before the max-rate runs
	l1Dur           time.Duration // the L1-hit runs (the load check asks 20 s)
	dur             time.Duration // the other runs
	zipfRate        int           // requests per second of the Zipf runs
	batchRate       int           // requests per second of the batch runs
	originLatency   time.Duration // added by the simulator in the Zipf, batch and stampede runs
	hotSymbols      int           // symbols of the L1-hit runs
	zipfSymbols     int           // symbols of the Zipf and batch runs
	stampedeClients int
	stampedeRounds  int
	fleet           int // instances of ours in the stampede, sharing one Redis
	profileDur      time.Duration
}

var (
	fullLoad = loadPlan{conns: 500, warmup: 2 * time.Second, l1Dur: 20 * time.Second, dur: 15 * time.Second,
		zipfRate: 1000, batchRate: 200, originLatency: 50 * time.Millisecond, hotSymbols: 10, zipfSymbols: 500,
		stampedeClients: 200, stampedeRounds: 5, fleet: 2, profileDur: 10 * time.Second}
	smokeLoad = loadPlan{conns: 50, warmup: 200 * time.Millisecond, l1Dur: time.Second, dur: time.Second,
		zipfRate: 200, batchRate: 50, originLatency: 50 * time.Millisecond, hotSymbols: 10, zipfSymbols: 500,
		stampedeClients: 50, stampedeRounds: 2, fleet: 2, profileDur: time.Second}
)

// symbolSets splits the simulator's universe, shuffled with a fixed random
// seed so that Zipf's popular ranks are not all A-names: the Zipf and batch
// symbols, and the rest (never asked before the stampede).
func symbolSets(zipfN int) (zipf, rest []string, err error) {
	u := slices.Clone(alpacasim.Universe())
	if len(u) < zipfN+1 {
		return nil, nil, fmt.Errorf("the simulator knows %d symbols; the load needs %d", len(u), zipfN+1)
	}
	rand.New(rand.NewPCG(7, 11)).Shuffle(len(u), func(i, j int) { u[i], u[j] = u[j], u[i] })
	return u[:zipfN], u[zipfN:], nil
}

// loadRunner runs the scenarios, each on freshly started systems over an
// emptied Redis of its own, so no scenario inherits another's caches.
type loadRunner struct {
	plan   loadPlan
	launch *launcher
	redis  *redisServer
	log    io.Writer
	zipf   []string
	rest   []string
	wrk    bool // wrk drives the max-rate runs
	// profile is the profiled L1-hit run of ours, once l1Hits has run.
	profile *profileResult
}

// scenarioFunc runs one scenario and returns its results (one per system).
type scenarioFunc func(ctx context.Context) ([]loadResult, error)

// run runs every scenario in order; a scenario that fails is reported in
// errs and the others still run.
func (lr *loadRunner) run(ctx context.Context) (results []loadResult, errs []string) {
	for _, sc := range []struct {
		name string
		fn   scenarioFunc
	}{
		{scL1, lr.l1Hits},
		{scZipf, lr.zipfScenario},
		{scBatch, lr.batchScenario},
		{scStampede, lr.stampedeScenario},
	} {
		if ctx.Err() != nil {
			errs = append(errs, sc.name+": interrupted")
			break
		}
		fmt.Fprintf(lr.log, "load: %s\n", sc.name)
		rs, err := sc.fn(ctx)
		// A scenario that failed before measuring leaves an empty result.
		rs = slices.DeleteFunc(rs, func(r loadResult) bool { return r.Latency == nil })
		for _, r := range rs {
			fmt.Fprintf(lr.log, "load:   %-6s %8d req %6d err %8.0f rps  p50 %7.2f  p95 %7.2f  p99 %7.2f ms  origin %d\n",
				r.System, r.Requests, r.Errors, r.RPS, r.Latency.P50, r.Latency.P95, r.Latency.P99, r.OriginCalls)
		}
		results = append(results, rs...)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", sc.name, err))
			fmt.Fprintf(lr.log, "load: %s FAILED: %v\n", sc.name, err)
		}
	}
	return results, errs
}

// fresh empties the Redis before a scenario.
func (lr *loadRunner) fresh() error { return lr.redis.flush() }

// measure runs spec against s after resetting its origin counts, and fills in
// the result's origin calls and CPU figures.
func (lr *loadRunner) measure(ctx context.Context, scenario string, s *system, spec attackSpec) (loadResult, error) {
	if s.simURL != "" {
		if err := s.resetOrigin(ctx); err != nil {
			return loadResult{}, err
		}
	}
	cpu0, cpuErr := s.proc.cpu()
	r, gen, el, err := lr.load(ctx, scenario, s.name, spec)
	cpu1, cpuErr1 := s.proc.cpu()
	if err != nil {
		return r, err
	}
	r.Load, r.Connections = spec.load(), spec.conns
	r.GeneratorCPUPct = cpuShare(gen, el, runtime.NumCPU())
	if cpuErr == nil && cpuErr1 == nil && r.Requests > 0 {
		r.ServerCPUus = round(float64(cpu1-cpu0)/float64(time.Microsecond)/float64(r.Requests), 1)
		r.ServerCPUPct = cpuShare(cpu1-cpu0, el, runtime.NumCPU())
	}
	if s.simURL != "" {
		n, err := s.originCalls(ctx)
		if err != nil {
			return r, err
		}
		r.OriginCalls = n
		if r.Requests > 0 {
			r.OriginPer1000 = round(float64(n)*1000/float64(r.Requests), 2)
		}
	}
	return r, ctx.Err()
}

// load runs spec with its generator and returns the result, the
// generator's CPU time and the run's wall time.
func (lr *loadRunner) load(ctx context.Context, scenario, system string, spec attackSpec) (loadResult, time.Duration, time.Duration, error) {
	if len(spec.wrk) > 0 {
		w, err := runWrk(ctx, lr.launch.logs, spec.wrk, spec.conns, spec.dur)
		if err != nil {
			return loadResult{}, 0, 0, err
		}
		r := loadResult{Scenario: scenario, System: system, Generator: genWrk, DurationS: round(w.Duration.Seconds(), 2),
			Requests: w.Requests, Errors: w.errorCount(), Latency: &w.Latency}
		if w.Duration > 0 {
			r.RPS = round(float64(w.Requests)/w.Duration.Seconds(), 0)
		}
		if r.Errors > 0 {
			r.ErrorsByClass = w.Errors
		}
		return r, w.CPU, w.Elapsed, nil
	}
	c := newCollector()
	gen0, _ := selfCPU()
	el := attack(ctx, scenario+"/"+system, spec, c)
	gen1, _ := selfCPU()
	r := c.result(scenario, system, el)
	r.Generator = genVegeta
	return r, gen1 - gen0, el, nil
}

// l1Hits loads ours with requests for a few cached symbols, as fast as the
// connections go, then the bare server with the same body and load. With
// wrk (the full run has it; make bench installs it) the generator is a C
// program that leaves the servers CPU-bound; vegeta, in this process,
// saturates before a bare net/http server does. After the measured run,
// a profiled one records where ours spends its CPU and allocations.
func (lr *loadRunner) l1Hits(ctx context.Context) ([]loadResult, error) {
	if err := lr.fresh(); err != nil {
		return nil, err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// Logs at info: a line per request, as `make run` writes them.
	s, err := lr.launch.ours(ctx, lr.redis.url(), envPprofAddr+"="+pprofAddr, "LOG_LEVEL=info")
	if err != nil {
		return nil, err
	}
	defer s.stop()
	defer s.proc.trimLog(logKeepBytes)
	hot := lr.zipf[:lr.plan.hotSymbols]
	paths := make([]string, len(hot))
	var body []byte
	for i, sym := range hot {
		paths[i] = quotePath(sym)
		b, err := fetchBody(ctx, s.url+paths[i])
		if err != nil {
			return nil, err
		}
		if i == 0 {
			body = b
		}
	}
	ours, err := lr.maxRate(ctx, s, paths)
	ours.Note = fmt.Sprintf("%d cached symbols, round robin", len(hot))
	if err != nil {
		return []loadResult{ours}, err
	}
	spec := lr.maxRateSpec(s.url, paths, lr.plan.profileDur)
	if lr.profile, err = lr.profileUnderLoad(ctx, s, pprofAddr, lr.launch.localBin, spec); err != nil {
		return []loadResult{ours}, fmt.Errorf("profile: %w", err)
	}
	s.stop()

	b, err := lr.launch.bare(ctx, body)
	if err != nil {
		return []loadResult{ours}, err
	}
	defer b.stop()
	bare, err := lr.maxRate(ctx, b, paths)
	bare.Note = fmt.Sprintf("net/http returning the same %d-byte body for every path", len(body))
	return []loadResult{ours, bare}, err
}

// maxRateSpec is the L1-hit load on base's paths, round robin, for dur:
// with wrk when the run has it, else with vegeta.
func (lr *loadRunner) maxRateSpec(base string, paths []string, dur time.Duration) attackSpec {
	urls := make([]string, len(paths))
	for i, p := range paths {
		urls[i] = base + p
	}
	spec := attackSpec{conns: lr.plan.conns, dur: dur, targets: roundRobin(urls...)}
	if lr.wrk {
		spec.wrk = urls
	}
	return spec
}

// maxRate warms s up, then measures it under the L1-hit load.
func (lr *loadRunner) maxRate(ctx context.Context, s *system, paths []string) (loadResult, error) {
	if _, _, _, err := lr.load(ctx, "warmup", s.name, lr.maxRateSpec(s.url, paths, lr.plan.warmup)); err != nil {
		return loadResult{}, err
	}
	return lr.measure(ctx, scL1, s, lr.maxRateSpec(s.url, paths, lr.plan.l1Dur))
}

// zipfScenario and batchScenario load ours and then the original design with
// the same traffic at the same fixed rate, the origin adding
// originLatency, from cold caches.
func (lr *loadRunner) zipfScenario(ctx context.Context) ([]loadResult, error) {
	return lr.versusNaive(ctx, scZipf, lr.plan.zipfRate, func(base string) attackSpec {
		return attackSpec{targets: zipfQuotes(base, lr.zipf, 42)}
	}, fmt.Sprintf("single quotes, Zipf s=1.1 over %d symbols, cold start, origin +%s", len(lr.zipf), lr.plan.originLatency))
}

func (lr *loadRunner) batchScenario(ctx context.Context) ([]loadResult, error) {
	return lr.versusNaive(ctx, scBatch, lr.plan.batchRate, func(base string) attackSpec {
		return attackSpec{targets: zipfBatches(base, lr.zipf, 20, 43)}
	}, fmt.Sprintf("batches of 20 distinct Zipf-drawn symbols of %d, cold start, origin +%s", len(lr.zipf), lr.plan.originLatency))
}

func (lr *loadRunner) versusNaive(ctx context.Context, scenario string, rate int, spec func(base string) attackSpec, note string) ([]loadResult, error) {
	var out []loadResult
	for _, start := range []func(context.Context, string) (*system, error){
		func(ctx context.Context, url string) (*system, error) { return lr.launch.ours(ctx, url) },
		lr.launch.naive,
	} {
		if err := lr.fresh(); err != nil {
			return out, err
		}
		s, err := start(ctx, lr.redis.url())
		if err != nil {
			return out, err
		}
		r, err := func() (loadResult, error) {
			defer s.stop()
			if err := s.setLatency(ctx, lr.plan.originLatency); err != nil {
				return loadResult{}, err
			}
			sp := spec(s.url)
			sp.conns, sp.rate, sp.dur = lr.plan.conns, rate, lr.plan.dur
			return lr.measure(ctx, scenario, s, sp)
		}()
		r.Note = note
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// stampedeScenario releases stampedeClients at once on one new symbol per
// round: against a fleet of instances of ours sharing one Redis (so both the
// in-process and the cross-instance coalescing are at work), then against
// the original design.
func (lr *loadRunner) stampedeScenario(ctx context.Context) ([]loadResult, error) {
	if lr.plan.stampedeRounds > len(lr.rest) {
		return nil, fmt.Errorf("%d rounds need as many unused symbols; %d are left", lr.plan.stampedeRounds, len(lr.rest))
	}
	var out []loadResult
	for _, sysName := range []string{sysOurs, sysNaive} {
		if err := lr.fresh(); err != nil {
			return out, err
		}
		var fleet []*system
		n := 1
		if sysName == sysOurs {
			n = lr.plan.fleet
		}
		var err error
		for range n {
			var s *system
			if sysName == sysOurs {
				s, err = lr.launch.ours(ctx, lr.redis.url())
			} else {
				s, err = lr.launch.naive(ctx, lr.redis.url())
			}
			if err != nil {
				break
			}
			fleet = append(fleet, s)
		}
		var r loadResult
		if err == nil {
			r, err = lr.stampedeRounds(ctx, fleet)
		}
		for _, s := range fleet {
			s.stop()
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (lr *loadRunner) stampedeRounds(ctx context.Context, fleet []*system) (loadResult, error) {
	bases := make([]string, len(fleet))
	for i, s := range fleet {
		bases[i] = s.url
		if err := s.setLatency(ctx, lr.plan.originLatency); err != nil {
			return loadResult{}, err
		}
	}
	c := newCollector()
	var perRound []int64
	var total int64
	start := time.Now()
	for round := range lr.plan.stampedeRounds {
		for _, s := range fleet {
			if err := s.resetOrigin(ctx); err != nil {
				return loadResult{}, err
			}
		}
		if err := stampede(ctx, bases, quotePath(lr.rest[round]), lr.plan.stampedeClients, c); err != nil {
			return loadResult{}, err
		}
		var calls int64
		for _, s := range fleet {
			n, err := s.originCalls(ctx)
			if err != nil {
				return loadResult{}, err
			}
			calls += n
		}
		perRound = append(perRound, calls)
		total += calls
	}
	r := c.result(scStampede, fleet[0].name, time.Since(start))
	r.Load = fmt.Sprintf("%d at once ×%d", lr.plan.stampedeClients, lr.plan.stampedeRounds)
	r.Connections = lr.plan.stampedeClients
	r.RPS = 0 // a burst, not a rate
	r.OriginCalls = total
	r.OriginCallsPerRound = perRound
	if r.Requests > 0 {
		r.OriginPer1000 = round(float64(total)*1000/float64(r.Requests), 2)
	}
	r.Note = fmt.Sprintf("%d instance(s) sharing one Redis; one new symbol per round; origin +%s", len(fleet), lr.plan.originLatency)
	return r, nil
}
