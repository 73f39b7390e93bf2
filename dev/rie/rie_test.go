// Package rie runs every function's built bootstrap under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie, the contract SAM and the
// Lambda container images use) and invokes it with the sample events of
// events/, checking the answers the real binaries give.
//
// It is run by `make local-rie`, which builds the bootstraps for this
// machine (build/local/<function>/bootstrap) and the pinned emulator, and
// sets:
//
//	RIE_BIN           the aws-lambda-rie binary
//	LAMBDA_BUILD_DIR  the directory of <function>/bootstrap
//
// Without them the tests fail: a harness that skips proves nothing.
//
// Each function runs in its own emulator on two free loopback ports (the
// emulator's default, 0.0.0.0:8080, is never used), with an environment of
// its own and only that: the api and prefetch functions reach a private
// redis-server and an in-process Alpaca simulator, and run on a simulated
// clock (service.EnvSimAt) starting at the simulator's instant, so that what
// they do never depends on the day the tests run; the authorizer reads its
// client keys from a private moto_server. Events are
// sent one at a time (the emulator serves one invocation at a time), and
// each emulator is stopped, with its runtime process, at the end of its
// subtest.
package rie_test

import (
	samplesPkg "github.com/opitios/opitios-alpaca/events"

	"github.com/opitios/opitios-alpaca/dev/emftest"
	"github.com/opitios/opitios-alpaca/dev/logtest"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/dev/secretstest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/prefetch"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// Environment of the harness, set by `make local-rie`.
const (
	EnvRIEBin   = "RIE_BIN"
	EnvBuildDir = "LAMBDA_BUILD_DIR"
)

// sampleNow is the instant of the events/ samples: the simulator serves the
// data they name (their option contracts are listed then). It is 10:00 in
// New York, in the regular session of an early-close day.
var sampleNow = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

// simulatedMarket starts the simulator with its clock fixed at at and
// returns the environment that points a function at it and starts the
// function's clock at the same instant.
func simulatedMarket(t *testing.T, at time.Time) map[string]string {
	t.Helper()
	clock := market.ClockFunc(func() time.Time { return at })
	_, sim := alpacasim.NewTestServer(t, alpacasim.Config{Clock: clock, KeyID: simKeyID, SecretKey: simSecret})
	return map[string]string{
		config.EnvAlpacaDataURL:   sim.URL,
		config.EnvAlpacaKeyID:     simKeyID,
		config.EnvAlpacaSecretKey: simSecret,
		service.EnvSimAt:          at.Format(time.RFC3339Nano),
	}
}

// The simulator's credentials, as the api function's own Alpaca keys.
const (
	simKeyID  = "rie-sim-key"
	simSecret = "rie-sim-secret-4Qz8Lw2Nx"
)

const (
	invokePath   = "/2015-03-31/functions/function/invocations"
	invokeWait   = 60 * time.Second // longest wait for one answer, beyond every function's timeout
	startTimeout = 10 * time.Second
	stopTimeout  = 5 * time.Second
)

// limit is a function's memory size and timeout, as Lambda sets them.
type limit struct{ memoryMB, timeoutSec int }

// limits are the stack's defaults (infra/stack/config.go), but prefetch's
// timeout: 10 s instead of 55 s, so that a run in market hours, which
// makes passes until shortly before its deadline, ends within seconds.
var limits = map[string]limit{
	"api":        {memoryMB: 1024, timeoutSec: 10},
	"authorizer": {memoryMB: 256, timeoutSec: 5},
	"prefetch":   {memoryMB: 512, timeoutSec: 10},
}

// harness is what every function's test needs.
type harness struct {
	rieBin   string
	buildDir string
	root     string // the repository
}

func setup(t *testing.T) harness {
	t.Helper()
	var h harness
	for _, v := range []struct {
		name string
		dst  *string
	}{{EnvRIEBin, &h.rieBin}, {EnvBuildDir, &h.buildDir}} {
		*v.dst = os.Getenv(v.name)
		if *v.dst == "" {
			t.Fatalf("%s is not set: run `make local-rie`, which builds the bootstraps and the emulator, "+
				"or set %s=.bin/aws-lambda-rie %s=build/local after `make build-local`", v.name, EnvRIEBin, EnvBuildDir)
		}
	}
	if fi, err := os.Stat(h.rieBin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s=%s is not an executable (%v): `make deps-tools` installs the pinned aws-lambda-rie", EnvRIEBin, h.rieBin, err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	h.root = root
	return h
}

// functions lists the functions, as the Makefile does: the directories
// under functions/ that hold Go files.
func functions(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "functions", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if fn := filepath.Base(filepath.Dir(f)); !slices.Contains(out, fn) {
			out = append(out, fn)
		}
	}
	slices.Sort(out)
	return out
}

// TestFunctions runs each function under the emulator. A function without
// a case here fails, so a new function cannot go unexercised.
func TestFunctions(t *testing.T) {
	h := setup(t)
	cases := map[string]func(*testing.T, harness){
		"api":        testAPI,
		"authorizer": testAuthorizer,
		"prefetch":   testPrefetch,
	}
	fns := functions(t, h.root)
	if len(fns) == 0 {
		t.Fatal("no functions/<name>/*.go found")
	}
	for _, fn := range fns {
		run, ok := cases[fn]
		if !ok {
			t.Errorf("functions/%s has no case in dev/rie: add one", fn)
			continue
		}
		t.Run(fn, func(t *testing.T) { run(t, h) })
	}
}

// samples returns the events/ samples matching pattern.
func samples(t *testing.T, pattern string) []samplesPkg.Sample {
	t.Helper()
	out, err := samplesPkg.Matching(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// expectedStatus is the status an api sample's name promises.
func expectedStatus(t *testing.T, name string) int {
	t.Helper()
	n, ok := samplesPkg.ExpectedStatus(name)
	if !ok {
		t.Fatalf("events/%s: not named api-<case>-<status>.json", name)
	}
	return n
}

func testAPI(t *testing.T, h harness) {
	env := simulatedMarket(t, sampleNow)
	redisAddr := redistest.StartServer(t).Addr
	env[config.EnvRedisURL] = "redis://" + redisAddr
	env[config.EnvLogFormat] = "json"
	// One sample per route, each a miss: more than the default budget's
	// burst, which its own tests cover.
	env[config.EnvOriginBudgetPerMin] = "10000"
	e := h.start(t, "api", env)

	var secrets []string
	invocations := 0
	var quote events.APIGatewayV2HTTPResponse
	for _, s := range samples(t, "api-*.json") {
		want := expectedStatus(t, s.Name)
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(s.Raw, &ev); err != nil {
			t.Fatalf("events/%s: %v", s.Name, err)
		}
		if sec := ev.Headers["apca-api-secret-key"]; sec != "" && !slices.Contains(secrets, sec) {
			secrets = append(secrets, sec)
		}
		resp := invokeAPI(t, e, s)
		invocations++
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d; body %s", s.Name, resp.StatusCode, want, resp.Body)
			continue
		}
		switch {
		case want >= 400:
			var body struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := samplesPkg.DecodeStrict([]byte(resp.Body), &body); err != nil || body.Code == 0 || body.Message == "" {
				t.Errorf("%s: error body %s is not Alpaca's {\"code\",\"message\"} (%v)", s.Name, resp.Body, err)
			}
		case ev.RawPath != catalog.PathHealth && ev.RawPath != catalog.PathMarketStatus:
			checkAttribution(t, s.Name, resp)
		default:
			if !json.Valid([]byte(resp.Body)) {
				t.Errorf("%s: body is not JSON: %s", s.Name, resp.Body)
			}
		}
		if s.Name == "api-stock-quote-200.json" {
			quote = resp
		}
	}
	if quote.StatusCode == 0 {
		t.Fatal("events/api-stock-quote-200.json was not invoked")
	}

	// The instance stays warm between invocations: the same request is now
	// served by its L1, with the same body.
	again := invokeAPI(t, e, samples(t, "api-stock-quote-200.json")[0])
	invocations++
	if again.Headers[api.HeaderCache] != api.CacheHitL1 || again.Body != quote.Body {
		t.Errorf("second stock quote: X-Cache %q, body %s; want %s and the first body %s",
			again.Headers[api.HeaderCache], again.Body, api.CacheHitL1, quote.Body)
	}

	// And the function wrote the entry to L2, as the origin gave it.
	checkL2(t, redisAddr, quote.Body)

	e.stop(t)
	out := e.out.String()
	checkEMF(t, out, "api", metrics.ApiLatency)
	if n := strings.Count(out, `"msg":"request"`); n != invocations {
		t.Errorf("%d JSON request log lines for %d invocations:\n%s", n, invocations, out)
	}
	checkNoSecrets(t, out, append(secrets, simSecret)...)
}

func invokeAPI(t *testing.T, e *emulator, s samplesPkg.Sample) events.APIGatewayV2HTTPResponse {
	t.Helper()
	raw := e.invoke(t, s.Raw)
	var resp events.APIGatewayV2HTTPResponse
	if err := samplesPkg.DecodeStrict(raw, &resp); err != nil {
		t.Fatalf("%s: answer is not an APIGatewayV2HTTPResponse (%v): %s", s.Name, err, raw)
	}
	if resp.IsBase64Encoded && resp.Headers["Content-Encoding"] == "gzip" {
		body, err := samplesPkg.Body(true, resp.Headers, resp.Body)
		if err != nil {
			t.Fatalf("%s: gzipped body does not decode: %v", s.Name, err)
		}
		resp.Body, resp.IsBase64Encoded = string(body), false
	}
	return resp
}

// checkAttribution checks the headers of a data answer.
func checkAttribution(t *testing.T, name string, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	h := resp.Headers
	switch h[api.HeaderCache] {
	case api.CacheMiss, api.CacheHitL1, api.CacheHitL2, api.CacheMixed:
	default:
		t.Errorf("%s: X-Cache %q", name, h[api.HeaderCache])
	}
	if h[api.HeaderDataSource] != alpaca.SourceSimulator {
		t.Errorf("%s: X-Data-Source %q, want %q", name, h[api.HeaderDataSource], alpaca.SourceSimulator)
	}
	if _, err := strconv.Atoi(h["Age"]); err != nil {
		t.Errorf("%s: Age %q", name, h["Age"])
	}
	if !strings.HasPrefix(h["Cache-Control"], "private, max-age=") || h[api.HeaderMarketSession] == "" {
		t.Errorf("%s: Cache-Control %q, X-Market-Session %q", name, h["Cache-Control"], h[api.HeaderMarketSession])
	}
	if !json.Valid([]byte(resp.Body)) {
		t.Errorf("%s: body is not JSON: %s", name, resp.Body)
	}
}

// checkL2 checks that the api function stored AAPL's quote in Redis with
// the simulator's attribution and the bytes it served.
func checkL2(t *testing.T, addr, quoteBody string) {
	t.Helper()
	var served struct {
		Quote json.RawMessage `json:"quote"`
	}
	if err := json.Unmarshal([]byte(quoteBody), &served); err != nil {
		t.Fatalf("stock quote body: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	key := cache.Key(cache.StockQuote, "AAPL")
	raw, err := c.Get(context.Background(), key).Bytes()
	if err != nil {
		t.Fatalf("L2 %s: %v", key, err)
	}
	var env struct {
		Data       json.RawMessage `json:"data"`
		DataSource string          `json:"data_source"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("L2 %s is not an envelope: %v", key, err)
	}
	if env.DataSource != alpaca.SourceSimulator || !bytes.Equal(env.Data, served.Quote) {
		t.Errorf("L2 %s: source %q data %s; want %q and the served quote %s", key, env.DataSource, env.Data, alpaca.SourceSimulator, served.Quote)
	}
}

// checkEMF checks that the EMF documents in out are valid, of function, and
// that one of them carries metric.
func checkEMF(t *testing.T, out, function, metric string) {
	t.Helper()
	docs, found := 0, false
	for line := range strings.Lines(out) {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		docs++
		if err := emftest.ValidateEMF([]byte(line)); err != nil {
			t.Errorf("EMF line: %v\n%s", err, line)
			continue
		}
		var doc map[string]any
		_ = json.Unmarshal([]byte(line), &doc)
		if doc["Function"] != function {
			t.Errorf("EMF document of Function %v, want %s", doc["Function"], function)
		}
		if _, ok := doc[metric]; ok {
			found = true
		}
	}
	if !found {
		t.Errorf("no %s among the %d EMF documents on stdout; output:\n%s", metric, docs, out)
	}
}

func checkNoSecrets(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("a secret (%d bytes, starting %q) appears in the function's output", len(s), s[:min(3, len(s))])
		}
	}
}

func testAuthorizer(t *testing.T, h harness) {
	endpoint := secretstest.Start(t)
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var allow, deny events.APIGatewayV2CustomAuthorizerV2Request
	for _, v := range []struct {
		name string
		dst  *events.APIGatewayV2CustomAuthorizerV2Request
	}{{"authorizer-allow.json", &allow}, {"authorizer-deny.json", &deny}} {
		if err := json.Unmarshal(samples(t, v.name)[0].Raw, v.dst); err != nil {
			t.Fatalf("events/%s: %v", v.name, err)
		}
		if len(v.dst.IdentitySource) != 2 {
			t.Fatalf("events/%s: identitySource %q, want [key id, secret]", v.name, v.dst.IdentitySource)
		}
	}
	keyID, secret := allow.IdentitySource[0], allow.IdentitySource[1]
	keys, err := json.Marshal(auth.ClientKeysSecret{Keys: []auth.HashedKey{{ID: keyID, SHA256: auth.HashSecret(secret)}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := secretstest.Create(t, secretsmanager.NewFromConfig(cfg), "opitios/rie/client-keys", string(keys))

	e := h.start(t, "authorizer", map[string]string{
		config.EnvClientKeysSecretARN: arn,
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	})

	for _, c := range []struct {
		name    string
		want    bool
		context map[string]any
	}{
		{"authorizer-allow.json", true, map[string]any{"key_id": keyID}},
		{"authorizer-deny.json", false, nil},
	} {
		raw := e.invoke(t, samples(t, c.name)[0].Raw)
		var resp events.APIGatewayV2CustomAuthorizerSimpleResponse
		if err := samplesPkg.DecodeStrict(raw, &resp); err != nil {
			t.Fatalf("%s: answer is not a simple authorizer response (%v): %s", c.name, err, raw)
		}
		if resp.IsAuthorized != c.want || fmt.Sprint(resp.Context) != fmt.Sprint(c.context) {
			t.Errorf("%s: isAuthorized %v context %v, want %v %v", c.name, resp.IsAuthorized, resp.Context, c.want, c.context)
		}
	}

	e.stop(t)
	out := e.out.String()
	for _, outcome := range []string{`"outcome":"allow"`, `"outcome":"deny"`} {
		if !strings.Contains(out, outcome) {
			t.Errorf("no %s log line in the output:\n%s", outcome, out)
		}
	}
	checkNoSecrets(t, out, secret, deny.IdentitySource[1])
}

// testPrefetch runs the scheduled event at two instants of the simulated
// market, the function's clock and the simulator's set to each: at
// sampleNow, in the regular session, the run refreshes its watch list in L2
// from the simulator; the next day, a Saturday, the market is closed and
// the run skips at once.
func testPrefetch(t *testing.T, h harness) {
	for _, c := range []struct {
		name    string
		at      time.Time
		session market.Session
	}{
		{"regular session", sampleNow, market.Regular},
		{"market closed", sampleNow.AddDate(0, 0, 1), market.Closed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := market.Default().SessionAt(c.at); got != c.session {
				t.Fatalf("the calendar puts %s in session %q, not %q", c.at, got, c.session)
			}
			runPrefetch(t, h, c.at, c.session)
		})
	}
}

// runPrefetch invokes the prefetch function with the scheduled samples at
// instant at, in session want, and checks what each run did.
func runPrefetch(t *testing.T, h harness, at time.Time, want market.Session) {
	env := simulatedMarket(t, at)
	redisAddr := redistest.StartServer(t).Addr
	env[config.EnvRedisURL] = "redis://" + redisAddr
	env[config.EnvLogFormat] = "json"
	env[config.EnvPrefetchWatchlist] = "AAPL,MSFT"
	env[config.EnvPrefetchBudgetShare] = "0.5"
	e := h.start(t, "prefetch", env)
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	metric := metrics.PrefetchedSymbols
	if want == market.Closed {
		metric = metrics.PrefetchSkipped
	}
	runs := 0
	for _, s := range samples(t, "prefetch-*.json") {
		raw := e.invoke(t, s.Raw)
		runs++
		var rep prefetch.Report
		if err := samplesPkg.DecodeStrict(raw, &rep); err != nil {
			t.Fatalf("%s: answer is not a prefetch.Report (%v): %s", s.Name, err, raw)
		}
		if rep.Session != want {
			t.Errorf("%s: run in session %q, want %q (the function's clock starts at %s)", s.Name, rep.Session, want, at)
		}
		quote, err := rdb.Get(context.Background(), cache.Key(cache.StockQuote, "AAPL")).Bytes()
		if want == market.Closed {
			if rep.SkippedReason != metrics.ReasonMarketClosed.String() || rep.Passes != 0 || rep.OriginCalls != 0 || err == nil {
				t.Errorf("%s: market closed, yet the run did something: %s (L2 AAPL: %v)", s.Name, raw, err)
			}
			continue
		}
		if rep.SkippedReason != "" || rep.Passes < 1 || rep.OriginCalls < 1 || rep.Refreshed+rep.Skipped < 2 {
			t.Errorf("%s: a run in session %s refreshed nothing of the watch list: %s", s.Name, rep.Session, raw)
		}
		var env struct {
			DataSource string `json:"data_source"`
		}
		if err != nil || json.Unmarshal(quote, &env) != nil || env.DataSource != alpaca.SourceSimulator {
			t.Errorf("%s: L2 holds no AAPL quote from the simulator after the run (%v): %s", s.Name, err, quote)
		}
	}
	if runs == 0 {
		t.Fatal("no events/prefetch-*.json sample")
	}
	e.stop(t)
	out := e.out.String()
	checkEMF(t, out, "prefetch", metric)
	checkNoSecrets(t, out, simSecret)
}

// emulator is one aws-lambda-rie process running one bootstrap.
type emulator struct {
	cmd       *exec.Cmd
	bootstrap string
	invokeURL string
	addrs     []string // the emulator's and the runtime API's listen addresses
	out       *logtest.Buffer
	exited    chan struct{}
	invoked   bool // the runtime process starts on the first invocation
	stopOnce  sync.Once
}

// start runs the function's bootstrap under the emulator on two free
// loopback ports, and waits until it accepts invocations. The emulator and
// the function get PATH, what Lambda itself sets (the function's name,
// timeout and memory size) and env, nothing of the test's own environment.
// The emulator is stopped at the end of t.
func (h harness) start(t *testing.T, fn string, env map[string]string) *emulator {
	t.Helper()
	lim, ok := limits[fn]
	if !ok {
		t.Fatalf("no memory size and timeout for function %s in limits", fn)
	}
	bootstrap := filepath.Join(h.buildDir, fn, "bootstrap")
	if fi, err := os.Stat(bootstrap); err != nil || fi.IsDir() {
		t.Fatalf("%s is missing (%v): run `make build-local`", bootstrap, err)
	}
	e := &emulator{bootstrap: bootstrap, out: &logtest.Buffer{}, exited: make(chan struct{})}
	emuAddr, apiAddr := freeAddr(t), freeAddr(t)
	e.addrs = []string{emuAddr, apiAddr}
	e.invokeURL = "http://" + emuAddr + invokePath

	e.cmd = exec.Command(h.rieBin,
		"--runtime-interface-emulator-address", emuAddr,
		"--runtime-api-address", apiAddr,
		bootstrap)
	e.cmd.Dir = t.TempDir()
	e.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		config.EnvLambdaFunctionName + "=" + fn,
		config.EnvLambdaMemoryMB + "=" + strconv.Itoa(lim.memoryMB),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(lim.timeoutSec),
	}
	for k, v := range env {
		e.cmd.Env = append(e.cmd.Env, k+"="+v)
	}
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", h.rieBin, err)
	}
	go func() {
		_ = e.cmd.Wait()
		close(e.exited)
	}()
	t.Cleanup(func() { e.stop(t) })

	deadline := time.Now().Add(startTimeout)
	for {
		conn, err := net.DialTimeout("tcp", emuAddr, 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			return e
		}
		select {
		case <-e.exited:
			t.Fatalf("the emulator for %s exited before listening on %s; output:\n%s", fn, emuAddr, e.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator for %s did not listen on %s within %s; output:\n%s", fn, emuAddr, startTimeout, e.out.String())
		}
	}
}

// invoke sends one event and returns the function's answer. Callers invoke
// one event at a time.
func (e *emulator) invoke(t *testing.T, event []byte) []byte {
	t.Helper()
	e.invoked = true
	client := &http.Client{Timeout: invokeWait}
	resp, err := client.Post(e.invokeURL, "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatalf("invoke: %v; emulator output:\n%s", err, e.out.String())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("invoke: read answer: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: emulator answered %s: %s; output:\n%s", resp.Status, body, e.out.String())
	}
	return body
}

// stop ends the emulator and the runtime it started, and checks that
// neither is left running nor anything listening on the emulator's
// addresses. SIGTERM lets the emulator kill its runtime, which runs in a
// process group of its own; whatever survives is killed by process id.
func (e *emulator) stop(t *testing.T) {
	e.stopOnce.Do(func() {
		pid := e.cmd.Process.Pid
		children := descendants(pid)
		if e.invoked && !slices.ContainsFunc(children, func(c int) bool { return cmdline(c) == e.bootstrap }) {
			t.Errorf("no runtime process (%s) under the emulator after an invocation", e.bootstrap)
		}
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(stopTimeout):
			t.Errorf("the emulator did not exit within %s of SIGTERM: killing it", stopTimeout)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-e.exited
		}
		for _, c := range children {
			if !waitGone(c, stopTimeout) {
				if cmdline(c) == e.bootstrap {
					_ = syscall.Kill(c, syscall.SIGKILL)
				}
				if !waitGone(c, stopTimeout) {
					t.Errorf("process %d (%s) outlived its emulator", c, cmdline(c))
				}
			}
		}
		for _, a := range e.addrs {
			if conn, err := net.DialTimeout("tcp", a, 200*time.Millisecond); err == nil {
				_ = conn.Close()
				t.Errorf("something still listens on %s after the emulator stopped", a)
			}
		}
	})
}

// descendants returns the process ids descending from pid, read from /proc.
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, ok := procStat(p); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// procStat returns a process's state and parent from /proc/<pid>/stat.
func procStat(pid int) (state byte, ppid int, ok bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0][0], ppid, err == nil
}

// waitGone waits until pid has exited (a zombie counts as exited).
func waitGone(pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; {
		state, _, ok := procStat(pid)
		if !ok || state == 'Z' || state == 'X' {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func cmdline(pid int) string {
	raw, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	first, _, _ := bytes.Cut(raw, []byte{0})
	return string(first)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}
