package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// Verdict statuses.
const (
	statusPass = "pass"
	statusFail = "fail"
	statusNA   = "n/a" // not measured (its scenario failed or did not run)
)

// verdict is one row of the verdict table: a service level, its target, the
// measured figure and whether it holds.
type verdict struct {
	Level    string `json:"level"`
	Source   string `json:"source"` // "original design", "ours", "load check", "soak"
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Status   string `json:"status"`
	Miss     string `json:"miss,omitempty"` // by how much, when failed
	// Correctness marks a promise that does not depend on the machine's
	// speed (no errors, coalescing, freshness, round trips): its failure
	// fails the run, in smoke mode too.
	Correctness bool `json:"correctness"`
}

// findings is what the verdicts are computed from.
type findings struct {
	micro map[string]microResult
	load  []loadResult
	soak  *soakResult
	cold  *coldStartResult
	hub   *hubResult
	smoke bool
}

func (f findings) loadOf(scenario, system string) (loadResult, bool) {
	for _, r := range f.load {
		if r.Scenario == scenario && r.System == system {
			return r, true
		}
	}
	return loadResult{}, false
}

// verdicts computes the table: every service level of the original design
// and every one of ours, plus the load check and the soak.
func verdicts(f findings) []verdict {
	var out []verdict
	add := func(v verdict) { out = append(out, v) }
	na := func(v verdict, what string) verdict {
		v.Status, v.Measured = statusNA, "not measured ("+what+" missing)"
		return v
	}
	zipf, zipfOK := f.loadOf(scZipf, sysOurs)
	batch, batchOK := f.loadOf(scBatch, sysOurs)
	l1, l1OK := f.loadOf(scL1, sysOurs)
	bare, bareOK := f.loadOf(scL1, sysBare)
	stamp, stampOK := f.loadOf(scStampede, sysOurs)
	naiveStamp, naiveStampOK := f.loadOf(scStampede, sysNaive)
	naiveZipf, naiveZipfOK := f.loadOf(scZipf, sysNaive)

	// ---- the original design's service levels
	v := verdict{Level: "Cached response p95", Source: "original design", Target: "< 50 ms"}
	if zipfOK && zipf.HitLatency != nil {
		v = below(v, zipf.HitLatency.P95, 50, "ms")
		v.Measured += fmt.Sprintf(" (cache hits of %s at %s, %d connections)", scZipf, zipf.Load, zipf.Connections)
		add(v)
	} else {
		add(na(v, scZipf))
	}

	v = verdict{Level: "Real-time (miss) p95", Source: "original design", Target: "< 500 ms"}
	if zipfOK && zipf.MissLatency != nil {
		v = below(v, zipf.MissLatency.P95, 500, "ms")
		v.Measured += fmt.Sprintf(" (misses of %s, origin +50 ms)", scZipf)
		add(v)
	} else {
		add(na(v, scZipf))
	}

	v = verdict{Level: "Batch of 20 p95", Source: "original design", Target: "< 2 s"}
	if batchOK {
		v = below(v, batch.Latency.P95, 2000, "ms")
		v.Measured += fmt.Sprintf(" (%s at %s, cold start, origin +50 ms)", scBatch, batch.Load)
		add(v)
	} else {
		add(na(v, scBatch))
	}

	v = verdict{Level: "Throughput, one instance", Source: "original design", Target: "≥ 1000 rps"}
	if l1OK {
		v = atLeast(v, l1.RPS, 1000, "rps")
		v.Measured += fmt.Sprintf(" (%s, %d connections)", scL1, l1.Connections)
		add(v)
	} else {
		add(na(v, scL1))
	}

	v = verdict{Level: "Concurrent users", Source: "original design", Target: "500", Correctness: true}
	if l1OK {
		v.Measured = fmt.Sprintf("%d connections, %d errors in %d requests", l1.Connections, l1.Errors, l1.Requests)
		v.Status = pass(l1.Errors == 0 && (f.smoke || l1.Connections >= 500))
		add(v)
	} else {
		add(na(v, scL1))
	}

	v = verdict{Level: "Hit rate (market hours)", Source: "original design", Target: "> 80 %"}
	if zipfOK && zipf.HitRate != nil {
		v = atLeast(v, *zipf.HitRate*100, 80, "%")
		v.Measured += fmt.Sprintf(" (%s, cold start, no prefetch)", scZipf)
		add(v)
	} else {
		add(na(v, scZipf))
	}

	age := dataAge(f)
	age.Source, age.Target = "original design", "quotes < 30 s (in the regular session)"
	add(age)

	// ---- ours
	m := f.micro
	v = verdict{Level: "L1 hit, in process", Source: "ours", Target: "< 10 µs on top of the event decode"}
	if h, ok := m["HandlerL1Hit"]; ok {
		v = below(v, h.NsPerOp/1000, 10, "µs")
		if d, ok := m["FloorEventDecode"]; ok {
			v.Measured += fmt.Sprintf(" (event decode: %s)", fmtNs(d.NsPerOp))
		}
		add(v)
	} else {
		add(na(v, "HandlerL1Hit"))
	}

	v = verdict{Level: "L1 lookup", Source: "ours", Target: "< 100 ns (go-redis/cache ≈ 160 ns)"}
	if c, ok := m["CacheL1Hit"]; ok {
		v = below(v, c.NsPerOp, 100, "ns")
		var extra []string
		if a, ok := m["AnchorGoRedisCacheL1Hit"]; ok {
			extra = append(extra, "go-redis/cache "+fmtNs(a.NsPerOp))
		}
		if o, ok := m["FloorOtterGet"]; ok {
			extra = append(extra, "otter alone "+fmtNs(o.NsPerOp))
		}
		if len(extra) > 0 {
			v.Measured += " (" + strings.Join(extra, ", ") + ")"
		}
		add(v)
	} else {
		add(na(v, "CacheL1Hit"))
	}

	v = verdict{Level: "L2 hit", Source: "ours", Target: "≤ 1.2 × one raw Redis GET"}
	if p, ok := m["PairL2Hit"]; ok {
		v = pairRatio(v, p, "handler", "get", "GET", 1.2)
		if a, ok := m["AnchorGoRedisCacheL2Hit"]; ok {
			if g, ok := m["FloorRedisGet"]; ok && g.NsPerOp > 0 {
				v.Measured += fmt.Sprintf("; go-redis/cache %.2f× (separate runs)", a.NsPerOp/g.NsPerOp)
			}
		}
		add(v)
	} else {
		add(na(v, "PairL2Hit"))
	}

	v = verdict{Level: "Real-time (miss)", Source: "ours", Target: "origin latency + < 2 ms"}
	hm, ok1 := m["HandlerMiss"]
	og, ok2 := m["FloorOriginGet"]
	if ok1 && ok2 {
		over := hm.NsPerOp - og.NsPerOp
		v = below(v, over/1e6, 2, "ms")
		v.Measured = fmt.Sprintf("+%s (miss %s − bare origin call %s)", fmtNs(over), fmtNs(hm.NsPerOp), fmtNs(og.NsPerOp))
		if zipfOK && zipf.MissLatency != nil {
			v.Measured += fmt.Sprintf("; under load, miss p95 = origin +%.1f ms", zipf.MissLatency.P95-50)
		}
		add(withMissRoundTrips(v, hm))
	} else {
		add(na(v, "HandlerMiss or FloorOriginGet"))
	}

	v = verdict{Level: "Batch of 20, round trips", Source: "ours", Target: "≤ 1 L2 read + ≤ 1 origin call", Correctness: true}
	if b, ok := m["HandlerBatch20Mixed"]; ok {
		reads, calls := b.Metrics["l2-reads/op"], b.Metrics["origin-calls/op"]
		v.Measured = fmt.Sprintf("%.2f L2 reads + %.2f origin calls per batch (10 in L1, 10 new); %.2f Redis round trips in all",
			reads, calls, b.Metrics["redis-rtt/op"])
		v.Status = pass(reads <= 1 && calls <= 1)
		if v.Status == statusFail {
			v.Miss = fmt.Sprintf("%.2f reads, %.2f calls", reads, calls)
		}
		add(v)
	} else {
		add(na(v, "HandlerBatch20Mixed"))
	}

	v = verdict{Level: "Batch of 20, all in L2", Source: "ours", Target: "≤ 1.3 × one raw pipeline of 20"}
	if p, ok := m["PairBatch20L2"]; ok {
		add(pairRatio(v, p, "handler", "pipeline", "pipeline", 1.3))
	} else {
		add(na(v, "PairBatch20L2"))
	}

	v = verdict{Level: "Throughput, one instance", Source: "ours", Target: "≥ 0.5 × bare net/http's rps, p99 ≤ 2 × its p99, same body and load"}
	if l1OK && bareOK && bare.RPS > 0 {
		v = throughput(v, l1, bare)
		add(v)
	} else {
		add(na(v, scL1))
	}

	v = verdict{Level: "Concurrent users", Source: "ours", Target: "500 connections, no errors", Correctness: true}
	var ours []loadResult
	for _, r := range f.load {
		if r.System == sysOurs {
			ours = append(ours, r)
		}
	}
	if len(ours) > 0 {
		errs, reqs, conns := 0, 0, 0
		var names []string
		for _, r := range ours {
			errs += r.Errors
			reqs += r.Requests
			conns = max(conns, r.Connections)
			names = append(names, r.Scenario)
		}
		v.Measured = fmt.Sprintf("%d errors in %d requests (%s), up to %d connections", errs, reqs, strings.Join(names, ", "), conns)
		v.Status = pass(errs == 0 && (f.smoke || conns >= 500))
		add(v)
	} else {
		add(na(v, "load"))
	}

	v = verdict{Level: "Hit rate, hot set", Source: "ours", Target: "> 95 % (with prefetch)"}
	if zipfOK && zipf.HitRate != nil {
		v = atLeast(v, *zipf.HitRate*100, 95, "%")
		v.Measured += fmt.Sprintf(" (%s from cold, prefetch off: a lower bound)", scZipf)
		if naiveZipfOK && naiveZipf.HitRate != nil {
			v.Measured += fmt.Sprintf("; original design %.1f %%", *naiveZipf.HitRate*100)
		}
		add(v)
	} else {
		add(na(v, scZipf))
	}

	v = verdict{Level: "Origin calls under a stampede", Source: "ours", Target: "1 per key per TTL, fleet-wide", Correctness: true}
	if stampOK && len(stamp.OriginCallsPerRound) > 0 {
		worst := int64(0)
		for _, n := range stamp.OriginCallsPerRound {
			worst = max(worst, n)
		}
		v.Measured = fmt.Sprintf("%v per round (%s)", stamp.OriginCallsPerRound, stamp.Load)
		if naiveStampOK {
			v.Measured += fmt.Sprintf("; original design %v", naiveStamp.OriginCallsPerRound)
		}
		if s, ok := m["HandlerStorm200"]; ok {
			v.Measured += fmt.Sprintf("; in process, %.2f per storm of %d", s.Metrics["origin-calls/op"], stormSize)
		}
		v.Status = pass(worst == 1)
		if v.Status == statusFail {
			v.Miss = fmt.Sprintf("worst round: %d calls", worst)
		}
		add(v)
	} else {
		add(na(v, scStampede))
	}

	age = dataAge(f)
	age.Source, age.Target = "ours", "never exceeded"
	add(age)

	v = verdict{Level: "Cold start", Source: "ours", Target: "api bootstrap ≤ 10 MB (arm64); init beside a minimal aws-lambda-go function"}
	api, apiOK := f.cold.row("api")
	hello, helloOK := f.cold.row("hello")
	if apiOK && helloOK {
		add(coldStartVerdict(v, api, hello))
	} else {
		add(na(v, "coldstart"))
	}

	v = verdict{Level: "REST for a streamed symbol", Source: "ours", Target: "0 origin calls; Age ≤ 1 s in the regular session"}
	if f.hub != nil && f.hub.Streamed != nil {
		add(streamedVerdict(v, f.hub.Streamed))
	} else {
		add(na(v, secHub))
	}

	// ---- the load check and the soak
	v = verdict{Level: "Load check: 500 connections, 20 s, cached symbols", Source: "load check", Target: "zero errors; rps, p50/p95/p99", Correctness: true}
	if l1OK {
		v.Measured = fmt.Sprintf("%d errors, %.0f rps, p50 %.2f / p95 %.2f / p99 %.2f ms (%d connections, %.0f s)",
			l1.Errors, l1.RPS, l1.Latency.P50, l1.Latency.P95, l1.Latency.P99, l1.Connections, l1.DurationS)
		v.Status = pass(l1.Errors == 0 && (f.smoke || (l1.Connections >= 500 && l1.DurationS >= 20)))
		add(v)
	} else {
		add(na(v, scL1))
	}

	v = verdict{Level: "Soak: 500 connections, 60 s, Redis restarted twice, origin errors", Source: "soak",
		Target: "no 500s or transport errors; data age within TTL; memory growth ≤ L1 bound", Correctness: true}
	if f.soak != nil {
		v = soakVerdict(v, f.soak)
		add(v)
	} else {
		add(na(v, "soak"))
	}
	return out
}

// throughput judges ours against the bare server on the same L1-hit load
// and generator: requests per second at least half the bare server's, and
// p99 within twice its p99. Server CPU per request and the generator's CPU
// share are stated beside them: a generator near 100 % of the machine
// would mean the rates measure the generator.
func throughput(v verdict, ours, bare loadResult) verdict {
	r := ours.RPS / bare.RPS
	v.Measured = fmt.Sprintf("%.2f× in rps (%.0f vs %.0f)", r, ours.RPS, bare.RPS)
	p99 := 0.0
	if bare.Latency != nil && ours.Latency != nil && bare.Latency.P99 > 0 {
		p99 = ours.Latency.P99 / bare.Latency.P99
		v.Measured += fmt.Sprintf("; p99 %.2f× (%.2f vs %.2f ms)", p99, ours.Latency.P99, bare.Latency.P99)
	}
	if ours.ServerCPUus > 0 && bare.ServerCPUus > 0 {
		v.Measured += fmt.Sprintf("; server CPU per request %.1f vs %.1f µs", ours.ServerCPUus, bare.ServerCPUus)
	}
	if ours.Generator != "" {
		v.Measured += fmt.Sprintf("; %s used %.0f %% / %.0f %% of the machine", ours.Generator, ours.GeneratorCPUPct, bare.GeneratorCPUPct)
	}
	var miss []string
	if r < 0.5 {
		miss = append(miss, fmt.Sprintf("rps %.2f× short of 0.5×", 0.5-r))
	}
	if p99 > 2 {
		miss = append(miss, fmt.Sprintf("p99 %.2f× over 2×", p99-2))
	}
	v.Status = pass(len(miss) == 0)
	v.Miss = strings.Join(miss, "; ")
	return v
}

// pairRatio judges an interleaved pair benchmark (micro_test.go's
// pairTimer): the path's time over the floor's, ≤ limit, with the cache
// alone beside it.
func pairRatio(v verdict, p microResult, path, floor, floorName string, limit float64) verdict {
	r, ok := p.Metrics[path+"-x"]
	if !ok {
		v.Status, v.Measured = statusNA, "not measured ("+p.Name+" lacks "+path+"-x)"
		return v
	}
	ours, fl := p.Metrics[path+"-ns/op"], p.Metrics[floor+"-ns/op"]
	v.Measured = fmt.Sprintf("%.2f× (%s vs %s %s, interleaved)", r, fmtNs(ours), floorName, fmtNs(fl))
	if c, ok := p.Metrics["cache-x"]; ok {
		v.Measured += fmt.Sprintf("; cache alone %.2f×", c)
	}
	v.Status = pass(r <= limit)
	if v.Status == statusFail {
		v.Miss = fmt.Sprintf("%.2f× over the %.1f× bound (%s too slow)", r-limit, limit, fmtNs(ours-limit*fl))
	}
	return v
}

// soakVerdict judges the soak: only 503 (the origin truly unavailable) may
// fail a request.
func soakVerdict(v verdict, s *soakResult) verdict {
	var bad []string
	for class, n := range s.Load.ErrorsByClass {
		if class != "http_503" {
			bad = append(bad, fmt.Sprintf("%d %s", n, class))
		}
	}
	growth := s.After.HeapInuse - s.Before.HeapInuse
	ttl := maxQuoteTTL(s.Load.Session)
	v.Measured = fmt.Sprintf("%d requests, errors %s, data age max %d s, heap %s → %s, RSS %s → %s",
		s.Load.Requests, errorsCell(s.Load), s.Load.AgeMaxS,
		fmtBytes(s.Before.HeapInuse), fmtBytes(s.After.HeapInuse), fmtBytes(s.Before.RSS), fmtBytes(s.After.RSS))
	switch {
	case len(bad) > 0:
		v.Status, v.Miss = statusFail, strings.Join(bad, ", ")
	case ttl > 0 && time.Duration(s.Load.AgeMaxS)*time.Second >= ttl:
		v.Status, v.Miss = statusFail, fmt.Sprintf("data age %d s ≥ TTL %s", s.Load.AgeMaxS, ttl)
	case growth > s.L1BoundBytes:
		v.Status, v.Miss = statusFail, fmt.Sprintf("heap grew %s, over the L1 bound %s", fmtBytes(growth), fmtBytes(s.L1BoundBytes))
	default:
		v.Status = statusPass
	}
	return v
}

// dataAge judges the oldest data served by ours against the quote TTL of the
// session it was served in (30 s in the regular session, the service
// level; longer when the market is closed, by the original design's policy).
func dataAge(f findings) verdict {
	v := verdict{Level: "Data age", Correctness: true}
	worst, limit := -1, time.Duration(0)
	var sessions []string
	rs := f.load
	if f.soak != nil {
		rs = append(rs[:len(rs):len(rs)], f.soak.Load)
	}
	for _, r := range rs {
		if r.System != sysOurs || r.Requests == 0 {
			continue
		}
		if r.AgeMaxS > worst {
			worst = r.AgeMaxS
		}
		if ttl := maxQuoteTTL(r.Session); limit == 0 || (ttl > 0 && ttl < limit) {
			limit = ttl
		}
		if r.Session != "" && !strings.Contains(strings.Join(sessions, ","), r.Session) {
			sessions = append(sessions, r.Session)
		}
	}
	if worst < 0 {
		v.Status, v.Measured = statusNA, "not measured (load missing)"
		return v
	}
	v.Measured = fmt.Sprintf("max Age %d s (session %s: quote TTL %s)", worst, strings.Join(sessions, ","), limit)
	v.Status = pass(limit > 0 && time.Duration(worst)*time.Second < limit)
	if v.Status == statusFail {
		v.Miss = fmt.Sprintf("%d s ≥ %s", worst, limit)
	}
	return v
}

// maxQuoteTTL is the stock-quote TTL of the original design's policy in the
// given sessions (comma-separated), the shortest of them; 0 if none is
// known.
func maxQuoteTTL(sessions string) time.Duration {
	var ttl time.Duration
	p := cache.DefaultPolicy()
	for s := range strings.SplitSeq(sessions, ",") {
		if !market.Session(s).Valid() {
			continue
		}
		if t := p.TTL(cache.StockQuote, market.Session(s)); ttl == 0 || t < ttl {
			ttl = t
		}
	}
	return ttl
}

func pass(ok bool) string {
	if ok {
		return statusPass
	}
	return statusFail
}

// below judges measured < limit (in unit).
func below(v verdict, measured, limit float64, unit string) verdict {
	v.Measured = fmtNum(measured) + " " + unit
	v.Status = pass(measured < limit)
	if v.Status == statusFail {
		v.Miss = fmt.Sprintf("%s %s over (%.2f× the target)", fmtNum(measured-limit), unit, measured/limit)
	}
	return v
}

// atLeast judges measured ≥ limit (in unit).
func atLeast(v verdict, measured, limit float64, unit string) verdict {
	v.Measured = fmtNum(measured) + " " + unit
	v.Status = pass(measured >= limit)
	if v.Status == statusFail {
		v.Miss = fmt.Sprintf("%s %s short", fmtNum(limit-measured), unit)
	}
	return v
}

// fmtNum prints a figure with 3 significant digits or more.
func fmtNum(x float64) string {
	switch a := max(x, -x); {
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

// fmtNs prints nanoseconds in the unit that reads best.
func fmtNs(ns float64) string {
	switch a := max(ns, -ns); {
	case a >= 1e6:
		return fmtNum(ns/1e6) + " ms"
	case a >= 1e3:
		return fmtNum(ns/1e3) + " µs"
	default:
		return fmtNum(ns) + " ns"
	}
}

// fmtBytesMB prints a file size in decimal megabytes.
func fmtBytesMB(b int64) string {
	return fmt.Sprintf("%.2f MB", float64(b)/1e6)
}

// maxBootstrapBytes is the cold-start target for the api bootstrap (arm64).
const maxBootstrapBytes = 10_000_000

// coldStartVerdict judges the api bootstrap's size and states its init
// beside the least aws-lambda-go function's.
func coldStartVerdict(v verdict, api, hello coldStartRow) verdict {
	v.Measured = fmt.Sprintf("%s (hello %s); init %.2f vs %.2f ms (%.2f×), first invocation %.2f vs %.2f ms (%.2f×), under the emulator",
		fmtBytesMB(api.BytesArm64), fmtBytesMB(hello.BytesArm64), api.InitMs, hello.InitMs, ratio(api.InitMs, hello.InitMs),
		api.FirstMs, hello.FirstMs, ratio(api.FirstMs, hello.FirstMs))
	v.Status = pass(api.BytesArm64 <= maxBootstrapBytes)
	if v.Status == statusFail {
		v.Miss = fmt.Sprintf("%s over", fmtBytesMB(api.BytesArm64-maxBootstrapBytes))
	}
	return v
}

// ratio is a/b, 0 when b is.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func fmtBytes(b int64) string {
	return fmtNum(float64(b)/(1<<20)) + " MiB"
}

// streamedVerdict judges the REST answers for a symbol the hub streams:
// none may cost an origin call or be over a second old.
func streamedVerdict(v verdict, st *streamedResult) verdict {
	v.Measured = fmt.Sprintf("%d origin calls in %d GETs of %s's latest quote (%d from the cache); largest Age %d s",
		st.OriginCalls, st.Requests, st.Symbol, st.Hits, st.MaxAgeS)
	v.Status = pass(st.Requests > 0 && st.OriginCalls == 0 && st.MaxAgeS <= 1)
	if v.Status == statusFail {
		v.Miss = fmt.Sprintf("%d origin calls, Age up to %d s", st.OriginCalls, st.MaxAgeS)
	}
	return v
}
