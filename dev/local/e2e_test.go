//go:build linux

package main

import (
	"github.com/opitios/opitios-alpaca/dev/logtest"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The end-to-end tests build this program, start it as `make run` would,
// on free ports, and use it over HTTP only.

var (
	buildOnce sync.Once
	buildDir  string
	binary    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// program builds the program once per test binary (with the race detector
// when the tests have it) and returns its path.
func program(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "opitios-local-e2e-"); buildErr != nil {
			return
		}
		binary = buildDir + "/opitios-local"
		args := []string{"build", "-o", binary}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// proc is the running program.
type proc struct {
	cmd            *exec.Cmd
	api, sim       string // http://127.0.0.1:port
	stdout, stderr *logtest.Buffer
	exited         chan struct{}
	waitErr        error
}

// env is the program's environment: the machine's PATH (for redis-server)
// and nothing else of the caller's, so no REDIS_URL or Alpaca key set on
// the machine changes what is tested. The one exception is the clock shift
// of dev/testenv/shifted-clock.sh, which the program (built with the same
// shifted time package) needs to read the clock this test reads.
func env(extra ...string) []string {
	e := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	if shift, ok := os.LookupEnv(envClockShift); ok {
		e = append(e, envClockShift+"="+shift)
	}
	return append(e, extra...)
}

// envClockShift is the variable dev/testenv/shifted-clock.sh shifts Go's
// clock by.
const envClockShift = "OPITIOS_TEST_CLOCK_SHIFT"

// startProgram starts the program on free ports and returns it without
// waiting; the test's cleanup kills it if it still runs.
func startProgram(t *testing.T, extra ...string) *proc {
	t.Helper()
	apiPort, simPort := port(t), port(t)
	p := &proc{
		api:    fmt.Sprintf("http://127.0.0.1:%d", apiPort),
		sim:    fmt.Sprintf("http://127.0.0.1:%d", simPort),
		stdout: &logtest.Buffer{},
		stderr: &logtest.Buffer{},
		exited: make(chan struct{}),
	}
	p.cmd = exec.Command(program(t))
	p.cmd.Env = env(append([]string{
		envPort + "=" + strconv.Itoa(apiPort),
		envSimAddr + "=" + fmt.Sprintf("127.0.0.1:%d", simPort),
	}, extra...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("program stdout:\n%s\nprogram stderr:\n%s", p.stdout, p.stderr)
		}
	})
	return p
}

func port(t *testing.T) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitReady polls /healthz until it reports a reachable L2, then checks
// that the banner ended with the ready line.
func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("program exited before it was ready: %v", p.waitErr)
		default:
		}
		resp, err := http.Get(p.api + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(b) == `{"status":"ok","l2":"ok"}` {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 60 s (last error %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasSuffix(p.stdout.String(), "\n"+readyLine+"\n") {
		t.Fatalf("the banner does not end with %q:\n%s", readyLine, p.stdout)
	}
}

// terminate sends SIGTERM and returns the exit code.
func (p *proc) terminate(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("program still running 30 s after SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode()
}

// response is one HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// devKeys are the development pair the program accepts by default.
var devKeys = [2]string{"dev", "dev-secret"}

func get(t *testing.T, url string, keys ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		req.Header.Set("APCA-API-KEY-ID", keys[0])
	}
	if len(keys) > 1 {
		req.Header.Set("APCA-API-SECRET-KEY", keys[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// getOK is get with the development keys, failing unless the status is 200.
func getOK(t *testing.T, url string) response {
	t.Helper()
	r := get(t, url, devKeys[0], devKeys[1])
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, r.status, r.body)
	}
	return r
}

func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("not the expected JSON: %v\n%s", err, b)
	}
}

// TestEndToEnd runs the program twice, with a redis-server child and with
// the embedded server, and uses it as a client would.
func TestEndToEnd(t *testing.T) {
	t.Run("redis-server", func(t *testing.T) {
		if _, err := exec.LookPath("redis-server"); err != nil {
			t.Fatalf("redis-server is not installed (`make deps` installs it): %v", err)
		}
		p := startProgram(t)
		p.waitReady(t)
		m := regexp.MustCompile(`redis-server, child pid (\d+), redis://(127\.0\.0\.1:\d+) \(standalone\)`).FindStringSubmatch(p.stdout.String())
		if m == nil {
			t.Fatalf("the banner does not name a redis-server child:\n%s", p.stdout)
		}
		pid, _ := strconv.Atoi(m[1])
		if comm := processName(t, pid); comm != "redis-server" {
			t.Fatalf("pid %d in the banner is %q, not redis-server", pid, comm)
		}
		if ppid := parentPID(t, pid); ppid != p.cmd.Process.Pid {
			t.Fatalf("redis-server pid %d has parent %d, not the program (%d)", pid, ppid, p.cmd.Process.Pid)
		}
		exercise(t, p)
		assertL2Holds(t, m[2], "opitios:v2:stock_quote:AAPL")
		stopCleanly(t, p)
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("redis-server pid %d is still there after the program exited (kill 0: %v)", pid, err)
		}
		assertClosed(t, m[2])
	})
	t.Run("embedded", func(t *testing.T) {
		p := startProgram(t, envNoRedisServer+"=1")
		p.waitReady(t)
		out := p.stdout.String()
		if !strings.Contains(out, "embedded Redis-protocol server (miniredis)") || !strings.Contains(out, "in-memory, single-process") {
			t.Fatalf("the banner does not state the embedded L2:\n%s", out)
		}
		if kids := children(t, p.cmd.Process.Pid); len(kids) != 0 {
			t.Fatalf("the program has child processes %v; with %s=1 it must start none", kids, envNoRedisServer)
		}
		exercise(t, p)
		stopCleanly(t, p)
	})
}

// exercise walks through what a client does, against a freshly started
// program (empty caches).
func exercise(t *testing.T, p *proc) {
	t.Helper()
	quote := p.api + "/v2/stocks/AAPL/quotes/latest"

	// Authentication comes first, as API Gateway applies it.
	for _, c := range []struct {
		name   string
		keys   []string
		status int
		body   string
	}{
		{"no keys", nil, http.StatusUnauthorized, `{"code":40110000,"message":"Unauthorized"}`},
		{"no secret", []string{"dev"}, http.StatusUnauthorized, `{"code":40110000,"message":"Unauthorized"}`},
		{"wrong secret", []string{"dev", "not-the-secret"}, http.StatusForbidden, `{"code":40310000,"message":"Forbidden"}`},
		{"unknown id", []string{"nobody", "dev-secret"}, http.StatusForbidden, `{"code":40310000,"message":"Forbidden"}`},
	} {
		r := get(t, quote, c.keys...)
		if r.status != c.status || string(r.body) != c.body {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.body)
		}
	}
	if r := get(t, p.api+"/healthz"); r.status != http.StatusOK {
		t.Errorf("/healthz without keys: %d, want 200 (it is public)", r.status)
	}
	if r := get(t, p.api+"/v2/nothing/here", devKeys[0], devKeys[1]); r.status != http.StatusNotFound {
		t.Errorf("unrouted path: %d, want 404", r.status)
	}

	// A single quote: a miss, then the same bytes from L1.
	miss := getOK(t, quote)
	hit := getOK(t, quote)
	for _, c := range []struct {
		r     response
		cache string
	}{{miss, "MISS"}, {hit, "HIT-L1"}} {
		if got := c.r.header.Get("X-Cache"); got != c.cache {
			t.Errorf("X-Cache %q, want %q", got, c.cache)
		}
		if got := c.r.header.Get("X-Data-Source"); got != "alpaca-sim" {
			t.Errorf("X-Data-Source %q, want alpaca-sim", got)
		}
		if c.r.header.Get("X-Market-Session") == "" || !strings.HasPrefix(c.r.header.Get("Cache-Control"), "private, max-age=") {
			t.Errorf("attribution headers missing: %v", c.r.header)
		}
	}
	if !bytes.Equal(miss.body, hit.body) {
		t.Errorf("the L1 hit differs from the miss:\n%s\n%s", miss.body, hit.body)
	}
	var q struct {
		Symbol string                     `json:"symbol"`
		Quote  map[string]json.RawMessage `json:"quote"`
	}
	decodeJSON(t, miss.body, &q)
	if q.Symbol != "AAPL" || q.Quote["ap"] == nil || q.Quote["bp"] == nil || q.Quote["t"] == nil {
		t.Errorf("not an Alpaca latest quote: %s", miss.body)
	}

	// A batch with an invalid and an unknown symbol: the rest is served.
	batch := getOK(t, p.api+"/v2/stocks/quotes/latest?symbols=MSFT,NVDA,BAD%24,ZZZZ")
	var b struct {
		Quotes map[string]json.RawMessage `json:"quotes"`
		Meta   map[string]struct {
			Source string `json:"source"`
			Cache  string `json:"cache"`
		} `json:"meta"`
		Errors map[string]struct {
			Status string `json:"status"`
		} `json:"errors"`
	}
	decodeJSON(t, batch.body, &b)
	if len(b.Quotes) != 2 || b.Quotes["MSFT"] == nil || b.Quotes["NVDA"] == nil {
		t.Errorf("batch quotes: %s", batch.body)
	}
	if b.Errors["BAD$"].Status != "invalid" || b.Errors["ZZZZ"].Status != "not_found" || len(b.Errors) != 2 {
		t.Errorf("batch errors: %s", batch.body)
	}
	if m := b.Meta["MSFT"]; m.Source != "alpaca-sim" || m.Cache != "MISS" {
		t.Errorf("batch meta of MSFT: %+v", m)
	}

	// Bars over the last 30 days: at least 5 trading days, whatever today is.
	start := time.Now().AddDate(0, 0, -30).Format("2006-01-02")
	bars := getOK(t, p.api+"/v2/stocks/AAPL/bars?timeframe=1Day&limit=5&start="+start)
	var br struct {
		Symbol string            `json:"symbol"`
		Bars   []json.RawMessage `json:"bars"`
	}
	decodeJSON(t, bars.body, &br)
	if br.Symbol != "AAPL" || len(br.Bars) != 5 || bars.header.Get("X-Data-Source") != "alpaca-sim" {
		t.Errorf("bars: %v %s", bars.header, bars.body)
	}

	// An option chain.
	chain := getOK(t, p.api+"/v1beta1/options/snapshots/SPY?limit=5")
	var ch struct {
		Snapshots map[string]json.RawMessage `json:"snapshots"`
	}
	decodeJSON(t, chain.body, &ch)
	if len(ch.Snapshots) == 0 || len(ch.Snapshots) > 5 || chain.header.Get("X-Data-Source") != "alpaca-sim" {
		t.Errorf("option chain: %v %s", chain.header, chain.body)
	}
	for sym := range ch.Snapshots {
		if !strings.HasPrefix(sym, "SPY") {
			t.Errorf("option chain of SPY holds %s", sym)
		}
	}

	// The market status: whatever the session is today, it is consistent.
	status := getOK(t, p.api+"/v1/market/status")
	var st struct {
		Session string `json:"session"`
		IsOpen  bool   `json:"is_open"`
	}
	decodeJSON(t, status.body, &st)
	if st.Session == "" || st.IsOpen != (st.Session == "regular") {
		t.Errorf("market status: %s", status.body)
	}

	// The metrics page counts what happened, without keys.
	metrics := get(t, p.api+"/metrics")
	if metrics.status != http.StatusOK {
		t.Fatalf("/metrics: %d", metrics.status)
	}
	page := string(metrics.body)
	for _, want := range []string{
		`opitios_cache_requests_total{data_type="stock_quote",layer="l1",result="hit"} 1`,
		`opitios_cache_requests_total{data_type="stock_quote",layer="origin",result="hit"} 3`,
		`opitios_api_requests_total{route="/v2/stocks/{symbol}/quotes/latest",status="200"} 2`,
		`opitios_api_requests_total{route="/v2/stocks/quotes/latest",status="200"} 1`,
		`opitios_api_requests_total{route="/v2/stocks/{symbol}/bars",status="200"} 1`,
		`opitios_api_requests_total{route="/v1beta1/options/snapshots/{underlying}",status="200"} 1`,
		`opitios_api_requests_total{route="/v1/market/status",status="200"} 1`,
		`opitios_batch_size_count 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(page, "\n"+want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Requests refused by the authorizer never reached the handler.
	if strings.Contains(page, `status="401"`) || strings.Contains(page, `status="403"`) {
		t.Errorf("/metrics counts requests the authorizer refused")
	}
}

// stopCleanly sends SIGTERM and expects exit code 0 after an orderly stop.
func stopCleanly(t *testing.T, p *proc) {
	t.Helper()
	if code := p.terminate(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	if !strings.Contains(p.stderr.String(), "msg=stopped") {
		t.Errorf("no 'stopped' log line after SIGTERM:\n%s", p.stderr)
	}
	assertClosed(t, strings.TrimPrefix(p.api, "http://"))
	assertClosed(t, strings.TrimPrefix(p.sim, "http://"))
}

// assertClosed fails unless nothing listens on addr.
func assertClosed(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the program exited", addr)
	}
}

// assertL2Holds fails unless the Redis at addr holds key.
func assertL2Holds(t *testing.T, addr, key string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	n, err := c.Exists(context.Background(), key).Result()
	if err != nil || n != 1 {
		t.Errorf("L2 at %s: EXISTS %s = %d, %v; want 1", addr, key, n, err)
	}
}

// processName returns /proc/pid/comm.
func processName(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// procStat returns the state and the parent pid of pid from /proc/pid/stat,
// and false when the process does not exist.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid ...: comm may hold blanks and parentheses.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[0][0], ppid, true
}

func parentPID(t *testing.T, pid int) int {
	t.Helper()
	_, ppid, ok := procStat(pid)
	if !ok {
		t.Fatalf("no process %d", pid)
	}
	return ppid
}

// children lists the live processes whose parent is pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, ppid, ok := procStat(n); ok && ppid == pid && state != 'Z' {
			kids = append(kids, n)
		}
	}
	return kids
}

// TestCrashLeavesNoRedisServer kills the program with SIGKILL, which it
// cannot handle: the kernel must end its redis-server child.
func TestCrashLeavesNoRedisServer(t *testing.T) {
	p := startProgram(t)
	p.waitReady(t)
	pid := childPIDFromLog(t, p)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	assertGone(t, pid)
}

// TestFailedStartStopsWhatItStarted starts the program with the
// simulator's address taken: it must exit 1 with a message naming the
// variable to change, after stopping the redis-server it had started.
func TestFailedStartStopsWhatItStarted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The last value of a variable in the environment wins.
	p := startProgram(t, envSimAddr+"="+ln.Addr().String())
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("program still running 60 s after a failed start")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if !strings.Contains(p.stderr.String(), envSimAddr) {
		t.Errorf("the error does not name %s:\n%s", envSimAddr, p.stderr)
	}
	if p.stdout.String() != "" {
		t.Errorf("a banner after a failed start:\n%s", p.stdout)
	}
	pid := childPIDFromLog(t, p)
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("redis-server pid %d is still there after a failed start (kill 0: %v)", pid, err)
	}
}

// TestExternalRedisAndClientKeys runs the program against a Redis of the
// test's own (REDIS_URL) with keys from OPITIOS_CLIENT_KEYS.
func TestExternalRedisAndClientKeys(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (`make deps` installs it): %v", err)
	}
	rs, err := startRedisServer(context.Background(), bin, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer rs.stop()
	p := startProgram(t, "REDIS_URL=redis://"+rs.addr, "OPITIOS_CLIENT_KEYS=alice:alice-s3cret, bob:bob-s3cret")
	p.waitReady(t)
	out := p.stdout.String()
	for _, want := range []string{
		"REDIS_URL redis://" + rs.addr + " (standalone)",
		"from OPITIOS_CLIENT_KEYS: alice, bob",
		"-H 'APCA-API-SECRET-KEY: <secret of alice>'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+p.stderr.String(), "s3cret") || strings.Contains(out, "dev-secret") {
		t.Errorf("a client secret is printed:\n%s\n%s", out, p.stderr)
	}
	if kids := children(t, p.cmd.Process.Pid); len(kids) != 0 {
		t.Errorf("the program has child processes %v with REDIS_URL set", kids)
	}
	quote := p.api + "/v2/stocks/AAPL/quotes/latest"
	if r := get(t, quote, devKeys[0], devKeys[1]); r.status != http.StatusForbidden {
		t.Errorf("the development pair with OPITIOS_CLIENT_KEYS set: %d, want 403", r.status)
	}
	if r := get(t, quote, "alice", "bob-s3cret"); r.status != http.StatusForbidden {
		t.Errorf("alice with bob's secret: %d, want 403", r.status)
	}
	for _, c := range []struct{ id, secret, cache string }{{"alice", "alice-s3cret", "MISS"}, {"bob", "bob-s3cret", "HIT-L1"}} {
		r := get(t, quote, c.id, c.secret)
		if r.status != http.StatusOK || r.header.Get("X-Cache") != c.cache {
			t.Errorf("%s: %d, X-Cache %q; want 200 %s", c.id, r.status, r.header.Get("X-Cache"), c.cache)
		}
	}
	assertL2Holds(t, rs.addr, "opitios:v2:stock_quote:AAPL")
	stopCleanly(t, p)
	// The program stops only what it started.
	c := redis.NewClient(&redis.Options{Addr: rs.addr})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Errorf("the external Redis was stopped with the program: %v", err)
	}
}

// childPIDFromLog returns the redis-server child's pid from the program's
// start-up log.
func childPIDFromLog(t *testing.T, p *proc) int {
	t.Helper()
	m := regexp.MustCompile(`msg="redis-server started" pid=(\d+)`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no redis-server start in the log:\n%s", p.stderr)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// assertGone waits up to 10 s for pid to end. A zombie counts as ended:
// its parent, this program, is gone and init has yet to reap it.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		state, _, ok := procStat(pid)
		if !ok || state == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d (state %c) outlived the program by 10 s (killed now)", pid, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPrefetchTickOnSimulatedSession starts the simulated market inside a
// regular session (OPITIOS_SIM_AT) with a 1 s prefetch tick and a watch list:
// the tick must run the prefetch job, which fills L2, so the first request
// for a watched symbol is an L2 hit while another symbol is a miss.
func TestPrefetchTickOnSimulatedSession(t *testing.T) {
	p := startProgram(t, envNoRedisServer+"=1", envSimAt+"=2026-11-25T14:00:00-05:00",
		envPrefetchEvery+"=1s", "PREFETCH_WATCHLIST=AAPL,MSFT", "PREFETCH_TOP_N=0")
	p.waitReady(t)
	for _, want := range []string{
		"simulated clock started at 2026-11-25T14:00:00-05:00 (OPITIOS_SIM_AT)",
		"every 1s, first in 1s: watch list AAPL,MSFT, plus no requested symbols",
	} {
		if !strings.Contains(p.stdout.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, p.stdout)
		}
	}
	m := regexp.MustCompile(`\(miniredis\), redis://(127\.0\.0\.1:\d+) `).FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("the banner does not name the embedded server's address:\n%s", p.stdout)
	}
	rdb := redis.NewClient(&redis.Options{Addr: m[1]})
	defer rdb.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := rdb.Exists(context.Background(), "opitios:v2:stock_quote:AAPL", "opitios:v2:stock_quote:MSFT").Result()
		if err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no prefetch run wrote the watch list to L2 within 60 s (%d of 2 keys, %v)", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range []struct{ symbol, cache string }{{"AAPL", "HIT-L2"}, {"MSFT", "HIT-L2"}, {"NVDA", "MISS"}} {
		r := getOK(t, p.api+"/v2/stocks/"+c.symbol+"/quotes/latest")
		if r.header.Get("X-Cache") != c.cache || r.header.Get("X-Market-Session") != "regular" || r.header.Get("X-Data-Source") != "alpaca-sim" {
			t.Errorf("%s: X-Cache %q, X-Market-Session %q, X-Data-Source %q; want %s, regular, alpaca-sim", c.symbol,
				r.header.Get("X-Cache"), r.header.Get("X-Market-Session"), r.header.Get("X-Data-Source"), c.cache)
		}
	}
	var st struct {
		Session string `json:"session"`
		IsOpen  bool   `json:"is_open"`
	}
	decodeJSON(t, getOK(t, p.api+"/v1/market/status").body, &st)
	if st.Session != "regular" || !st.IsOpen {
		t.Errorf("market status on the simulated clock: %+v, want the regular session", st)
	}
	stopCleanly(t, p)
}
