package main

// The micro benchmarks: the service's paths in process (an API Gateway event
// in, a response out, through the Lambda handler with EMF metrics and JSON
// logs at info, as deployed), each beside its floor (the library or the
// round trip it cannot beat) and the anchors, in one run so that every
// comparison is a ratio measured under the same conditions. The bench program
// runs them with -count and reads their output (micro.go); their names are
// the contract with the verdict table (verdict.go).
//
// They need OPITIOS_TEST_REDIS_ADDR, as every Redis test does.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	gocache "github.com/go-redis/cache/v9"
	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/infra/stack"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/logging"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// benchNoon is a regular-session instant (a Tuesday), so every entry gets
// the regular-session TTL whatever the time of the run.
var benchNoon = time.Date(2026, 11, 24, 12, 0, 0, 0, market.NewYork)

// fixedClock reads benchNoon: nothing ever expires.
var fixedClock = market.ClockFunc(func() time.Time { return benchNoon })

// tickingClock advances a microsecond at every reading, so an entry given an
// L1 lifetime of a nanosecond is gone from L1 at the next read while its 30 s
// in L2 last some 30 million readings: every read is an L2 hit, with no purge
// inside the measured loop.
func tickingClock() market.Clock {
	var n atomic.Int64
	return market.ClockFunc(func() time.Time { return benchNoon.Add(time.Duration(n.Add(1)) * time.Microsecond) })
}

// redisAddr is the test Redis server's address; the benchmarks fail without
// it.
func redisAddr(tb testing.TB) string {
	a := os.Getenv("OPITIOS_TEST_REDIS_ADDR")
	if a == "" {
		tb.Fatal("OPITIOS_TEST_REDIS_ADDR is not set: run under dev/testenv/with-redis.sh or `make bench`")
	}
	return a
}

// rawRedis is a go-redis client with its defaults, closed at cleanup.
func rawRedis(tb testing.TB) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr(tb)})
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

// symSeq numbers the symbols of this process; symPrefix keeps them apart from
// those of earlier runs still in Redis.
var (
	symSeq    atomic.Uint64
	symPrefix = string([]byte{'Q', byte('A' + rand.IntN(26)), byte('A' + rand.IntN(26))})
)

// freshSymbol returns a valid stock symbol no cache has seen.
func freshSymbol() string {
	return symPrefix + strings.ToUpper(strconv.FormatUint(symSeq.Add(1), 36))
}

func freshSymbols(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = freshSymbol()
	}
	return out
}

// stubQuote is the quote the stub origin answers for every symbol, shaped as
// Alpaca's.
const stubQuote = `{"ap":187.32,"as":2,"ax":"V","bp":187.3,"bs":3,"bx":"V","c":["R"],"t":"2026-11-24T17:00:00.000000000Z","z":"C"}`

// stubOrigin answers Alpaca's latest-quote endpoints (multi- and
// single-symbol) for any symbol at once, with stubQuote, and counts the
// calls. The simulator knows a fixed universe; a miss at every iteration
// needs an origin that knows every symbol.
type stubOrigin struct{ calls atomic.Int64 }

func (o *stubOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(alpaca.SimulatorHeader, "true")
	if r.URL.Path == "/v2/stocks/quotes/latest" {
		b := []byte(`{"quotes":{`)
		for i, s := range strings.Split(r.URL.Query().Get("symbols"), ",") {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(strconv.AppendQuote(b, s), ':')
			b = append(b, stubQuote...)
		}
		w.Write(append(b, "}}"...))
		return
	}
	rest, _ := strings.CutPrefix(r.URL.Path, "/v2/stocks/")
	if sym, ok := strings.CutSuffix(rest, "/quotes/latest"); ok && sym != "" {
		fmt.Fprintf(w, `{"symbol":%q,"quote":%s}`, sym, stubQuote)
		return
	}
	http.NotFound(w, r)
}

// newStubOrigin starts a stub origin on loopback, closed at cleanup.
func newStubOrigin(tb testing.TB) (*stubOrigin, *httptest.Server) {
	o := &stubOrigin{}
	srv := httptest.NewServer(o)
	tb.Cleanup(srv.Close)
	return o, srv
}

// rttCounter counts Redis round trips (its count is a redistest.TripHook),
// and among them the reads: those made only of GET and MGET (a lock step, GETs
// pipelined with SET NX, is not one).
type rttCounter struct{ all, reads atomic.Int64 }

func (c *rttCounter) reset() { c.all.Store(0); c.reads.Store(0) }

// report adds the counts per op to b's results.
func (c *rttCounter) report(b *testing.B) {
	b.ReportMetric(float64(c.all.Load())/float64(b.N), "redis-rtt/op")
	b.ReportMetric(float64(c.reads.Load())/float64(b.N), "l2-reads/op")
}

func (c *rttCounter) count(cmds []redis.Cmder) {
	c.all.Add(1)
	if !slices.ContainsFunc(cmds, func(cmd redis.Cmder) bool { n := cmd.Name(); return n != "get" && n != "mget" }) {
		c.reads.Add(1)
	}
}

// apiMemoryMB is the api function's memory as the stack deploys it.
var apiMemoryMB = stack.Defaults().API.MemoryMB

// TestMain runs the benchmarks under the collector settings the api
// function runs with (service.TuneGC): the handler's allocations cost what
// they cost in Lambda, and every row of a run shares them.
func TestMain(m *testing.M) {
	service.TuneGC(os.Getenv, apiMemoryMB)
	os.Exit(m.Run())
}

// fixture is the service as deployed (Lambda handler, EMF metrics, JSON logs
// at info, the api function's memory and collector settings), over the test
// Redis and a stub origin.
type fixture struct {
	svc    *service.Service
	h      func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	origin *stubOrigin
	rtt    *rttCounter
}

func newFixture(b *testing.B, clock market.Clock, l1 cache.L1Options) *fixture {
	o, srv := newStubOrigin(b)
	svc, err := service.New(service.Config{
		Redis:         cache.RedisConfig{URL: "redis://" + redisAddr(b), Timeout: time.Second},
		Alpaca:        alpaca.Config{BaseURL: srv.URL, KeyID: "bench", SecretKey: "bench"},
		BudgetPerMin:  1_000_000,
		L1:            l1,
		MemoryLimitMB: apiMemoryMB,
		Clock:         clock,
		Metrics:       metrics.New(metrics.Options{EMF: true, Function: "api"}),
		Logger:        logging.NewLogger(io.Discard, "json", slog.LevelInfo),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	f := &fixture{svc: svc, h: svc.APIHandler(io.Discard), origin: o, rtt: &rttCounter{}}
	svc.Redis.AddHook(redistest.TripHook(f.rtt.count))
	return f
}

// sampleEvent is events/api-stock-quote-200.json as API Gateway sends it,
// and decoded.
var sampleEvent = sync.OnceValues(func() ([]byte, error) { return os.ReadFile("../../events/api-stock-quote-200.json") })

var decodedSample = sync.OnceValues(func() (events.APIGatewayV2HTTPRequest, error) {
	var ev events.APIGatewayV2HTTPRequest
	raw, err := sampleEvent()
	if err == nil {
		err = json.Unmarshal(raw, &ev)
	}
	return ev, err
})

// loadSample returns the sample's bytes and a copy of its decoded event
// (whose maps are shared: handlers only read them).
func loadSample(b *testing.B) ([]byte, events.APIGatewayV2HTTPRequest) {
	raw, err := sampleEvent()
	if err != nil {
		b.Fatal(err)
	}
	ev, err := decodedSample()
	if err != nil {
		b.Fatal(err)
	}
	return raw, ev
}

// quoteEvent is the sample event asking for sym's latest quote.
func quoteEvent(b *testing.B, sym string) events.APIGatewayV2HTTPRequest {
	_, ev := loadSample(b)
	ev.RawPath = "/v2/stocks/" + sym + "/quotes/latest"
	ev.RequestContext.HTTP.Path = ev.RawPath
	ev.PathParameters = map[string]string{"symbol": sym}
	return ev
}

// batchEvent is the sample event turned into a batch of syms.
func batchEvent(b *testing.B, syms []string) events.APIGatewayV2HTTPRequest {
	_, ev := loadSample(b)
	list := strings.Join(syms, ",")
	ev.RouteKey = "GET /v2/stocks/quotes/latest"
	ev.RequestContext.RouteKey = ev.RouteKey
	ev.RawPath = "/v2/stocks/quotes/latest"
	ev.RequestContext.HTTP.Path = ev.RawPath
	ev.RawQueryString = "symbols=" + list
	ev.QueryStringParameters = map[string]string{"symbols": list}
	ev.PathParameters = nil
	return ev
}

// serve runs one event and fails unless the answer is a 200 from layer want
// ("" for any).
func (f *fixture) serve(b *testing.B, ev events.APIGatewayV2HTTPRequest, want string) events.APIGatewayV2HTTPResponse {
	r, err := f.h(context.Background(), ev)
	if err != nil || r.StatusCode != http.StatusOK || (want != "" && r.Headers["X-Cache"] != want) {
		b.Fatalf("status %d, X-Cache %q (want %q), err %v: %s", r.StatusCode, r.Headers["X-Cache"], want, err, r.Body)
	}
	return r
}

// ---- the service's handler

func BenchmarkHandlerL1Hit(b *testing.B) {
	f := newFixture(b, fixedClock, cache.L1Options{})
	ev := quoteEvent(b, freshSymbol())
	f.serve(b, ev, "MISS")
	b.ReportAllocs()
	for b.Loop() {
		f.serve(b, ev, "HIT-L1")
	}
}

func BenchmarkHandlerL2Hit(b *testing.B) {
	f := newFixture(b, tickingClock(), cache.L1Options{TTL: time.Nanosecond})
	ev := quoteEvent(b, freshSymbol())
	f.serve(b, ev, "MISS")
	b.ReportAllocs()
	for b.Loop() {
		f.serve(b, ev, "HIT-L2")
	}
}

// BenchmarkHandlerMiss misses L1 and L2 at every iteration: a new symbol,
// fetched from a zero-latency origin over loopback HTTP, written to L2 and
// L1. Its floor is BenchmarkFloorOriginGet, the same origin call made bare.
func BenchmarkHandlerMiss(b *testing.B) {
	f := newFixture(b, fixedClock, cache.L1Options{})
	evs := make([]events.APIGatewayV2HTTPRequest, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if len(evs) == 0 {
			b.StopTimer()
			for range cap(evs) {
				evs = append(evs, quoteEvent(b, freshSymbol()))
			}
			b.StartTimer()
		}
		f.serve(b, evs[len(evs)-1], "MISS")
		evs = evs[:len(evs)-1]
	}
	f.rtt.report(b)
}

func BenchmarkHandlerBatch20L2(b *testing.B) {
	f := newFixture(b, tickingClock(), cache.L1Options{TTL: time.Nanosecond})
	ev := batchEvent(b, freshSymbols(20))
	f.serve(b, ev, "MISS")
	f.rtt.reset()
	b.ReportAllocs()
	for b.Loop() {
		f.serve(b, ev, "HIT-L2")
	}
	f.rtt.report(b)
}

// BenchmarkHandlerBatch20Mixed is a batch of 20 whose first 10 symbols are in
// L1 and last 10 new: the cache contract allows it one L2 read and one
// origin call.
func BenchmarkHandlerBatch20Mixed(b *testing.B) {
	f := newFixture(b, fixedClock, cache.L1Options{})
	hot := freshSymbols(10)
	f.serve(b, batchEvent(b, hot), "MISS")
	evs := make([]events.APIGatewayV2HTTPRequest, 0, 256)
	f.rtt.reset()
	f.origin.calls.Store(0)
	b.ReportAllocs()
	for b.Loop() {
		if len(evs) == 0 {
			b.StopTimer()
			for range cap(evs) {
				evs = append(evs, batchEvent(b, append(slices.Clip(hot), freshSymbols(10)...)))
			}
			b.StartTimer()
		}
		f.serve(b, evs[len(evs)-1], "MIXED")
		evs = evs[:len(evs)-1]
	}
	f.rtt.report(b)
	b.ReportMetric(float64(f.origin.calls.Load())/float64(b.N), "origin-calls/op")
}

// BenchmarkHandlerStorm200 is one op per storm: 200 goroutines released at
// once on one new symbol. The origin must see one call per storm.
func BenchmarkHandlerStorm200(b *testing.B) {
	f := newFixture(b, fixedClock, cache.L1Options{})
	f.origin.calls.Store(0)
	b.ReportAllocs()
	for b.Loop() {
		ev := quoteEvent(b, freshSymbol())
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range stormSize {
			wg.Go(func() {
				<-start
				if r, err := f.h(context.Background(), ev); err != nil || r.StatusCode != http.StatusOK {
					b.Errorf("status %d, err %v", r.StatusCode, err)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	b.ReportMetric(float64(f.origin.calls.Load())/float64(b.N), "origin-calls/op")
}

// ---- the service's cache, as a library

// stubFetch answers every id with the same quote, as a zero-latency origin.
func stubFetch(_ context.Context, ids []string) (map[string]cache.Item, error) {
	out := make(map[string]cache.Item, len(ids))
	for _, id := range ids {
		out[id] = cache.Item{Data: json.RawMessage(stubQuote), Source: "alpaca-sim"}
	}
	return out, nil
}

// benchCacheGet measures Get of one cached id answered by layer want.
func benchCacheGet(b *testing.B, o cache.Options, want cache.Layer) {
	c := cache.New(o)
	ctx := context.Background()
	id := freshSymbol()
	if _, err := c.Get(ctx, cache.StockQuote, id, stubFetch); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r, _ := c.Get(ctx, cache.StockQuote, id, stubFetch); r.Layer != want {
			b.Fatal(r.Layer)
		}
	}
}

func BenchmarkCacheL1Hit(b *testing.B) {
	benchCacheGet(b, cache.Options{Clock: fixedClock}, cache.LayerL1)
}

func BenchmarkCacheL2Hit(b *testing.B) {
	benchCacheGet(b, cache.Options{Redis: rawRedis(b), Clock: tickingClock(), L1: cache.L1Options{TTL: time.Nanosecond},
		L2: cache.L2Options{Timeout: time.Second}}, cache.LayerL2)
}

// BenchmarkCacheBatch20L2 is GetMany of 20 ids, all in L2.
func BenchmarkCacheBatch20L2(b *testing.B) {
	c := cache.New(cache.Options{Redis: rawRedis(b), Clock: tickingClock(), L1: cache.L1Options{TTL: time.Nanosecond},
		L2: cache.L2Options{Timeout: time.Second}})
	ctx := context.Background()
	ids := freshSymbols(20)
	if _, errs := c.GetMany(ctx, cache.StockQuote, ids, stubFetch); len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, _ := c.GetMany(ctx, cache.StockQuote, ids, stubFetch)
		if len(res) != 20 || res[ids[0]].Layer != cache.LayerL2 {
			b.Fatal(len(res), res[ids[0]].Layer)
		}
	}
}

// ---- the ratio targets, measured interleaved

// pairTimer times the steps of one benchmark iteration separately, so that
// a path and its floor, run alternately, share every condition of the
// machine; run in order ours first on even iterations and floor first on
// odd ones.
type pairTimer struct {
	n     int
	total []time.Duration
}

func (p *pairTimer) run(steps ...func()) {
	if p.total == nil {
		p.total = make([]time.Duration, len(steps))
	}
	for j := range steps {
		i := j
		if p.n%2 == 1 {
			i = len(steps) - 1 - j
		}
		t0 := time.Now()
		steps[i]()
		p.total[i] += time.Since(t0)
	}
	p.n++
}

// report gives each step's ns/op under names[i], and each step's ratio to
// the last one (the floor) as names[i] + "-x".
func (p *pairTimer) report(b *testing.B, names ...string) {
	floor := p.total[len(p.total)-1]
	for i, name := range names {
		b.ReportMetric(float64(p.total[i])/float64(b.N), name+"-ns/op")
		if i < len(names)-1 && floor > 0 {
			b.ReportMetric(float64(p.total[i])/float64(floor), name+"-x")
		}
	}
}

// BenchmarkPairL2Hit alternates a handler L2 hit, a cache L2 hit and a raw
// GET of an envelope: the L2-hit target's ratios, taken under the same
// conditions.
func BenchmarkPairL2Hit(b *testing.B) {
	f := newFixture(b, tickingClock(), cache.L1Options{TTL: time.Nanosecond})
	ctx := context.Background()
	ev := quoteEvent(b, freshSymbol())
	f.serve(b, ev, "MISS")
	rdb := rawRedis(b)
	c := cache.New(cache.Options{Redis: rdb, Clock: tickingClock(), L1: cache.L1Options{TTL: time.Nanosecond},
		L2: cache.L2Options{Timeout: time.Second}})
	id := freshSymbol()
	if _, err := c.Get(ctx, cache.StockQuote, id, stubFetch); err != nil {
		b.Fatal(err)
	}
	k := "bench:floor:" + freshSymbol()
	rdb.Set(ctx, k, envelope(), time.Minute)
	var p pairTimer
	for b.Loop() {
		p.run(
			func() { f.serve(b, ev, "HIT-L2") },
			func() {
				if r, _ := c.Get(ctx, cache.StockQuote, id, stubFetch); r.Layer != cache.LayerL2 {
					b.Fatal(r.Layer)
				}
			},
			func() {
				if _, err := rdb.Get(ctx, k).Bytes(); err != nil {
					b.Fatal(err)
				}
			},
		)
	}
	p.report(b, "handler", "cache", "get")
}

// BenchmarkPairBatch20L2 alternates a handler batch of 20 all in L2, a cache
// GetMany of 20 all in L2 and a raw pipeline of 20 GETs.
func BenchmarkPairBatch20L2(b *testing.B) {
	f := newFixture(b, tickingClock(), cache.L1Options{TTL: time.Nanosecond})
	ctx := context.Background()
	ev := batchEvent(b, freshSymbols(20))
	f.serve(b, ev, "MISS")
	rdb := rawRedis(b)
	c := cache.New(cache.Options{Redis: rdb, Clock: tickingClock(), L1: cache.L1Options{TTL: time.Nanosecond},
		L2: cache.L2Options{Timeout: time.Second}})
	ids := freshSymbols(20)
	if _, errs := c.GetMany(ctx, cache.StockQuote, ids, stubFetch); len(errs) > 0 {
		b.Fatal(errs)
	}
	keys := make([]string, 20)
	for i := range keys {
		keys[i] = "bench:floor:" + freshSymbol()
		rdb.Set(ctx, keys[i], envelope(), time.Minute)
	}
	var p pairTimer
	for b.Loop() {
		p.run(
			func() { f.serve(b, ev, "HIT-L2") },
			func() {
				if res, _ := c.GetMany(ctx, cache.StockQuote, ids, stubFetch); len(res) != 20 || res[ids[0]].Layer != cache.LayerL2 {
					b.Fatal(len(res))
				}
			},
			func() {
				if _, err := rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
					for _, k := range keys {
						pl.Get(ctx, k)
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			},
		)
	}
	p.report(b, "handler", "cache", "pipeline")
}

// ---- floors: what each path cannot beat

// envelope is an L2 value of the size the service stores for one quote.
func envelope() []byte {
	return cache.AppendEnvelope(nil, &cache.Entry{Symbol: "AAPL", Data: json.RawMessage(stubQuote), CachedAt: benchNoon,
		FetchedAt: benchNoon, DataSource: "alpaca-sim", Session: market.Regular, TTL: 30 * time.Second})
}

// BenchmarkFloorOtterGet is the L1 library's own lookup, configured as the
// service's L1 is: bounded by weight, with a per-entry expiry (which makes
// otter read its clock on every get).
func BenchmarkFloorOtterGet(b *testing.B) {
	c := otter.Must(&otter.Options[string, []byte]{
		MaximumWeight:    64 << 20,
		Weigher:          func(k string, v []byte) uint32 { return uint32(len(k) + len(v)) },
		ExpiryCalculator: otter.ExpiryWriting[string, []byte](10 * time.Second),
	})
	c.Set("AAPL", envelope())
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.GetIfPresent("AAPL"); !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkFloorRedisGet is one go-redis GET of an envelope.
func BenchmarkFloorRedisGet(b *testing.B) {
	rdb := rawRedis(b)
	ctx := context.Background()
	k := "bench:floor:" + freshSymbol()
	rdb.Set(ctx, k, envelope(), time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rdb.Get(ctx, k).Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorRedisPipeline20 is one go-redis pipeline of 20 GETs.
func BenchmarkFloorRedisPipeline20(b *testing.B) {
	rdb := rawRedis(b)
	ctx := context.Background()
	keys := make([]string, 20)
	for i := range keys {
		keys[i] = "bench:floor:" + freshSymbol()
		rdb.Set(ctx, keys[i], envelope(), time.Minute)
	}
	b.ReportAllocs()
	for b.Loop() {
		cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Get(ctx, k)
			}
			return nil
		})
		if err != nil || len(cmds) != 20 {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorEventDecode is what aws-lambda-go does with each event
// before the handler runs: encoding/json into APIGatewayV2HTTPRequest.
func BenchmarkFloorEventDecode(b *testing.B) {
	raw, _ := loadSample(b)
	b.ReportAllocs()
	for b.Loop() {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorOriginGet is the origin call of BenchmarkHandlerMiss made
// with a bare net/http client: the origin's latency as seen over loopback.
func BenchmarkFloorOriginGet(b *testing.B) {
	_, srv := newStubOrigin(b)
	c := srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get(srv.URL + "/v2/stocks/quotes/latest?feed=iex&symbols=" + freshSymbol())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp.StatusCode, err)
		}
		resp.Body.Close()
	}
}

// ---- anchors: the well-known library, and the original design

// BenchmarkAnchorGoRedisCacheL1Hit is go-redis/cache's Get answered by its
// TinyLFU local cache.
func BenchmarkAnchorGoRedisCacheL1Hit(b *testing.B) {
	benchGoRedisCache(b, gocache.NewTinyLFU(10_000, 10*time.Second))
}

// BenchmarkAnchorGoRedisCacheL2Hit is go-redis/cache's Get answered by
// Redis (no local cache).
func BenchmarkAnchorGoRedisCacheL2Hit(b *testing.B) { benchGoRedisCache(b, nil) }

func benchGoRedisCache(b *testing.B, local gocache.LocalCache) {
	rdb := rawRedis(b)
	opts := &gocache.Options{Redis: rdb}
	if local != nil {
		opts.LocalCache = local
	}
	c := gocache.New(opts)
	ctx := context.Background()
	k := "bench:gocache:" + freshSymbol()
	if err := c.Set(&gocache.Item{Ctx: ctx, Key: k, Value: envelope(), TTL: time.Minute}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var v []byte
		if err := c.Get(ctx, k, &v); err != nil || len(v) == 0 {
			b.Fatal(err)
		}
	}
}

// naiveFixture is the original design over the test Redis and a stub
// origin, served through httptest's recorder (no network between client and
// it).
func naiveFixture(b *testing.B) *naive {
	_, srv := newStubOrigin(b)
	n := newNaive(rawRedis(b), srv.URL, "bench", "bench")
	n.clock = fixedClock
	return n
}

func (n *naive) serveBench(b *testing.B, target, want string) {
	w := httptest.NewRecorder()
	n.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	if w.Code != http.StatusOK || w.Header().Get("X-Cache") != want {
		b.Fatalf("status %d, X-Cache %q (want %q): %s", w.Code, w.Header().Get("X-Cache"), want, w.Body)
	}
}

// BenchmarkAnchorNaiveL2Hit is the original design's hit: a Redis GET and a
// JSON decode of the envelope.
func BenchmarkAnchorNaiveL2Hit(b *testing.B) {
	n := naiveFixture(b)
	target := "/v2/stocks/" + freshSymbol() + "/quotes/latest"
	n.serveBench(b, target, "MISS")
	b.ReportAllocs()
	for b.Loop() {
		n.serveBench(b, target, "HIT-L2")
	}
}

// BenchmarkAnchorNaiveBatch20L2 is the original design's batch of 20 cached
// symbols: 20 concurrent lookups.
func BenchmarkAnchorNaiveBatch20L2(b *testing.B) {
	n := naiveFixture(b)
	target := "/v2/stocks/quotes/latest?symbols=" + strings.Join(freshSymbols(20), ",")
	n.serveBench(b, target, "MISS")
	b.ReportAllocs()
	for b.Loop() {
		n.serveBench(b, target, "HIT-L2")
	}
}
