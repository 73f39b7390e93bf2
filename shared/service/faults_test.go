package service_test

import (
	"github.com/opitios/opitios-alpaca/dev/logtest"

	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// faultStack is the service with a private redis-server and the simulator,
// for tests that break things. Both read one sessionClock.
type faultStack struct {
	svc    *service.Service
	sim    *alpacasim.Server
	simSrv *httptest.Server
	redis  *redistest.Server
	rdb    *redis.Client
	logs   *logtest.Buffer
}

const (
	simKey    = "AKFAULTTESTKEYID0001"
	simSecret = "fault-test-secret-do-not-leak-0001"
)

// sessionClock returns a clock that reads regular (a Wednesday, 14:00 New
// York time) when it is created and then advances in real time: faults take
// real time to strike and heal, and no session change, at which entries
// expire early, can fall inside a test.
func sessionClock() market.Clock {
	start := time.Now()
	return market.ClockFunc(func() time.Time { return regular.Add(time.Since(start)) })
}

func newFaultStack(t *testing.T, budget int, mutate func(*service.Config)) *faultStack {
	t.Helper()
	clk := sessionClock()
	sim, simSrv := alpacasim.NewTestServer(t, alpacasim.Config{KeyID: simKey, SecretKey: simSecret, Clock: clk})
	rs := redistest.StartServer(t)
	logs := &logtest.Buffer{}
	cfg := service.Config{
		Redis:        cache.RedisConfig{URL: "redis://" + rs.Addr, Timeout: 50 * time.Millisecond},
		Alpaca:       alpaca.Config{BaseURL: simSrv.URL, KeyID: simKey, SecretKey: simSecret},
		BudgetPerMin: budget,
		// One instance is the whole fleet here: with Redis refusing the
		// budget's writes it may fall back to the whole budget.
		OriginInstances: 1,
		Clock:           clk,
		Logger:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	svc, err := service.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	return &faultStack{svc: svc, sim: sim, simSrv: simSrv, redis: rs, rdb: rs.Client(), logs: logs}
}

func (f *faultStack) get(ctx context.Context, path, query string) events.APIGatewayV2HTTPResponse {
	ev := events.APIGatewayV2HTTPRequest{RawPath: path, RawQueryString: query}
	ev.RequestContext.HTTP.Method = "GET"
	resp, err := f.svc.API.Handle(ctx, ev)
	if err != nil {
		panic(err)
	}
	return resp
}

// tally is what continuous traffic saw.
type tally struct {
	mu        sync.Mutex
	n         int
	byStatus  map[int]int
	slowest   time.Duration
	latencies []time.Duration
	problems  []string
}

func (t *tally) add(status int, d time.Duration, problem string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byStatus == nil {
		t.byStatus = map[int]int{}
	}
	t.n++
	t.byStatus[status]++
	t.slowest = max(t.slowest, d)
	t.latencies = append(t.latencies, d)
	if problem != "" && len(t.problems) < 10 {
		t.problems = append(t.problems, problem)
	}
}

func (t *tally) p(q float64) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.latencies) == 0 {
		return 0
	}
	s := slices.Clone(t.latencies)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// traffic runs workers requesting a few symbols until stop is closed, and
// checks every answer: 200, attributed, and no older than its TTL allows.
func (f *faultStack) traffic(workers int, stop <-chan struct{}) (*tally, *sync.WaitGroup) {
	t := &tally{}
	var wg sync.WaitGroup
	syms := []string{"AAPL", "MSFT", "NVDA", "SPY", "QQQ"}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				start := time.Now()
				var r events.APIGatewayV2HTTPResponse
				if i%4 == 3 {
					r = f.get(ctx, "/v2/stocks/quotes/latest", "symbols="+strings.Join(syms, ","))
				} else {
					r = f.get(ctx, "/v2/stocks/"+syms[(w+i)%len(syms)]+"/quotes/latest", "")
				}
				cancel()
				problem := ""
				if r.StatusCode == 200 {
					age, err1 := strconv.Atoi(r.Headers["Age"])
					maxAge, err2 := strconv.Atoi(strings.TrimPrefix(r.Headers["Cache-Control"], "private, max-age="))
					switch {
					case r.Headers["X-Cache"] == "" || r.Headers["X-Data-Source"] != "alpaca-sim":
						problem = "unattributed answer"
					case err1 != nil || err2 != nil || maxAge < age || maxAge-age > 300:
						problem = "age/max-age " + r.Headers["Age"] + "/" + r.Headers["Cache-Control"]
					}
				}
				t.add(r.StatusCode, time.Since(start), problem)
			}
		}()
	}
	return t, &wg
}

func (t *tally) check(tb testing.TB, what string) {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	tb.Logf("%s: %d requests %v, slowest %v", what, t.n, t.byStatus, t.slowest)
	if t.n == 0 {
		tb.Fatalf("%s: no traffic", what)
	}
	for s, n := range t.byStatus {
		if s != 200 {
			tb.Errorf("%s: %d answers with status %d", what, n, s)
		}
	}
	if len(t.problems) > 0 {
		tb.Errorf("%s: %v", what, t.problems)
	}
}

// underFault runs traffic, applies fault after a warm-up, keeps the traffic
// going through it, then heals and checks the recovery.
func underFault(t *testing.T, f *faultStack, fault, heal func()) (during, after *tally) {
	t.Helper()
	phase := func(workers int, d time.Duration, what string) *tally {
		t.Helper()
		stop := make(chan struct{})
		seen, wg := f.traffic(workers, stop)
		time.Sleep(d)
		close(stop)
		wg.Wait()
		seen.check(t, what)
		return seen
	}
	phase(4, 300*time.Millisecond, "before the fault")
	fault()
	during = phase(8, 1500*time.Millisecond, "during the fault")
	heal()
	after = phase(4, 1500*time.Millisecond, "after healing")
	return during, after
}

// keysAppear waits until L2 holds quote entries again: recovery without a
// restart of the service.
func (f *faultStack) keysAppear(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.svc.Cache.PurgeL1()
		f.get(context.Background(), "/v2/stocks/IBM/quotes/latest", "")
		if n, _ := f.rdb.Exists(context.Background(), cache.Key(cache.StockQuote, "IBM")).Result(); n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("L2 writes did not resume after the fault healed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRedisStoppedMidLoad(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	during, _ := underFault(t, f, f.redis.Stop, f.redis.Start)
	// With the breaker open, requests stop paying the Redis timeout.
	if p := during.p(0.5); p > 50*time.Millisecond {
		t.Errorf("median latency with Redis down %v: the breaker should make it cheap", p)
	}
	f.keysAppear(t)
}

func TestRedisPausedSlow(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	ctl := f.redis.Client()
	during, _ := underFault(t, f,
		func() { ctl.Do(context.Background(), "CLIENT", "PAUSE", "1200", "ALL") },
		func() { ctl.Do(context.Background(), "CLIENT", "UNPAUSE") })
	// Each request pays at most a couple of Redis timeouts (50 ms) before the
	// breaker opens, never the pause itself.
	if during.slowest > 1200*time.Millisecond {
		t.Errorf("a request waited %v: the Redis timeout did not bound it", during.slowest)
	}
	f.keysAppear(t)
}

func TestRedisRestartedEmpty(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	underFault(t, f, func() { f.redis.Stop(); f.redis.Start() }, func() {})
	f.keysAppear(t)
}

func TestRedisMaxMemory(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	ctl := f.redis.Client()
	ctx := context.Background()
	underFault(t, f, func() {
		ctl.ConfigSet(ctx, "maxmemory-policy", "noeviction")
		ctl.ConfigSet(ctx, "maxmemory", "1") // every write is refused with OOM
		f.svc.Cache.PurgeL1()
		f.rdb.FlushAll(ctx)
	}, func() {
		ctl.ConfigSet(ctx, "maxmemory", "0")
	})
	f.keysAppear(t)
}

func TestCorruptValueByHand(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	ctx := context.Background()
	if r := f.get(ctx, "/v2/stocks/AAPL/quotes/latest", ""); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	k := cache.Key(cache.StockQuote, "AAPL")
	f.rdb.Set(ctx, k, `{"symbol":"AAPL","data":{"ap":1`, time.Minute)
	f.svc.Cache.PurgeL1()
	r := f.get(ctx, "/v2/stocks/AAPL/quotes/latest", "")
	if r.StatusCode != 200 || r.Headers["X-Cache"] != "MISS" || strings.Contains(r.Body, `"ap":1`+"\n") {
		t.Fatalf("%d %s %s", r.StatusCode, r.Headers["X-Cache"], r.Body)
	}
	raw, _ := f.rdb.Get(ctx, k).Bytes()
	if _, err := cache.DecodeEnvelope(raw); err != nil {
		t.Fatalf("the corrupt value was not replaced: %s", raw)
	}
}

func TestOriginFaults(t *testing.T) {
	cases := []struct {
		name  string
		fault func(s *alpacasim.Server)
	}{
		{"429 storm", func(s *alpacasim.Server) { s.SetFault(alpacasim.RateLimitStorm) }},
		{"HTML 500", func(s *alpacasim.Server) { s.SetFault(alpacasim.HTML500) }},
		{"truncated JSON", func(s *alpacasim.Server) { s.SetFault(alpacasim.TruncatedJSON) }},
		{"all 5xx", func(s *alpacasim.Server) { s.SetErrorRate(1) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFaultStack(t, 1000, nil)
			ctx := context.Background()
			if r := f.get(ctx, "/v2/stocks/AAPL/quotes/latest", ""); r.StatusCode != 200 {
				t.Fatal(r.StatusCode)
			}
			c.fault(f.sim)
			// Cached data is still served, fresh and attributed.
			if r := f.get(ctx, "/v2/stocks/AAPL/quotes/latest", ""); r.StatusCode != 200 || r.Headers["X-Cache"] != "HIT-L1" {
				t.Fatalf("cached: %d %s", r.StatusCode, r.Headers["X-Cache"])
			}
			tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			r := f.get(tctx, "/v2/stocks/MSFT/quotes/latest", "")
			if r.StatusCode != 503 || r.Headers["Retry-After"] == "" {
				t.Fatalf("uncached: %d Retry-After=%q %s", r.StatusCode, r.Headers["Retry-After"], r.Body)
			}
			b := f.get(tctx, "/v2/stocks/quotes/latest", "symbols=AAPL,NVDA")
			// failed, or timeout when a 429's reset fell inside the deadline
			// and the client waited for it in vain.
			nvdaFailed := strings.Contains(b.Body, `"NVDA":{"status":"failed"`) || strings.Contains(b.Body, `"NVDA":{"status":"timeout"`)
			if b.StatusCode != 200 || !nvdaFailed || !strings.Contains(b.Body, `"AAPL":{`) {
				t.Fatalf("batch: %d %s", b.StatusCode, b.Body)
			}
			if n, _ := f.rdb.Exists(ctx, cache.Key(cache.StockQuote, "MSFT"), cache.Key(cache.StockQuote, "NVDA")).Result(); n != 0 {
				t.Fatal("something from a failed call was cached")
			}
		})
	}
}

func TestOriginThirtyPercent5xx(t *testing.T) {
	f := newFaultStack(t, 100000, nil)
	f.sim.SetErrorRate(0.3)
	ctx := context.Background()
	statuses := map[int]int{}
	for i, sym := range alpacasim.Universe()[:60] {
		f.svc.Cache.PurgeL1()
		r := f.get(ctx, "/v2/stocks/"+sym+"/quotes/latest", "")
		statuses[r.StatusCode]++
		if r.StatusCode == 503 && r.Headers["Retry-After"] == "" {
			t.Fatalf("%d: 503 without Retry-After", i)
		}
	}
	t.Logf("30%% origin 5xx: %v", statuses)
	if statuses[500] != 0 || statuses[200]+statuses[503] != 60 {
		t.Fatalf("statuses %v", statuses)
	}
	// Three retries make a failure rare: 0.3^4 per request.
	if statuses[200] < 50 {
		t.Fatalf("retries did not absorb the errors: %v", statuses)
	}
}

func TestOriginHangCutAtDeadline(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	f.sim.SetFault(alpacasim.Hang)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := f.get(ctx, "/v2/stocks/AAPL/quotes/latest", "")
	el := time.Since(start)
	if r.StatusCode != 503 || el > 800*time.Millisecond {
		t.Fatalf("status %d after %v", r.StatusCode, el)
	}
}

func TestVanishedSymbolIsNotPaperedOver(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	ctx := context.Background()
	if r := f.get(ctx, "/v2/stocks/AAPL/quotes/latest", ""); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	f.sim.Vanish("AAPL")
	// Once the entry is gone (deleted here, as expiry would), the origin's
	// answer is final: no old data.
	f.svc.Cache.PurgeL1()
	f.rdb.Del(ctx, cache.Key(cache.StockQuote, "AAPL"))
	if r := f.get(ctx, "/v2/stocks/AAPL/quotes/latest", ""); r.StatusCode != 404 {
		t.Fatalf("vanished single: %d %s", r.StatusCode, r.Body)
	}
	if r := f.get(ctx, "/v2/stocks/quotes/latest", "symbols=AAPL,MSFT"); !strings.Contains(r.Body, `"AAPL":{"status":"not_found"`) {
		t.Fatalf("vanished in batch: %s", r.Body)
	}
}

// TestBudgetNeverExceeded: with a budget of 60 a minute, 500 distinct
// requests within a few seconds never make the origin see more than the
// budget (its burst included: the budget is a hard cap per minute), and the
// excess get 503 with Retry-After.
func TestBudgetNeverExceeded(t *testing.T) {
	const budget = 60
	f := newFaultStack(t, budget, nil)
	f.sim.SetRateLimit(budget)
	var wg sync.WaitGroup
	var n503 atomic.Int64
	for _, sym := range alpacasim.Universe()[:500] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			r := f.get(ctx, "/v2/stocks/"+sym+"/quotes/latest", "")
			switch r.StatusCode {
			case 200:
			case 503:
				if r.Headers["Retry-After"] == "" {
					t.Error("503 without Retry-After")
				}
				n503.Add(1)
			default:
				t.Errorf("status %d", r.StatusCode)
			}
		}()
	}
	wg.Wait()
	st := f.sim.Stats()
	t.Logf("origin requests %d, 503s %d", st.TotalRequests, n503.Load())
	if st.TotalRequests > budget {
		t.Fatalf("the origin saw %d requests, the budget is %d/min", st.TotalRequests, budget)
	}
	if n503.Load() == 0 {
		t.Fatal("500 distinct requests within a 60/min budget all succeeded?")
	}
}

func TestFiftyMillisecondsLeft(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	ctx := context.Background()
	f.get(ctx, "/v2/stocks/AAPL/quotes/latest", "")
	f.sim.SetLatency(300 * time.Millisecond)
	for _, c := range []struct {
		sym  string
		want int
	}{{"AAPL", 200}, {"MSFT", 503}} {
		dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		start := time.Now()
		r := f.get(dctx, "/v2/stocks/"+c.sym+"/quotes/latest", "")
		el := time.Since(start)
		cancel()
		if r.StatusCode != c.want || el > 150*time.Millisecond {
			t.Fatalf("%s: %d after %v (50 ms left)", c.sym, r.StatusCode, el)
		}
	}
}

func TestFrozenInstanceReconnects(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	ctx := context.Background()
	for _, s := range []string{"AAPL", "MSFT"} {
		if r := f.get(ctx, "/v2/stocks/"+s+"/quotes/latest", ""); r.StatusCode != 200 {
			t.Fatal(r.StatusCode)
		}
	}
	// Minutes frozen: the peers dropped every idle connection.
	f.simSrv.CloseClientConnections()
	f.redis.Client().Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
	f.svc.Cache.PurgeL1()
	for _, s := range []string{"AAPL", "NVDA"} {
		if r := f.get(ctx, "/v2/stocks/"+s+"/quotes/latest", ""); r.StatusCode != 200 {
			t.Fatalf("%s after the freeze: %d %s", s, r.StatusCode, r.Body)
		}
	}
}

func TestColdStartRedisUnreachable(t *testing.T) {
	port := redistest.FreePort(t)
	f := newFaultStack(t, 1000, func(c *service.Config) {
		c.Redis.URL = fmt.Sprintf("redis://127.0.0.1:%d", port)
	})
	ctx := context.Background()
	start := time.Now()
	r := f.get(ctx, "/v2/stocks/AAPL/quotes/latest", "")
	if r.StatusCode != 200 || r.Headers["X-Cache"] != "MISS" || time.Since(start) > time.Second {
		t.Fatalf("cold start without Redis: %d %s after %v", r.StatusCode, r.Headers["X-Cache"], time.Since(start))
	}
	if r := f.get(ctx, "/v2/stocks/AAPL/quotes/latest", ""); r.Headers["X-Cache"] != "HIT-L1" {
		t.Fatalf("L1 not used: %s", r.Headers["X-Cache"])
	}
	if r := f.get(ctx, "/healthz", ""); !strings.Contains(r.Body, `"l2":"unavailable"`) {
		t.Fatalf("health: %s", r.Body)
	}
}

func TestOriginCredentialsNeverLeak(t *testing.T) {
	f := newFaultStack(t, 1000, nil)
	ctx := context.Background()
	var bodies []string
	for _, fault := range []alpacasim.Fault{alpacasim.None, alpacasim.Unauthorized, alpacasim.HTML500, alpacasim.TruncatedJSON, alpacasim.RateLimitStorm} {
		f.sim.SetFault(fault)
		f.svc.Cache.PurgeL1()
		f.rdb.FlushAll(ctx)
		for _, p := range []string{"/v2/stocks/TSLA/quotes/latest", "/v2/stocks/quotes/latest?symbols=AMD,INTC", "/v2/stocks/AMZN/bars?timeframe=1Day"} {
			path, query, _ := strings.Cut(p, "?")
			tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			r := f.get(tctx, path, query)
			cancel()
			bodies = append(bodies, r.Body)
			for k, v := range r.Headers {
				bodies = append(bodies, k+": "+v)
			}
		}
	}
	all := strings.Join(bodies, "\n") + f.logs.String()
	for _, secret := range []string{simKey, simSecret} {
		if strings.Contains(all, secret) {
			t.Fatalf("origin credential %q leaked into responses or logs", secret)
		}
	}
	if !strings.Contains(f.logs.String(), "origin") {
		t.Fatal("no origin failure was logged at all: the check above proved nothing")
	}
}
