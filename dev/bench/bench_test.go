package main

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/infra/stack"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/market"
	"math"
)

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	p := percentilesOf(ds)
	if *p != (percentiles{P50: 50, P95: 95, P99: 99, Max: 100}) {
		t.Fatalf("%+v", *p)
	}
	if percentilesOf(nil) != nil {
		t.Fatal("no latencies must give no percentiles")
	}
	if p := percentilesOf([]time.Duration{3 * time.Millisecond}); p.P50 != 3 || p.P99 != 3 {
		t.Fatalf("one latency: %+v", *p)
	}
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestCollector(t *testing.T) {
	c := newCollector()
	ms := time.Millisecond
	c.add(200, "", 1*ms, header("X-Cache", "HIT-L1", "Age", "4", "X-Market-Session", "regular"), []byte(`{"quote":{}}`))
	c.add(200, "", 2*ms, header("X-Cache", "HIT-L2", "Age", "9", "X-Market-Session", "regular"), nil)
	c.add(200, "", 50*ms, header("X-Cache", "MISS", "Age", "0", "X-Market-Session", "closed"), nil)
	batch := `{"quotes":{},"meta":{"A":{"source":"alpaca-sim","cache":"HIT-L1"},"B":{"cache":"HIT-L2"},"C":{"cache":"MISS"}}}`
	c.add(200, "", 30*ms, header("X-Cache", "MIXED", "Age", "2"), []byte(batch))
	c.add(503, "503 Service Unavailable", 5*ms, header("Retry-After", "1"), nil)
	c.add(0, `Get "http://x": dial tcp: connect: connection refused`, ms, nil, nil)
	c.add(0, `Get "http://x": context deadline exceeded (Client.Timeout exceeded)`, ms, nil, nil)
	c.add(0, "read: connection reset by peer", ms, nil, nil)

	r := c.result("s", sysOurs, 2*time.Second)
	if r.Requests != 8 || r.Errors != 4 || r.RPS != 4 {
		t.Fatalf("requests %d errors %d rps %v", r.Requests, r.Errors, r.RPS)
	}
	want := map[string]int{"http_503": 1, "connection_refused": 1, "timeout": 1, "connection_reset": 1}
	for k, v := range want {
		if r.ErrorsByClass[k] != v {
			t.Errorf("errors %v, want %v", r.ErrorsByClass, want)
		}
	}
	// Symbols: 3 singles (2 hits) + a batch of 3 (2 hits).
	if r.HitRate == nil || *r.HitRate != round(4.0/6, 4) {
		t.Fatalf("hit rate %v", r.HitRate)
	}
	if r.AgeMaxS != 9 || r.Session != "closed,regular" {
		t.Fatalf("age %d session %q", r.AgeMaxS, r.Session)
	}
	if r.HitLatency.Max != 2 || r.MissLatency.P50 != 50 || r.XCache["MIXED"] != 1 {
		t.Fatalf("hit %+v miss %+v xcache %v", r.HitLatency, r.MissLatency, r.XCache)
	}
}

const benchOutput = `goos: linux
goarch: amd64
pkg: github.com/opitios/opitios-alpaca/dev/bench
cpu: AMD EPYC
BenchmarkHandlerL1Hit-2     	   35239	     11559 ns/op	    3748 B/op	      29 allocs/op
BenchmarkHandlerBatch20Mixed-2   	     300	    517056 ns/op	         1.000 l2-reads/op	         1.000 origin-calls/op	   88376 B/op	     865 allocs/op
BenchmarkHandlerL1Hit-2     	   35239	      9000 ns/op	    3700 B/op	      29 allocs/op
BenchmarkHandlerBatch20Mixed-2   	     300	    545024 ns/op	         3.000 l2-reads/op	         1.000 origin-calls/op	   88364 B/op	     865 allocs/op
BenchmarkHandlerL1Hit-2     	   35239	     10000 ns/op	    3800 B/op	      29 allocs/op
BenchmarkFoo	 100	 5.5 ns/op
PASS
ok  	github.com/opitios/opitios-alpaca/dev/bench	17.166s
`

func TestParseBench(t *testing.T) {
	rs, err := parseBench(strings.NewReader(benchOutput))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].Name != "HandlerL1Hit" || rs[1].Name != "HandlerBatch20Mixed" || rs[2].Name != "Foo" {
		t.Fatalf("%+v", rs)
	}
	l1 := rs[0]
	if l1.Runs != 3 || l1.NsPerOp != 10000 || l1.BytesPerOp != 3748 || l1.AllocsPerOp != 29 || !slices.Equal(l1.Samples, []float64{11559, 9000, 10000}) {
		t.Fatalf("%+v", l1)
	}
	mixed := rs[1]
	if mixed.NsPerOp != (517056+545024)/2.0 || mixed.Metrics["l2-reads/op"] != 2 || mixed.Metrics["origin-calls/op"] != 1 {
		t.Fatalf("%+v", mixed)
	}
	if _, err := parseBench(strings.NewReader("PASS\n")); err == nil {
		t.Fatal("no results must be an error")
	}
	if _, err := parseBench(strings.NewReader("BenchmarkX-2 10 abc ns/op\n")); err == nil {
		t.Fatal("a bad value must be an error")
	}
}

func TestParsers(t *testing.T) {
	rss, err := parseVmRSS(strings.NewReader("Name:\tx\nVmPeak:\t  10 kB\nVmRSS:\t   2048 kB\n"))
	if err != nil || rss != 2<<20 {
		t.Fatalf("rss %d, %v", rss, err)
	}
	if _, err := parseVmRSS(strings.NewReader("Name:\tx\n")); err == nil {
		t.Fatal("missing VmRSS must be an error")
	}
	if m := cpuModel(strings.NewReader("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n")); m != "AMD EPYC 7B13" {
		t.Fatalf("cpu %q", m)
	}
	page := []byte("# HELP go_memstats_heap_inuse_bytes x\ngo_memstats_heap_inuse_bytes 1.2345e+06\ngo_memstats_heap_inuse_bytes_total 1\n")
	if v, ok := metricValue(page, "go_memstats_heap_inuse_bytes"); !ok || v != 1234500 {
		t.Fatalf("metric %v %v", v, ok)
	}
	if _, ok := metricValue(page, "nope"); ok {
		t.Fatal("absent metric found")
	}
}

func TestParseStatCPU(t *testing.T) {
	// utime 250 and stime 50 ticks; the command name holds a space and a ')'.
	stat := "1234 (opitios lo)cal) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0 100 0 0"
	if d, err := parseStatCPU(stat); err != nil || d != 3*time.Second {
		t.Fatalf("%v %v", d, err)
	}
	if _, err := parseStatCPU("1234 (x) S 1 2"); err == nil {
		t.Fatal("a short line must be an error")
	}
	c, err := startChild("sleeper", t.TempDir(), nil, "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	if d, err := c.cpu(); err != nil || d < 0 {
		t.Fatalf("%v %v", d, err)
	}
}

func TestSymbolSets(t *testing.T) {
	z1, r1, err := symbolSets(500)
	if err != nil {
		t.Fatal(err)
	}
	z2, _, _ := symbolSets(500)
	if len(z1) != 500 || len(r1) == 0 || !slices.Equal(z1, z2) {
		t.Fatalf("sizes %d %d, deterministic %v", len(z1), len(r1), slices.Equal(z1, z2))
	}
	for _, s := range r1 {
		if slices.Contains(z1, s) {
			t.Fatalf("%s is in both sets", s)
		}
	}
	if _, _, err := symbolSets(100_000); err == nil {
		t.Fatal("more symbols than the universe must be an error")
	}
}

func TestZipfDistinct(t *testing.T) {
	p := newZipf(500, 1)
	for range 100 {
		idx := p.distinct(20)
		seen := map[int]bool{}
		for _, i := range idx {
			if i < 0 || i >= 500 || seen[i] {
				t.Fatalf("%v", idx)
			}
			seen[i] = true
		}
		if len(idx) != 20 {
			t.Fatal(len(idx))
		}
	}
}

// TestStampedeReleasesAllAtOnce: the server answers only once every client
// is in flight, so a stampede that did not release them together would hang.
func TestStampedeReleasesAllAtOnce(t *testing.T) {
	const clients = 30
	var inFlight atomic.Int32
	all := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		if r.Header.Get("APCA-API-KEY-ID") != "dev" {
			t.Error("no client key")
		}
		if inFlight.Add(1) == clients {
			once.Do(func() { close(all) })
		}
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Error("the clients did not arrive together")
		}
		w.Header().Set("X-Cache", "MISS")
	}))
	defer srv.Close()
	c := newCollector()
	if err := stampede(context.Background(), []string{srv.URL}, "/v2/stocks/X/quotes/latest", clients, c); err != nil {
		t.Fatal(err)
	}
	if r := c.result("s", sysOurs, time.Second); r.Requests != clients || r.Errors != 0 || r.XCache["MISS"] != clients {
		t.Fatalf("%+v", r)
	}
}

func TestAttack(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("X-Cache", "HIT-L1")
		w.Header().Set("Age", "3")
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	c := newCollector()
	attack(context.Background(), "t", attackSpec{conns: 4, rate: 50, dur: 200 * time.Millisecond, targets: roundRobin(srv.URL + "/a")}, c)
	r := c.result("t", sysOurs, time.Second)
	if r.Requests == 0 || int64(r.Requests) != n.Load() || r.Errors != 0 || r.AgeMaxS != 3 || *r.HitRate != 1 {
		t.Fatalf("%+v (server saw %d)", r, n.Load())
	}
}

func TestRedisServerRestart(t *testing.T) {
	rs, err := startRedis(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer rs.stop()
	if _, err := rs.do("SET k v"); err != nil {
		t.Fatal(err)
	}
	if err := rs.restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Restarted empty, on the same address.
	if v, err := rs.do("EXISTS k"); err != nil || v != ":0" {
		t.Fatalf("after restart: %q %v", v, err)
	}
	if _, err := rs.do("SET k v"); err != nil {
		t.Fatal(err)
	}
	if err := rs.flush(); err != nil {
		t.Fatal(err)
	}
	if v, _ := rs.do("DBSIZE"); v != ":0" {
		t.Fatalf("after flush: %q", v)
	}
	rs.stop()
	if rs.ping() == nil {
		t.Fatal("still answering after stop")
	}
}

func TestChildStop(t *testing.T) {
	c, err := startChild("sleeper", t.TempDir(), nil, "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	if c.exited() {
		t.Fatal("exited at once")
	}
	if rss, err := c.rss(); err != nil || rss <= 0 {
		t.Fatalf("rss %d %v", rss, err)
	}
	c.stop()
	if !c.exited() {
		t.Fatal("still running after stop")
	}
	c.stop() // twice is fine
}

func TestServeBare(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "body.json")
	os.WriteFile(file, []byte(`{"quote":1}`), 0o644)
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveRole(ctx, roleBare, addr, "", "", file) }()
	if err := waitHTTP(context.Background(), nil, "http://"+addr+"/anything", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	b, err := fetchBody(context.Background(), "http://"+addr+"/v2/stocks/AAPL/quotes/latest")
	if err != nil || string(b) != `{"quote":1}` {
		t.Fatalf("%q %v", b, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := serveRole(context.Background(), "nope", addr, "", "", ""); err == nil {
		t.Fatal("an unknown role must fail")
	}
}

func TestRunFlags(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"-only", "nope"}, &out, &errs); code != 2 {
		t.Fatalf("unknown section: exit %d", code)
	}
	if code := run(context.Background(), []string{"-serve", "nope"}, &out, &errs); code != 1 {
		t.Fatalf("unknown role: exit %d", code)
	}
	if code := run(context.Background(), []string{"-bogus"}, &out, &errs); code != 2 {
		t.Fatalf("unknown flag: exit %d", code)
	}
}

func TestLayout(t *testing.T) {
	full, smoke := layoutFor("/r", false), layoutFor("/r", true)
	if full.doc != "/r/BENCHMARKS.md" || full.json != "/r/bench/results.json" || full.plot != "/r/bench/latency.png" {
		t.Fatalf("%+v", full)
	}
	if !strings.HasPrefix(smoke.doc, "/r/bench/out/") || !strings.HasPrefix(smoke.json, "/r/bench/out/") || !strings.HasPrefix(smoke.plot, "/r/bench/out/") {
		t.Fatalf("smoke must write under bench/out: %+v", smoke)
	}
}

func TestLatencyPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.png")
	rows := []loadResult{
		{Scenario: scL1, System: sysOurs, Latency: &percentiles{P50: 1, P95: 5, P99: 9}},
		{Scenario: scL1, System: sysBare, Latency: &percentiles{P50: 0, P95: 3, P99: 7}},
		{Scenario: scZipf, System: sysNaive, Latency: &percentiles{P50: 2, P95: 50, P99: 60}},
	}
	if err := latencyPlot(rows, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() < 400 {
		t.Fatalf("png: %v", err)
	}
	if err := latencyPlot(nil, path); err == nil {
		t.Fatal("no rows must be an error")
	}
}

// passingFindings is a run where every target holds.
func passingFindings() findings {
	hr, nhr := 0.97, 0.9
	mic := func(name string, ns float64, metrics map[string]float64) microResult {
		return microResult{Name: name, Runs: 5, NsPerOp: ns, Metrics: metrics}
	}
	return findings{
		micro: microByName([]microResult{
			mic("HandlerL1Hit", 8000, nil), mic("FloorEventDecode", 18000, nil), mic("CacheL1Hit", 80, nil),
			mic("AnchorGoRedisCacheL1Hit", 160, nil), mic("FloorOtterGet", 60, nil),
			mic("HandlerL2Hit", 55000, nil), mic("FloorRedisGet", 50000, nil),
			mic("HandlerMiss", 400000, nil), mic("FloorOriginGet", 100000, nil),
			mic("HandlerBatch20Mixed", 500000, map[string]float64{"l2-reads/op": 1, "origin-calls/op": 1, "redis-rtt/op": 5}),
			mic("HandlerBatch20L2", 60000, nil), mic("FloorRedisPipeline20", 50000, nil),
			mic("PairL2Hit", 100000, map[string]float64{"handler-ns/op": 55000, "cache-ns/op": 52000, "get-ns/op": 50000, "handler-x": 1.1, "cache-x": 1.04}),
			mic("PairBatch20L2", 200000, map[string]float64{"handler-ns/op": 60000, "cache-ns/op": 55000, "pipeline-ns/op": 50000, "handler-x": 1.2, "cache-x": 1.1}),
			mic("AnchorGoRedisCacheL2Hit", 51000, nil),
			mic("HandlerStorm200", 5e6, map[string]float64{"origin-calls/op": 1}),
		}),
		load: []loadResult{
			{Scenario: scL1, System: sysOurs, Connections: 500, DurationS: 20, Requests: 600000, RPS: 30000, Latency: &percentiles{P50: 10, P95: 20, P99: 30}, Session: "regular", AgeMaxS: 12, ServerCPUus: 25},
			{Scenario: scL1, System: sysBare, Connections: 500, Requests: 1000000, RPS: 50000, Latency: &percentiles{}, ServerCPUus: 15},
			{Scenario: scZipf, System: sysOurs, Connections: 500, Requests: 15000, Load: "1000/s", Latency: &percentiles{P95: 40},
				HitLatency: &percentiles{P95: 2}, MissLatency: &percentiles{P95: 51.5}, HitRate: &hr, Session: "regular", AgeMaxS: 14},
			{Scenario: scZipf, System: sysNaive, Requests: 15000, Latency: &percentiles{}, HitRate: &nhr},
			{Scenario: scBatch, System: sysOurs, Connections: 500, Requests: 3000, Latency: &percentiles{P95: 60}, Session: "regular"},
			{Scenario: scStampede, System: sysOurs, Connections: 200, Requests: 1000, Latency: &percentiles{}, OriginCallsPerRound: []int64{1, 1, 1, 1, 1}, Session: "regular"},
			{Scenario: scStampede, System: sysNaive, Requests: 1000, Latency: &percentiles{}, OriginCallsPerRound: []int64{200, 200, 200, 200, 200}},
		},
		soak: &soakResult{Load: loadResult{Requests: 100000, System: sysOurs, Latency: &percentiles{}, Errors: 3,
			ErrorsByClass: map[string]int{"http_503": 3}, Session: "regular", AgeMaxS: 29},
			Before: memory{HeapInuse: 10 << 20}, After: memory{HeapInuse: 60 << 20}, L1BoundBytes: 64 << 20},
		cold: &coldStartResult{Starts: 5, Functions: []coldStartRow{{Name: "api", BytesArm64: 9_000_000, InitMs: 5, FirstMs: 7, WarmMs: 1},
			{Name: "hello", BytesArm64: 5_000_000, InitMs: 4, FirstMs: 5, WarmMs: 0.8}}},
		hub: &hubResult{Clients: 100, Streamed: &streamedResult{Symbol: "AAPL", Requests: 100, Hits: 100, MaxAgeS: 1}},
	}
}

func verdictOf(t *testing.T, vs []verdict, level, source string) verdict {
	t.Helper()
	for _, v := range vs {
		if v.Level == level && v.Source == source {
			return v
		}
	}
	t.Fatalf("no verdict %q/%q", level, source)
	return verdict{}
}

func TestVerdictsAllPass(t *testing.T) {
	vs := verdicts(passingFindings())
	if len(vs) != 22 {
		t.Fatalf("%d verdicts", len(vs))
	}
	for _, v := range vs {
		if v.Status != statusPass {
			t.Errorf("%s/%s: %s (%s) %s", v.Level, v.Source, v.Status, v.Measured, v.Miss)
		}
	}
	r := &results{Verdicts: vs}
	if r.failed() {
		t.Fatal("a passing run failed")
	}
}

func TestVerdictsFailures(t *testing.T) {
	f := passingFindings()
	f.micro["HandlerL1Hit"] = microResult{Name: "HandlerL1Hit", NsPerOp: 12000}
	f.micro["PairL2Hit"] = microResult{Name: "PairL2Hit", Metrics: map[string]float64{"handler-ns/op": 70000, "get-ns/op": 50000, "handler-x": 1.4}}
	f.load[1].RPS = 70000 // bare: ours is 0.43×
	f.load[5].OriginCallsPerRound = []int64{1, 2, 1, 1, 1}
	f.hub.Streamed = &streamedResult{Symbol: "AAPL", Requests: 100, Hits: 99, OriginCalls: 1, MaxAgeS: 2}
	vs := verdicts(f)

	l1 := verdictOf(t, vs, "L1 hit, in process", "ours")
	if l1.Status != statusFail || !strings.HasPrefix(l1.Miss, "2.00 µs over") || l1.Correctness {
		t.Errorf("%+v", l1)
	}
	l2 := verdictOf(t, vs, "L2 hit", "ours")
	if l2.Status != statusFail || !strings.HasPrefix(l2.Miss, "0.20× over the 1.2× bound") {
		t.Errorf("%+v", l2)
	}
	tp := verdictOf(t, vs, "Throughput, one instance", "ours")
	if tp.Status != statusFail || tp.Miss != "rps 0.07× short of 0.5×" {
		t.Errorf("%+v", tp)
	}
	sr := verdictOf(t, vs, "REST for a streamed symbol", "ours")
	if sr.Status != statusFail || sr.Miss != "1 origin calls, Age up to 2 s" {
		t.Errorf("%+v", sr)
	}
	st := verdictOf(t, vs, "Origin calls under a stampede", "ours")
	if st.Status != statusFail || !st.Correctness || st.Miss != "worst round: 2 calls" {
		t.Errorf("%+v", st)
	}
	if !(&results{Verdicts: vs}).failed() {
		t.Fatal("a failed correctness row must fail the run")
	}
	// Speed misses alone do not fail the run.
	f = passingFindings()
	f.micro["HandlerL1Hit"] = microResult{Name: "HandlerL1Hit", NsPerOp: 12000}
	if (&results{Verdicts: verdicts(f)}).failed() {
		t.Fatal("a speed miss failed the run")
	}
	if !(&results{Verdicts: verdicts(passingFindings()), Errors: []string{"zipf: boom"}}).failed() {
		t.Fatal("a scenario error must fail the run")
	}
}

// TestThroughputJudgesRPSAndP99: half the bare server's rps and twice its
// p99 are both bounds; CPU and the generator's share are stated.
func TestThroughputJudgesRPSAndP99(t *testing.T) {
	bare := loadResult{RPS: 100000, Latency: &percentiles{P99: 10}, ServerCPUus: 15, Generator: genWrk, GeneratorCPUPct: 40}
	ours := loadResult{RPS: 60000, Latency: &percentiles{P99: 18}, ServerCPUus: 30, Generator: genWrk, GeneratorCPUPct: 30}
	v := throughput(verdict{}, ours, bare)
	if v.Status != statusPass || !strings.Contains(v.Measured, "0.60× in rps") || !strings.Contains(v.Measured, "p99 1.80×") ||
		!strings.Contains(v.Measured, "wrk used 30 % / 40 %") {
		t.Fatalf("%+v", v)
	}
	ours.RPS = 40000
	if v := throughput(verdict{}, ours, bare); v.Status != statusFail || !strings.Contains(v.Miss, "rps 0.10×") {
		t.Fatalf("%+v", v)
	}
	ours.RPS, ours.Latency.P99 = 60000, 25
	if v := throughput(verdict{}, ours, bare); v.Status != statusFail || !strings.Contains(v.Miss, "p99 0.50× over 2×") {
		t.Fatalf("%+v", v)
	}
	// Without latencies, the rps ratio alone decides.
	if v := throughput(verdict{}, loadResult{RPS: 10}, loadResult{RPS: 30}); v.Status != statusFail {
		t.Fatalf("%+v", v)
	}
}

// TestParseWrk reads the summary line of the bench's wrk script.
func TestParseWrk(t *testing.T) {
	out := "Running 10s test @ http://127.0.0.1:1/\n  2 threads and 500 connections\n" +
		"opitios-wrk requests=1200000 duration_us=10000000 connect=0 read=3 write=1 status=2 timeout=5 p50=4100 p95=9000 p99=12500 max=80000\n"
	w, err := parseWrk(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if w.Requests != 1200000 || w.Duration != 10*time.Second || w.Latency != (percentiles{P50: 4.1, P95: 9, P99: 12.5, Max: 80}) {
		t.Fatalf("%+v", w)
	}
	if w.errorCount() != 11 || w.Errors["connection_reset"] != 4 || w.Errors["timeout"] != 5 || w.Errors["http_non_2xx_3xx"] != 2 {
		t.Fatalf("errors %v", w.Errors)
	}
	for _, bad := range []string{"", "opitios-wrk requests=1\n", "opitios-wrk requests=x duration_us=1\n"} {
		if _, err := parseWrk(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCPUShare(t *testing.T) {
	for _, c := range []struct {
		cpu, elapsed time.Duration
		cores        int
		want         float64
	}{
		{2 * time.Second, 2 * time.Second, 2, 50},
		{3 * time.Second, time.Second, 4, 75},
		{time.Second, 0, 2, 0},
		{time.Second, time.Second, 0, 0},
	} {
		if got := cpuShare(c.cpu, c.elapsed, c.cores); got != c.want {
			t.Errorf("cpuShare(%s, %s, %d) = %v, want %v", c.cpu, c.elapsed, c.cores, got, c.want)
		}
	}
}

// TestSelfCPUGrows: the bench's own CPU time, read from /proc/self/stat,
// counts work done in between.
func TestSelfCPUGrows(t *testing.T) {
	a, err := selfCPU()
	if err != nil {
		t.Fatal("no /proc/self/stat (the bench measures CPU on Linux only):", err)
	}
	x := 0
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
		x++
	}
	b, err := selfCPU()
	if err != nil || b <= a {
		t.Fatalf("CPU %s then %s (%v) after %d spins", a, b, err, x)
	}
}

func TestTrimPprofHeader(t *testing.T) {
	in := "File: opitios-local\nBuild ID: abc\nType: cpu\nTime: 2026-11-29 08:54:18 UTC\nDuration: 8.31s\n      flat  flat%\n"
	if got, want := trimPprofHeader(in), "Type: cpu\nDuration: 8.31s\n      flat  flat%\n"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

func TestVerdictsErrorsUnderLoad(t *testing.T) {
	f := passingFindings()
	f.load[2].Errors = 1
	v := verdictOf(t, verdicts(f), "Concurrent users", "ours")
	if v.Status != statusFail || !v.Correctness {
		t.Fatalf("%+v", v)
	}
	// Fewer than 500 connections fails the full run, not the smoke run.
	f = passingFindings()
	f.load[0].Connections = 50
	if v := verdictOf(t, verdicts(f), "Concurrent users", "original design"); v.Status != statusFail {
		t.Fatalf("%+v", v)
	}
	f.smoke = true
	if v := verdictOf(t, verdicts(f), "Concurrent users", "original design"); v.Status != statusPass {
		t.Fatalf("smoke: %+v", v)
	}
}

func TestVerdictsMissingSections(t *testing.T) {
	vs := verdicts(findings{micro: map[string]microResult{}})
	for _, v := range vs {
		if v.Status != statusNA {
			t.Errorf("%s/%s: %s", v.Level, v.Source, v.Status)
		}
	}
	if (&results{Verdicts: vs}).failed() {
		t.Fatal("unmeasured rows alone must not fail a partial run")
	}
}

func TestDataAge(t *testing.T) {
	for _, tc := range []struct {
		session string
		age     int
		want    string
	}{
		{string(market.Regular), 29, statusPass},
		{string(market.Regular), 30, statusFail},
		{string(market.Closed), 299, statusPass},
		{string(market.Closed) + "," + string(market.Regular), 31, statusFail},
	} {
		f := findings{load: []loadResult{{System: sysOurs, Requests: 1, Session: tc.session, AgeMaxS: tc.age}}}
		if v := dataAge(f); v.Status != tc.want {
			t.Errorf("%s, age %d: %s (%s)", tc.session, tc.age, v.Status, v.Measured)
		}
	}
}

func TestSoakVerdict(t *testing.T) {
	base := passingFindings().soak
	if v := soakVerdict(verdict{}, base); v.Status != statusPass {
		t.Fatalf("%+v", v)
	}
	s := *base
	s.Load.ErrorsByClass = map[string]int{"http_503": 1, "http_500": 2}
	if v := soakVerdict(verdict{}, &s); v.Status != statusFail || v.Miss != "2 http_500" {
		t.Fatalf("%+v", v)
	}
	s = *base
	s.After.HeapInuse = s.Before.HeapInuse + s.L1BoundBytes + 1
	if v := soakVerdict(verdict{}, &s); v.Status != statusFail || !strings.Contains(v.Miss, "over the L1 bound") {
		t.Fatalf("%+v", v)
	}
	s = *base
	s.Load.AgeMaxS = 30
	if v := soakVerdict(verdict{}, &s); v.Status != statusFail {
		t.Fatalf("%+v", v)
	}
}

func TestMarkdown(t *testing.T) {
	f := passingFindings()
	r := &results{Date: "2026-11-26 05:00 UTC", Commit: "abc1234", Machine: machineInfo{CPUs: 2, CPUModel: "CPU", GoVersion: "go1.26"},
		Mode: "full", Micro: []microResult{f.micro["HandlerL1Hit"], f.micro["FloorOtterGet"]}, Load: f.load, Soak: f.soak,
		Verdicts: verdicts(f), Benchstat: "goos: linux\n",
		PathProfiles: []pathProfile{{Benchmark: "HandlerL2Hit", NsPerOp: 87400, CPUCum: "logRequest\n", CPUFlat: "memmove\n"}}}
	md := string(r.markdown("bench/latency.png", "bench/results.json"))
	for _, want := range []string{
		"## Verdict", "| Service level | Source | Target | Measured | Verdict |", "abc1234", "2 × CPU",
		"](bench/latency.png)", "[bench/results.json](bench/results.json)", "| HandlerL1Hit | 8.00 µs |", "133.33×",
		"## Soak", "<summary>benchstat", "| stampede | ours |",
		"### Profiles: the L2-hit and batch paths", "<summary>HandlerL2Hit (87.4 µs/op), by cumulative time</summary>\n\n```\nlogRequest\n```",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if n := strings.Count(md, "✅ pass"); n != len(r.Verdicts) {
		t.Errorf("%d pass cells for %d verdicts", n, len(r.Verdicts))
	}
}

func TestPairTimerAlternatesOrder(t *testing.T) {
	var order []int
	var p pairTimer
	step := func(i int) func() { return func() { order = append(order, i) } }
	for range 3 {
		p.run(step(0), step(1), step(2))
	}
	if want := []int{0, 1, 2, 2, 1, 0, 0, 1, 2}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if len(p.total) != 3 || p.n != 3 {
		t.Fatalf("%+v", p)
	}
}

func TestRerender(t *testing.T) {
	root := t.TempDir()
	lay := layoutFor(root, false)
	os.MkdirAll(filepath.Dir(lay.json), 0o755)
	f := passingFindings()
	var micro []microResult
	for _, m := range f.micro {
		micro = append(micro, m)
	}
	in := &results{Date: "d", Commit: "c0ffee1", Mode: "full", Micro: micro, Load: f.load, Soak: f.soak, ColdStart: f.cold, Hub: f.hub}
	if err := writeJSON(lay.json, in); err != nil {
		t.Fatal(err)
	}
	r, err := rerender(lay, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Verdicts) != 22 || r.failed() {
		t.Fatalf("%d verdicts, failed %v", len(r.Verdicts), r.failed())
	}
	md, err := os.ReadFile(lay.doc)
	if err != nil || !bytes.Contains(md, []byte("c0ffee1")) || !bytes.Contains(md, []byte("| l1-hits | ours | ")) {
		t.Fatalf("%v: %.300s", err, md)
	}
	if _, err := os.Stat(lay.plot); err != nil {
		t.Fatal(err)
	}
	if _, err := rerender(layoutFor(t.TempDir(), false), io.Discard); err == nil {
		t.Fatal("no results.json must be an error")
	}
}

func TestParseInitMs(t *testing.T) {
	out := []byte("29 Nov 2026 09:01:47,900 [INFO] (rapid) INIT RTDONE(status: success)\n" +
		"29 Nov 2026 09:01:47,900 [INFO] (rapid) INIT REPORT(durationMs: 5.909000)\n")
	if ms, err := parseInitMs(out); err != nil || ms != 5.909 {
		t.Fatalf("%v %v", ms, err)
	}
	if _, err := parseInitMs([]byte("START RequestId: x\n")); err == nil {
		t.Fatal("no error without an INIT REPORT")
	}
}

func TestColdStartVerdict(t *testing.T) {
	api := coldStartRow{Name: "api", BytesArm64: 9_500_000, InitMs: 6, FirstMs: 8}
	hello := coldStartRow{Name: "hello", BytesArm64: 5_000_000, InitMs: 4, FirstMs: 5}
	v := coldStartVerdict(verdict{}, api, hello)
	if v.Status != statusPass || !strings.Contains(v.Measured, "9.50 MB (hello 5.00 MB); init 6.00 vs 4.00 ms (1.50×)") {
		t.Fatalf("%+v", v)
	}
	api.BytesArm64 = 11_270_000
	if v := coldStartVerdict(verdict{}, api, hello); v.Status != statusFail || v.Miss != "1.27 MB over" {
		t.Fatalf("%+v", v)
	}
	f := findings{cold: &coldStartResult{Functions: []coldStartRow{api}}}
	if v := verdictOf(t, verdicts(f), "Cold start", "ours"); v.Status != statusNA {
		t.Fatalf("without hello: %+v", v)
	}
}

// TestCostAt checks the cost arithmetic on round figures.
func TestCostAt(t *testing.T) {
	cfg := stack.Defaults()
	cfg.API.MemoryMB, cfg.Authorizer.MemoryMB, cfg.NATGateways, cfg.RevocationWindowSeconds = 1024, 256, 1, 60
	cfg.RedisMode = stack.RedisServerless
	in := costInputs{ShareL1: 0.8, ShareL2: 0.1, ShareMiss: 0.1, L1Ms: 0.01, L2Ms: 0.06, MissMs: 50.2,
		RedisCmdsL2: 1, RedisCmdsMiss: 5, OriginPerRequest: 0.05, Stack: cfg}
	p := listPrices
	tb := costAt(in, p, 100)
	line := func(item string) costLine {
		for _, l := range tb.Lines {
			if l.Item == item {
				return l
			}
		}
		t.Fatalf("no %q line in %+v", item, tb.Lines)
		return costLine{}
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	// 0.9 of requests bill 1 ms, 0.1 bill 51 ms, at 1 GB.
	gbs := 0.9*0.001 + 0.1*0.051
	near("ours compute", line("Lambda api compute").Ours, gbs*1e6*p.LambdaArmGBSecond)
	near("REST compute", line("Lambda api compute").REST, 0.1*0.051*1e6*p.LambdaArmGBSecond)
	near("REST Lambda requests", line("Lambda api requests").REST, 0.1*p.LambdaPerMillion)
	// 1 GB-hour spread over 360,000 requests an hour, + 0.6 commands a request.
	near("ElastiCache", line("ElastiCache").Ours, 0.125/360000*1e6+0.6*p.ServerlessPerMECPU)
	near("NAT", line("NAT gateway (hours)").Ours, 0.045/360000*1e6)
	near("REST cache", line("REST stage cache").REST, 0.038/360000*1e6)
	// 10 keys × 120 verdicts an hour, each 0.2 µUSD + 1 ms at 0.25 GB.
	near("authorizer", line("Lambda authorizer").Ours, 1200*(0.2e-6+0.001*0.25*p.LambdaArmGBSecond)/360000*1e6)
	// 100 rps × 60 × 0.05 = 300 calls/min: over Basic, so Algo Trader Plus.
	near("Alpaca", line("Alpaca market data").Ours, 99.0/730/360000*1e6)
	var sum float64
	for _, l := range tb.Lines {
		sum += l.Ours
	}
	near("total", tb.Ours, sum)
	in.OriginPerRequest = 10
	if l := alpacaLine(in, p, 100); !strings.Contains(l.Basis, "60000 calls/min needed exceed its 10000/min") {
		t.Errorf("60,000 calls/min: %+v", l)
	}
	cfg.RedisMode, cfg.RedisNodeType, cfg.RedisNumNodeGroups, cfg.RedisReplicasPerNodeGroup = stack.RedisReplicationGroup, "cache.t4g.small", 1, 1
	in.Stack = cfg
	near("nodes", elastiCacheLine(in, p, 100).Ours, 2*0.032/360000*1e6)
}

func TestCostInputsFrom(t *testing.T) {
	f := passingFindings()
	if _, err := costInputsFrom(f.micro, f.load); err == nil {
		t.Fatal("no error without X-Cache counts")
	}
	f.load[2].XCache = map[string]int{api.CacheHitL1: 80, api.CacheHitL2: 15, api.CacheMiss: 5}
	f.load[2].OriginPer1000 = 33
	f.load[2].MissLatency = &percentiles{P50: 51.5, P95: 52}
	f.micro["HandlerMiss"] = microResult{Name: "HandlerMiss", NsPerOp: 400000, Metrics: map[string]float64{"redis-rtt/op": 5}}
	in, err := costInputsFrom(f.micro, f.load)
	if err != nil {
		t.Fatal(err)
	}
	if in.ShareL1 != 0.8 || in.ShareL2 != 0.15 || in.ShareMiss != 0.05 || in.L1Ms != 0.008 || in.MissMs != 51.5 ||
		in.RedisCmdsMiss != 5 || in.OriginPerRequest != 0.033 || in.APIMemoryMB != 1024 {
		t.Fatalf("%+v", in)
	}
	c, err := costSection(f.micro, f.load)
	if err != nil || len(c.Tables) != len(costRates) || !bytes.Contains(c.markdown(), []byte("| **Total** |")) {
		t.Fatalf("%v %+v", err, c)
	}
}
