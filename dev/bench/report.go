package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// results is everything one run measured: results.json, and the source of
// BENCHMARKS.md.
type results struct {
	Date      string        `json:"date"`
	Commit    string        `json:"commit"`
	Machine   machineInfo   `json:"machine"`
	Mode      string        `json:"mode"` // "full" or "smoke"
	DurationS float64       `json:"duration_s"`
	Micro     []microResult `json:"micro"`
	Benchstat string        `json:"benchstat,omitempty"`
	Load      []loadResult  `json:"load"`
	Soak      *soakResult   `json:"soak,omitempty"`
	Hub       *hubResult    `json:"hub,omitempty"` // the stream hub's fan-out
	// Profile is ours under the L1-hit load (load section).
	Profile *profileResult `json:"profile,omitempty"`
	// PathProfiles are the L2-hit and batch paths' (micro section).
	PathProfiles []pathProfile `json:"path_profiles,omitempty"`
	// Cost is computed from the micro and load figures (cost.go).
	Cost *costResult `json:"cost,omitempty"`
	// ColdStart is the coldstart section's figures.
	ColdStart *coldStartResult `json:"cold_start,omitempty"`
	Verdicts  []verdict        `json:"verdicts"`
	Errors    []string         `json:"errors,omitempty"` // sections or scenarios that could not run
}

// machineInfo says where the figures come from.
type machineInfo struct {
	CPUs      int    `json:"nproc"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	// LoadStart and LoadEnd are /proc/loadavg's 1, 5 and 15 minute load
	// averages when the run began and ended: how busy the machine was
	// with other work too.
	LoadStart string `json:"loadavg_start,omitempty"`
	LoadEnd   string `json:"loadavg_end,omitempty"`
}

func machine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUModel: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		m.CPUModel = cpuModel(f)
		f.Close()
	}
	m.LoadStart = loadAvg()
	return m
}

// loadAvg is the first three fields of /proc/loadavg, "" where there is none.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// cpuModel returns the first "model name" of a /proc/cpuinfo.
func cpuModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// commit is HEAD's short hash, with " (dirty)" when the work tree has
// changes.
func commit(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " (dirty)"
	}
	return c
}

// failed reports whether the run must exit non-zero: a section or scenario
// could not run, or a correctness promise failed. (A row left unmeasured
// because its section was not asked for is neither.)
func (r *results) failed() bool {
	if len(r.Errors) > 0 {
		return true
	}
	return slices.ContainsFunc(r.Verdicts, func(v verdict) bool { return v.Correctness && v.Status == statusFail })
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// microRow is one line of the micro table: a benchmark and the floor it is
// measured against.
type microRow struct {
	group, what, name, floor string
}

var microRows = []microRow{
	{"ours: handler", "L1 hit (event in, response out)", "HandlerL1Hit", "FloorOtterGet"},
	{"ours: handler", "L2 hit", "HandlerL2Hit", "FloorRedisGet"},
	{"ours: handler", "miss, zero-latency origin over loopback", "HandlerMiss", "FloorOriginGet"},
	{"ours: handler", "batch of 20, all in L2", "HandlerBatch20L2", "FloorRedisPipeline20"},
	{"ours: handler", "batch of 20, 10 in L1 + 10 from the origin", "HandlerBatch20Mixed", "FloorOriginGet"},
	{"ours: handler", "storm: 200 callers, one new symbol", "HandlerStorm200", "HandlerMiss"},
	{"ours: cache", "L1 hit", "CacheL1Hit", "FloorOtterGet"},
	{"ours: cache", "L2 hit", "CacheL2Hit", "FloorRedisGet"},
	{"ours: cache", "batch of 20, all in L2", "CacheBatch20L2", "FloorRedisPipeline20"},
	{"ours vs floor, interleaved", "handler L2 hit, cache L2 hit and raw GET, in turn", "PairL2Hit", ""},
	{"ours vs floor, interleaved", "handler batch, cache batch and raw pipeline of 20, in turn", "PairBatch20L2", ""},
	{"anchor", "go-redis/cache, TinyLFU local hit", "AnchorGoRedisCacheL1Hit", "FloorOtterGet"},
	{"anchor", "go-redis/cache, Redis hit", "AnchorGoRedisCacheL2Hit", "FloorRedisGet"},
	{"anchor", "original design, Redis hit", "AnchorNaiveL2Hit", "FloorRedisGet"},
	{"anchor", "original design, batch of 20 cached", "AnchorNaiveBatch20L2", "FloorRedisPipeline20"},
	{"floor", "otter GetIfPresent", "FloorOtterGet", ""},
	{"floor", "go-redis GET", "FloorRedisGet", ""},
	{"floor", "go-redis pipeline of 20 GETs", "FloorRedisPipeline20", ""},
	{"floor", "json.Unmarshal of the API Gateway event (aws-lambda-go's decode)", "FloorEventDecode", ""},
	{"floor", "net/http GET of the origin", "FloorOriginGet", ""},
}

// markdown renders BENCHMARKS.md. plot is the latency plot's path relative
// to the document.
func (r *results) markdown(plot, resultsJSON string) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Benchmarks\n\n")
	p("Written by `make bench` (`go run ./dev/bench`); do not edit by hand. Every figure comes from one run, on one machine,\n")
	p("and every comparison is a ratio measured in that same run. The same numbers, machine-readable: [%s](%s).\n\n", resultsJSON, resultsJSON)
	p("| | |\n|---|---|\n")
	p("| Date | %s |\n| Commit | %s |\n| Machine | %d × %s (nproc %d), %s/%s |\n| Go | %s |\n| Mode | %s, %.0f s |\n",
		r.Date, r.Commit, r.Machine.CPUs, r.Machine.CPUModel, r.Machine.CPUs, r.Machine.OS, r.Machine.Arch, r.Machine.GoVersion, r.Mode, r.DurationS)
	if r.Machine.LoadStart != "" {
		p("| Load average (1, 5, 15 min) | %s at the start, %s at the end: the machine is shared, so absolute figures are noisy; ratios are measured side by side |\n",
			r.Machine.LoadStart, r.Machine.LoadEnd)
	}
	p("\n")
	if r.Mode == "smoke" {
		p("**Smoke run**: tiny durations and counts, to prove the harness works. Its speed figures mean nothing.\n\n")
	}
	if len(r.Errors) > 0 {
		p("**Errors**: these parts could not run:\n\n")
		for _, e := range r.Errors {
			p("- %s\n", e)
		}
		p("\n")
	}

	p("## Verdict\n\n")
	p("Each service level of the original design and each of ours, plus the load check and the soak. ")
	p("A failed row in *italics* is a correctness promise (errors, coalescing, freshness, round trips), which fails the run.\n\n")
	p("| Service level | Source | Target | Measured | Verdict |\n|---|---|---|---|---|\n")
	for _, v := range r.Verdicts {
		st := map[string]string{statusPass: "✅ pass", statusFail: "❌ fail", statusNA: "— n/a"}[v.Status]
		if v.Status == statusFail {
			st += ": " + v.Miss
			if v.Correctness {
				st = "*" + st + "*"
			}
		}
		p("| %s | %s | %s | %s | %s |\n", v.Level, v.Source, v.Target, v.Measured, st)
	}
	p("\n")
	if r.Hub != nil {
		hubMarkdown(p, r.Hub)
	}

	p("## Micro benchmarks (in process)\n\n")
	p("`go test -bench . -benchmem -count N ./dev/bench`: the median of N runs. The handler benchmarks run the Lambda handler as deployed ")
	p("(`service.APIHandler`: EMF metrics flushed per invocation, JSON logs at info to a discarded writer, the api function's memory, and its collector settings, `GOGC=400` under a soft limit of 75 %% of that memory, for every row) ")
	p("on a local Redis and a loopback origin; the cache rows call `shared/cache` directly. Each row's floor is the library call or ")
	p("round trip it cannot beat, measured in the same run. Rows that cross the network are noisy from one benchmark to the next ")
	p("on a shared machine (a raw GET's median moves by tens of µs within a run), so the ratio targets are judged on the ")
	p("*interleaved* rows, which run the path and its floor in turn in the same loop.\n\n")
	p("| Group | Path | Benchmark | Time/op | B/op | allocs/op | Counts/op | Floor | × floor |\n|---|---|---|---|---|---|---|---|---|\n")
	m := microByName(r.Micro)
	for _, row := range microRows {
		x, ok := m[row.name]
		if !ok {
			continue
		}
		floor, ratio := "", ""
		if f, ok := m[row.floor]; ok && f.NsPerOp > 0 {
			floor = fmt.Sprintf("%s %s", row.floor, fmtNs(f.NsPerOp))
			ratio = fmt.Sprintf("%.2f×", x.NsPerOp/f.NsPerOp)
		}
		p("| %s | %s | %s | %s | %.0f | %.0f | %s | %s | %s |\n", row.group, row.what, row.name, fmtNs(x.NsPerOp),
			x.BytesPerOp, x.AllocsPerOp, counts(x.Metrics), floor, ratio)
	}
	if r.Benchstat != "" {
		p("\n<details><summary>benchstat of the %d runs</summary>\n\n```\n%s```\n\n</details>\n", microRuns(r.Micro), r.Benchstat)
	}
	p("\n")
	pathProfilesMarkdown(p, r.PathProfiles)

	p("## Load (loopback, wrk and vegeta)\n\n")
	p("Load generators on the same machine as the server, over loopback: the max-rate runs (l1-hits) with wrk ")
	p("(a C program; one thread per core, a Lua script cycling through the paths), which leaves a bare net/http server CPU-bound, ")
	p("where a Go generator in the bench's own process saturates first and makes every server look alike; the fixed-rate runs, ")
	p("the stampede and the soak with vegeta (as a library), which sees every answer's headers and body. ")
	p("*ours* is the `make run` program (dev/local: local API Gateway, authorizer with its verdicts cached as API Gateway caches them, ")
	p("Lambda handler, simulator as origin) ")
	p("over a redis-server of its own, started fresh with an empty Redis for every scenario, with origin budget 10,000/min ")
	p("and no prefetch tick; logs are at info in the l1-hits run (a line per request, as `make run` writes them) and at warn elsewhere; ")
	p("*bare* is net/http returning the same body; *naive* is the original Python design reproduced naively ")
	p("(Redis GET + JSON envelope, per-symbol origin calls, no coalescing, no batching: dev/bench/naive.go) with its own ")
	p("simulator. Max-rate runs use every connection as fast as it goes; fixed-rate runs pace requests (the original design's 1000 rps) ")
	p("with up to that many connections. Hit rate counts symbols (a batch's `meta`); data age is the largest `Age` header (wrk reads neither); ")
	p("server CPU is the server process's user + system time (from /proc) over the run, per request and as a share of all cores; ")
	p("generator CPU is the load generator's (wrk's from its rusage, vegeta's from the bench's own /proc/self/stat), as a share of all cores: ")
	p("a generator well under 100 %% was not what limited the rate.\n\n")
	p("| Scenario | System | Load | Conns | Requests | Errors | rps | p50 ms | p95 ms | p99 ms | Hit rate | Origin calls | per 1k req | Age max s | Server CPU µs/req | Server CPU %% | Generator, CPU %% |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	rows := slices.Clone(r.Load)
	if r.Soak != nil {
		rows = append(rows, r.Soak.Load)
	}
	for _, l := range rows {
		hr := "—"
		if l.HitRate != nil {
			hr = fmt.Sprintf("%.2f %%", *l.HitRate*100)
		}
		calls := fmt.Sprint(l.OriginCalls)
		if len(l.OriginCallsPerRound) > 0 {
			calls = fmt.Sprintf("%d %v", l.OriginCalls, l.OriginCallsPerRound)
		}
		if l.System == sysBare {
			calls = "—"
		}
		rps := fmt.Sprintf("%.0f", l.RPS)
		if l.RPS == 0 {
			rps = "—"
		}
		cpu, share, gen := "—", "—", "—"
		if l.ServerCPUus > 0 {
			cpu = fmt.Sprintf("%.1f", l.ServerCPUus)
		}
		if l.ServerCPUPct > 0 {
			share = fmt.Sprintf("%.0f %%", l.ServerCPUPct)
		}
		if l.Generator != "" {
			gen = fmt.Sprintf("%s, %.0f %%", l.Generator, l.GeneratorCPUPct)
		}
		age := fmt.Sprint(l.AgeMaxS)
		if l.Generator == genWrk {
			age = "—"
		}
		p("| %s | %s | %s | %d | %d | %s | %s | %.2f | %.2f | %.2f | %s | %s | %.2f | %s | %s | %s | %s |\n", l.Scenario, l.System, l.Load, l.Connections,
			l.Requests, errorsCell(l), rps, l.Latency.P50, l.Latency.P95, l.Latency.P99, hr, calls, l.OriginPer1000, age, cpu, share, gen)
	}
	p("\nWhat each scenario is:\n\n")
	seen := map[string]bool{}
	for _, l := range rows {
		if l.Note != "" && !seen[l.Scenario+l.System] {
			seen[l.Scenario+l.System] = true
			p("- **%s / %s**: %s.\n", l.Scenario, l.System, l.Note)
		}
	}
	p("\nLatency split by `X-Cache` (ms, p50 / p95 / p99):\n\n| Scenario | System | cache hits | misses |\n|---|---|---|---|\n")
	for _, l := range rows {
		if l.HitLatency == nil && l.MissLatency == nil {
			continue
		}
		p("| %s | %s | %s | %s |\n", l.Scenario, l.System, pctCell(l.HitLatency), pctCell(l.MissLatency))
	}
	p("\n![p50, p95 and p99 latency per scenario, ours beside the anchors](%s)\n\n", plot)
	if pr := r.Profile; pr != nil {
		p("## Profile: ours under the L1-hit load\n\n")
		p("Go's CPU profile and allocation profile (delta) of the `make run` program over %.0f s of the same load, ", pr.Seconds)
		p("after the measured run (%d requests in the profiled window): `go tool pprof -top` of each. ", pr.Requests)
		p("The floor's work per request is net/http's: reading the request, writing the response (a write system call), the goroutine's scheduling; ")
		p("what ours adds is the local gateway's event translation, the handler, its log line and its metrics.\n\n")
		p("<details><summary>CPU, by cumulative time</summary>\n\n```\n%s```\n\n</details>\n\n", pr.CPUCum)
		p("<details><summary>CPU, by own time</summary>\n\n```\n%s```\n\n</details>\n\n", pr.CPUFlat)
		p("<details><summary>Allocations (bytes), by cumulative size</summary>\n\n```\n%s```\n\n</details>\n\n", pr.Allocs)
	}

	if c := r.ColdStart; c != nil {
		p("## Cold start (AWS Lambda Runtime Interface Emulator)\n\n")
		p("The api function's bootstrap beside *hello* (dev/bench/hello: the least aws-lambda-go function of HTTP API events, ")
		p("the floor), both built as `make build` builds the functions (`-tags lambda.norpc -trimpath -ldflags='-s -w'`, CGO off). ")
		p("Sizes are of the linux/arm64 bootstraps Lambda runs; the times are of the linux/%s builds run here under the emulator ", r.Machine.Arch)
		p("(`.bin/aws-lambda-rie`), each started afresh %d times: init is the emulator's INIT REPORT (the process's start until it asks ", c.Starts)
		p("for its first event), the invocations are round trips at the client (the first includes the start), with the healthz event; ")
		p("medians. The emulator's own overhead is in every invocation: the ratios say more than the absolute times.\n\n")
		p("| Function | Bootstrap arm64 | Bootstrap here | Init ms | First invocation ms | Warm invocation ms |\n|---|---|---|---|---|---|\n")
		for _, f := range c.Functions {
			p("| %s (`%s`) | %s | %s | %.2f | %.2f | %.2f |\n", f.Name, f.Package, fmtBytesMB(f.BytesArm64), fmtBytesMB(f.BytesLocal), f.InitMs, f.FirstMs, f.WarmMs)
		}
		if a, ok := c.row("api"); ok {
			if h, ok := c.row("hello"); ok {
				p("| api ÷ hello | %.2f× | %.2f× | %.2f× | %.2f× | %.2f× |\n", ratio(float64(a.BytesArm64), float64(h.BytesArm64)),
					ratio(float64(a.BytesLocal), float64(h.BytesLocal)), ratio(a.InitMs, h.InitMs), ratio(a.FirstMs, h.FirstMs), ratio(a.WarmMs, h.WarmMs))
			}
		}
		p("\n")
	}

	if c := r.Cost; c != nil {
		b.Write(c.markdown())
	}

	if s := r.Soak; s != nil {
		p("## Soak\n\n")
		p("The `make run` program at full speed with %d connections for %.0f s, workload %s; the simulator fails %.0f %% of requests ",
			s.Load.Connections, s.Load.DurationS, s.Workload, s.ErrorRate*100)
		p("and adds %s; its Redis is stopped and started again, empty, %d times.\n\n", s.OriginLatency, len(s.Restarts))
		p("| Requests | Errors by class | Data age max | Heap in use before → after | RSS before → after | L1 bound |\n|---|---|---|---|---|---|\n")
		p("| %d | %s | %d s | %s → %s | %s → %s | %s |\n\n", s.Load.Requests, errorsCell(s.Load), s.Load.AgeMaxS,
			fmtBytes(s.Before.HeapInuse), fmtBytes(s.After.HeapInuse), fmtBytes(s.Before.RSS), fmtBytes(s.After.RSS), fmtBytes(s.L1BoundBytes))
		p("| Redis restart at | Down for |\n|---|---|\n")
		for _, rs := range s.Restarts {
			p("| %.1f s | %.0f ms |\n", rs.AtS, rs.DownMS)
		}
		p("\n")
	}

	p("## Method\n\n")
	p("- **Micro**: the L2 rows read through a clock that ticks a microsecond per reading with an L1 lifetime of a nanosecond, ")
	p("so every read misses L1 and hits L2 with nothing but the read in the timed loop. Misses ask a new symbol each time ")
	p("from a zero-latency origin stub over loopback HTTP (the simulator knows a fixed universe). Counts per op come from ")
	p("a go-redis hook (`l2-reads`: round trips made only of GET/MGET; `redis-rtt`: every round trip, locks, budget and ")
	p("writes included) and from the origin's own count.\n")
	p("- **Load**: every scenario starts its systems afresh over an emptied Redis. Latency is from request sent to body read, ")
	p("at the client; percentiles are exact (nearest rank over every request). Origin calls are the simulator's own count ")
	p("of market-data requests (`/_sim/stats`). The stampede opens its connections first, then releases every client at once, ")
	p("one new symbol per round, against two instances sharing one Redis (in-process and cross-instance coalescing together).\n")
	p("- **Verdicts**: a speed target that is missed is reported with its distance; a correctness promise that fails ")
	p("(errors under load, more than one origin call per stampede, data older than its TTL, more than one L2 read or origin ")
	p("call per batch, the soak's checks) fails `make bench` and `make bench-smoke`.\n")
	return b.Bytes()
}

func counts(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		switch {
		case strings.HasSuffix(k, "-ns/op"):
			parts = append(parts, strings.TrimSuffix(k, "-ns/op")+" "+fmtNs(m[k]))
		case strings.HasSuffix(k, "-x"):
			parts = append(parts, fmt.Sprintf("%s %.2f×", strings.TrimSuffix(k, "-x"), m[k]))
		default:
			parts = append(parts, fmt.Sprintf("%.2f %s", m[k], strings.TrimSuffix(k, "/op")))
		}
	}
	return strings.Join(parts, ", ")
}

func microRuns(rs []microResult) int {
	n := 0
	for _, r := range rs {
		n = max(n, r.Runs)
	}
	return n
}

func errorsCell(l loadResult) string {
	if l.Errors == 0 {
		return "0"
	}
	keys := make([]string, 0, len(l.ErrorsByClass))
	for k := range l.ErrorsByClass {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", l.ErrorsByClass[k], k)
	}
	return fmt.Sprintf("%d (%s)", l.Errors, strings.Join(parts, ", "))
}

func pctCell(p *percentiles) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f / %.2f / %.2f", p.P50, p.P95, p.P99)
}

// now is the run's date, in UTC.
func now() string { return time.Now().UTC().Format("2006-01-02 15:04 MST") }

// pathProfilesMarkdown writes the L2-hit and batch paths' CPU profiles: what
// each spends beside the Redis client, where their ratio targets are missed
// or met.
func pathProfilesMarkdown(p func(string, ...any), ps []pathProfile) {
	if len(ps) == 0 {
		return
	}
	p("### Profiles: the L2-hit and batch paths\n\n")
	p("Each benchmark run alone with `-cpuprofile`; `go tool pprof -top` with the Redis client's frames left out ")
	p("(`-ignore=github.com/redis/go-redis`: its system calls and waits are the round trip the floor also pays), so what is listed ")
	p("is the CPU each path spends beside the round trip: decoding the envelope, the L1 write, the per-symbol results, and in the ")
	p("handler the invocation's own work (its log line, the EMF flush, the response).\n\n")
	for _, x := range ps {
		p("<details><summary>%s (%s/op), by cumulative time</summary>\n\n```\n%s```\n\n</details>\n\n", x.Benchmark, fmtNs(x.NsPerOp), x.CPUCum)
		p("<details><summary>%s, by own time</summary>\n\n```\n%s```\n\n</details>\n\n", x.Benchmark, x.CPUFlat)
	}
}
