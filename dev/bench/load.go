package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/catalog"
)

// authHeader carries the development client key of the `make run` program.
// The other systems ignore it.
var authHeader = http.Header{
	auth.HeaderKeyID:     {auth.DevKeyID},
	auth.HeaderSecretKey: {auth.DevSecret},
}

// percentiles are latencies in milliseconds.
type percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentilesOf returns the nearest-rank percentiles of ds (sorted in
// place), or nil for none.
func percentilesOf(ds []time.Duration) *percentiles {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ms(ds[max(i, 0)])
	}
	return &percentiles{P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: ms(ds[len(ds)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadResult is one scenario's figures on one system.
type loadResult struct {
	Scenario      string         `json:"scenario"`
	System        string         `json:"system"`
	Load          string         `json:"load"` // "max rate" or "N/s"
	Connections   int            `json:"connections"`
	DurationS     float64        `json:"duration_s"`
	Requests      int            `json:"requests"`
	Errors        int            `json:"errors"`
	ErrorsByClass map[string]int `json:"errors_by_class,omitempty"`
	RPS           float64        `json:"rps"`
	Latency       *percentiles   `json:"latency_ms"`
	HitLatency    *percentiles   `json:"hit_latency_ms,omitempty"`  // responses served wholly from a cache
	MissLatency   *percentiles   `json:"miss_latency_ms,omitempty"` // responses served wholly from the origin
	XCache        map[string]int `json:"x_cache,omitempty"`
	// HitRate is the share of symbol lookups served from a cache (a batch
	// counts each symbol, from its "meta"); nil when no answer said.
	HitRate       *float64 `json:"hit_rate,omitempty"`
	OriginCalls   int64    `json:"origin_calls"`
	OriginPer1000 float64  `json:"origin_calls_per_1000_requests"`
	// OriginCallsPerRound is the stampede's count of each round.
	OriginCallsPerRound []int64 `json:"origin_calls_per_round,omitempty"`
	AgeMaxS             int     `json:"data_age_max_s"`
	// ServerCPUus is the CPU time the server process (with its simulator)
	// spent per request, in µs: what the server costs, whoever else shares
	// the machine or drives the load.
	ServerCPUus float64 `json:"server_cpu_us_per_request,omitempty"`
	// ServerCPUPct and GeneratorCPUPct are the CPU time the server and the
	// load generator used over the run, in % of all the machine's cores:
	// a generator far from 100 % was not what limited the rate.
	ServerCPUPct    float64 `json:"server_cpu_pct,omitempty"`
	Generator       string  `json:"generator,omitempty"` // genWrk or genVegeta
	GeneratorCPUPct float64 `json:"generator_cpu_pct,omitempty"`
	Session         string  `json:"market_session,omitempty"`
	Note            string  `json:"note,omitempty"`
}

// collector accumulates the answers of one scenario. It is safe for
// concurrent use.
type collector struct {
	mu       sync.Mutex
	all      []time.Duration
	hit      []time.Duration
	miss     []time.Duration
	ok       int
	errs     map[string]int
	xcache   map[string]int
	lookups  int
	hits     int
	ageMax   int
	sessions map[string]bool
}

func newCollector() *collector {
	return &collector{errs: map[string]int{}, xcache: map[string]int{}, sessions: map[string]bool{}}
}

// Per-symbol cache markers in a batch's "meta".
var (
	metaMarker = []byte(`"meta":{`)
	metaHitL1  = []byte(`"cache":"` + api.CacheHitL1 + `"`)
	metaHitL2  = []byte(`"cache":"` + api.CacheHitL2 + `"`)
	metaMiss   = []byte(`"cache":"` + api.CacheMiss + `"`)
)

// add records one answer: its status (0 when the request failed before one
// arrived, with errMsg saying why), latency, headers and body.
func (c *collector) add(code int, errMsg string, lat time.Duration, h http.Header, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, lat)
	if code < 200 || code >= 400 {
		c.errs[errorClass(code, errMsg)]++
		return
	}
	c.ok++
	xc := h.Get(api.HeaderCache)
	if xc != "" {
		c.xcache[xc]++
	}
	switch xc {
	case api.CacheHitL1, api.CacheHitL2:
		c.hit = append(c.hit, lat)
	case api.CacheMiss:
		c.miss = append(c.miss, lat)
	}
	if bytes.Contains(body, metaMarker) {
		l1, l2 := bytes.Count(body, metaHitL1), bytes.Count(body, metaHitL2)
		c.hits += l1 + l2
		c.lookups += l1 + l2 + bytes.Count(body, metaMiss)
	} else if xc != "" {
		c.lookups++
		if xc == api.CacheHitL1 || xc == api.CacheHitL2 {
			c.hits++
		}
	}
	if a, err := strconv.Atoi(h.Get("Age")); err == nil && a > c.ageMax {
		c.ageMax = a
	}
	if s := h.Get(api.HeaderMarketSession); s != "" {
		c.sessions[s] = true
	}
}

// errorClass names the kind of a failed request: its HTTP status, or the
// transport failure.
func errorClass(code int, msg string) string {
	if code != 0 {
		return "http_" + strconv.Itoa(code)
	}
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "timeout"), strings.Contains(m, "deadline exceeded"):
		return "timeout"
	case strings.Contains(m, "connection refused"):
		return "connection_refused"
	case strings.Contains(m, "reset by peer"), strings.Contains(m, "broken pipe"), strings.Contains(m, "eof"):
		return "connection_reset"
	}
	return "transport"
}

// result summarises what was collected over elapsed.
func (c *collector) result(scenario, system string, elapsed time.Duration) loadResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := loadResult{
		Scenario:    scenario,
		System:      system,
		DurationS:   round(elapsed.Seconds(), 2),
		Requests:    len(c.all),
		Errors:      len(c.all) - c.ok,
		Latency:     percentilesOf(c.all),
		HitLatency:  percentilesOf(c.hit),
		MissLatency: percentilesOf(c.miss),
		AgeMaxS:     c.ageMax,
	}
	if r.Latency == nil {
		r.Latency = &percentiles{}
	}
	if elapsed > 0 {
		r.RPS = round(float64(len(c.all))/elapsed.Seconds(), 0)
	}
	if len(c.errs) > 0 {
		r.ErrorsByClass = c.errs
	}
	if len(c.xcache) > 0 {
		r.XCache = c.xcache
	}
	if c.lookups > 0 {
		hr := round(float64(c.hits)/float64(c.lookups), 4)
		r.HitRate = &hr
	}
	ss := make([]string, 0, len(c.sessions))
	for s := range c.sessions {
		ss = append(ss, s)
	}
	slices.Sort(ss)
	r.Session = strings.Join(ss, ",")
	return r
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// attackSpec is one run of the load generator.
type attackSpec struct {
	conns   int             // concurrent connections (and workers)
	rate    int             // requests per second; 0 means as fast as the connections go
	dur     time.Duration   // how long to send
	targets vegeta.Targeter // what to send
	// wrk, when set, runs the load with wrk over these URLs, round robin,
	// instead of vegeta (max rate only; no headers or bodies are seen).
	wrk []string
}

func (a attackSpec) load() string {
	if a.rate == 0 {
		return "max rate"
	}
	return strconv.Itoa(a.rate) + "/s"
}

// attack runs spec with vegeta, adds every answer to c and returns how long
// it took. It stops early when ctx ends.
func attack(ctx context.Context, name string, spec attackSpec, c *collector) time.Duration {
	n := spec.conns
	atk := vegeta.NewAttacker(
		vegeta.Connections(n), vegeta.MaxConnections(n),
		vegeta.Workers(uint64(n)), vegeta.MaxWorkers(uint64(n)),
		vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second),
	)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	start := time.Now()
	for r := range atk.Attack(spec.targets, vegeta.Rate{Freq: spec.rate, Per: time.Second}, spec.dur, name) {
		c.add(int(r.Code), r.Error, r.Latency, r.Headers, r.Body)
	}
	return time.Since(start)
}

// target is one GET with the client key.
func target(url string) vegeta.Target {
	return vegeta.Target{Method: http.MethodGet, URL: url, Header: authHeader}
}

// roundRobin cycles through urls.
func roundRobin(urls ...string) vegeta.Targeter {
	tgts := make([]vegeta.Target, len(urls))
	for i, u := range urls {
		tgts[i] = target(u)
	}
	return vegeta.NewStaticTargeter(tgts...)
}

// zipfPicker draws symbol indexes in [0, n) with Zipf's law (s = 1.1), from a
// fixed random seed. It is safe for concurrent use.
type zipfPicker struct {
	mu sync.Mutex
	z  *rand.Zipf
}

func newZipf(n int, seed uint64) *zipfPicker {
	return &zipfPicker{z: rand.NewZipf(rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), 1.1, 1, uint64(n-1))}
}

func (p *zipfPicker) next() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.z.Uint64())
}

// distinct draws k distinct indexes.
func (p *zipfPicker) distinct(k int) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := make(map[int]bool, k)
	out := make([]int, 0, k)
	for len(out) < k {
		i := int(p.z.Uint64())
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

func quotePath(sym string) string { return "/v2/stocks/" + sym + "/quotes/latest" }

func batchPath(syms []string) string {
	return catalog.PathStockQuotes + "?symbols=" + strings.Join(syms, ",")
}

// zipfQuotes asks for single quotes of syms, Zipf-distributed.
func zipfQuotes(base string, syms []string, seed uint64) vegeta.Targeter {
	p := newZipf(len(syms), seed)
	return func(t *vegeta.Target) error {
		*t = target(base + quotePath(syms[p.next()]))
		return nil
	}
}

// zipfBatches asks for batches of size distinct symbols of syms, each drawn
// with Zipf's law.
func zipfBatches(base string, syms []string, size int, seed uint64) vegeta.Targeter {
	p := newZipf(len(syms), seed)
	return func(t *vegeta.Target) error {
		idx := p.distinct(size)
		pick := make([]string, len(idx))
		for i, j := range idx {
			pick[i] = syms[j]
		}
		*t = target(base + batchPath(pick))
		return nil
	}
}

// stampede opens clients connections spread over bases, then has every
// client ask for path at the same instant. Answers go to c.
func stampede(ctx context.Context, bases []string, path string, clients int, c *collector) error {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	get := func(url string) (int, http.Header, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header = authHeader.Clone()
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, body, err
	}
	// Open every connection first, so the stampede measures the service and
	// not the handshakes.
	var wg sync.WaitGroup
	warm := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			if _, _, _, err := get(bases[i%len(bases)] + "/healthz"); err != nil {
				warm <- err
			}
		})
	}
	wg.Wait()
	close(warm)
	if err := <-warm; err != nil {
		return fmt.Errorf("stampede: opening connections: %w", err)
	}
	start := make(chan struct{})
	for i := range clients {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			code, h, body, err := get(bases[i%len(bases)] + path)
			msg := ""
			if err != nil {
				msg, code = err.Error(), 0
			}
			c.add(code, msg, time.Since(t0), h, body)
		})
	}
	close(start)
	wg.Wait()
	return nil
}
