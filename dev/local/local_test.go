//go:build unix

package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/service"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseSettings(t *testing.T) {
	s, err := parseSettings(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.addr != "127.0.0.1:3000" || s.simAddr != "127.0.0.1:9100" || s.redisURL != "" || s.noRedisServer ||
		s.realAlpaca || !s.devKeys || len(s.keys) != 1 || s.keys[0].ID != auth.DevKeyID ||
		s.logLevel != slog.LevelInfo || s.logFormat != "text" || s.prefetchEvery != time.Minute {
		t.Fatalf("defaults: %+v", s)
	}

	s, err = parseSettings(envOf(map[string]string{
		"PORT": "0", "ALPACA_SIM_ADDR": "127.0.0.1:9200", "REDIS_URL": "redis://h:1",
		"OPITIOS_NO_REDIS_SERVER": "1", "ALPACA_API_KEY_ID": "k", "ALPACA_API_SECRET_KEY": "s",
		"OPITIOS_CLIENT_KEYS": "a:x, b:y", "LOG_LEVEL": "debug", "LOG_FORMAT": "json",
		"OPITIOS_PREFETCH_INTERVAL": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.addr != "127.0.0.1:0" || s.simAddr != "127.0.0.1:9200" || s.redisURL != "redis://h:1" || !s.noRedisServer ||
		!s.realAlpaca || s.devKeys || strings.Join(s.keyIDs(), ",") != "a,b" || s.keys[1].SHA256 != auth.HashSecret("y") ||
		s.logLevel != slog.LevelDebug || s.logFormat != "json" || s.prefetchEvery != 0 {
		t.Fatalf("all set: %+v", s)
	}

	s, err = parseSettings(envOf(map[string]string{"OPITIOS_SIM_AT": "2026-11-25T14:00:00-05:00", "OPITIOS_PREFETCH_INTERVAL": "90s"}))
	if err != nil {
		t.Fatal(err)
	}
	if !s.simAt.Equal(time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)) || s.prefetchEvery != 90*time.Second {
		t.Fatalf("simulated clock and interval: %+v", s)
	}

	// One Alpaca credential alone does not select Alpaca (the service's
	// configuration then refuses it).
	if s, _ := parseSettings(envOf(map[string]string{"ALPACA_API_KEY_ID": "k"})); s.realAlpaca {
		t.Error("one credential selected Alpaca")
	}

	for _, c := range []struct {
		env  map[string]string
		want string // in the error
	}{
		{map[string]string{"PORT": "http"}, "PORT"},
		{map[string]string{"PORT": "70000"}, "PORT"},
		{map[string]string{"ALPACA_SIM_ADDR": "9100"}, "ALPACA_SIM_ADDR"},
		{map[string]string{"OPITIOS_NO_REDIS_SERVER": "yes please"}, "OPITIOS_NO_REDIS_SERVER"},
		{map[string]string{"OPITIOS_CLIENT_KEYS": "nosecret-in-here"}, "OPITIOS_CLIENT_KEYS"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{map[string]string{"OPITIOS_PREFETCH_INTERVAL": "100ms"}, "OPITIOS_PREFETCH_INTERVAL"},
		{map[string]string{"OPITIOS_PREFETCH_INTERVAL": "60"}, "OPITIOS_PREFETCH_INTERVAL"},
		{map[string]string{"OPITIOS_SIM_AT": "2026-11-25 14:00"}, "OPITIOS_SIM_AT"},
		{map[string]string{"OPITIOS_SIM_AT": "2026-11-25T14:00:00Z", "ALPACA_API_KEY_ID": "k", "ALPACA_API_SECRET_KEY": "s"}, "OPITIOS_SIM_AT"},
	} {
		_, err := parseSettings(envOf(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.env, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "nosecret-in-here") {
			t.Errorf("the error echoes the client keys: %v", err)
		}
	}
}

func TestBanner(t *testing.T) {
	dev, _ := parseSettings(envOf(nil))
	own, _ := parseSettings(envOf(map[string]string{"OPITIOS_CLIENT_KEYS": "alice:wonderland"}))
	simAt, _ := parseSettings(envOf(map[string]string{"OPITIOS_SIM_AT": "2026-11-25T14:00:00-05:00"}))
	sim := &simulator{url: "http://127.0.0.1:9100"}
	for _, c := range []struct {
		name string
		info bannerInfo
		want []string
		not  []string
	}{
		{"child and simulator", bannerInfo{
			apiURL: "http://127.0.0.1:3000", l2: &l2{kind: l2Child, pid: 42}, l2Desc: "redis://127.0.0.1:5555 (standalone)",
			l2OK: true, sim: sim, set: dev, prefetch: "every 1m0s",
		}, []string{
			"  API         http://127.0.0.1:3000   (Prometheus: http://127.0.0.1:3000/metrics)\n",
			"redis-server, child pid 42, redis://127.0.0.1:5555 (standalone); no persistence, stopped on exit\n",
			"Alpaca simulator, http://127.0.0.1:9100: simulated data, attributed alpaca-sim",
			"APCA-API-KEY-ID: dev   APCA-API-SECRET-KEY: dev-secret\n",
			"  prefetch    every 1m0s\n",
			"curl -i -H 'APCA-API-KEY-ID: dev' -H 'APCA-API-SECRET-KEY: dev-secret' http://127.0.0.1:3000/v2/stocks/AAPL/quotes/latest\n",
		}, []string{"not reachable"}},
		{"embedded", bannerInfo{
			apiURL: "http://127.0.0.1:3000", l2: &l2{kind: l2Embedded}, l2Desc: "redis://127.0.0.1:5556 (standalone)",
			l2OK: true, sim: sim, set: simAt, prefetch: "off (OPITIOS_PREFETCH_INTERVAL=0)",
		}, []string{
			"embedded Redis-protocol server (miniredis), redis://127.0.0.1:5556 (standalone): in-memory, single-process",
			"simulated clock started at 2026-11-25T14:00:00-05:00 (OPITIOS_SIM_AT)\n",
			"  prefetch    off (OPITIOS_PREFETCH_INTERVAL=0)\n",
		}, []string{"child pid"}},
		{"external, Alpaca, own keys", bannerInfo{
			apiURL: "http://127.0.0.1:3000", l2: &l2{kind: l2External}, l2Desc: "redis://***@cache:6379 (cluster)",
			l2OK: false, originURL: "https://data.alpaca.markets", feed: "sip", set: own,
		}, []string{
			"REDIS_URL redis://***@cache:6379 (cluster)\n",
			"L2 is not reachable now",
			"origin      Alpaca, https://data.alpaca.markets, stock feed sip\n",
			"client keys from OPITIOS_CLIENT_KEYS: alice\n",
			"-H 'APCA-API-KEY-ID: alice' -H 'APCA-API-SECRET-KEY: <secret of alice>'",
		}, []string{"wonderland", "dev-secret", "alpaca-sim", "simulated clock"}},
	} {
		var b bytes.Buffer
		writeBanner(&b, c.info)
		out := b.String()
		if !strings.HasSuffix(out, "\nready\n") {
			t.Errorf("%s: does not end with the ready line:\n%s", c.name, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: lacks %q:\n%s", c.name, w, out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: holds %q:\n%s", c.name, n, out)
			}
		}
	}
}

func TestRoutes(t *testing.T) {
	h := routes(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "gateway") }),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "prometheus") }))
	for _, c := range []struct{ method, target, want string }{
		{"GET", "/metrics", "prometheus"},
		{"HEAD", "/metrics", "prometheus"},
		{"POST", "/metrics", "gateway"},
		{"GET", "/metrics/", "gateway"},
		{"GET", "/v2/stocks/AAPL/quotes/latest", "gateway"},
		{"GET", "/v2//stocks/../x", "gateway"}, // passed on as is, never cleaned or redirected
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.target, nil))
		if c.method != "HEAD" && rec.Body.String() != c.want {
			t.Errorf("%s %s reached %q, want %q", c.method, c.target, rec.Body.String(), c.want)
		}
		if rec.Code != http.StatusOK {
			t.Errorf("%s %s: %d", c.method, c.target, rec.Code)
		}
	}
}

func TestOverlay(t *testing.T) {
	get := overlay(map[string]string{"A": "over", "B": ""}, envOf(map[string]string{"A": "env", "B": "env", "C": "env"}))
	if get("A") != "over" || get("B") != "" || get("C") != "env" || get("D") != "" {
		t.Fatalf("overlay: A=%q B=%q C=%q D=%q", get("A"), get("B"), get("C"), get("D"))
	}
}

func TestLastLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"one":                      "one",
		"one\ntwo\n":               "two",
		"one\r\ntwo\r\n\n":         "two",
		"# oO0OoO0OoO0Oo\n# Fatal": "# Fatal",
	} {
		if got := lastLine([]byte(in)); got != want {
			t.Errorf("lastLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStartL2External(t *testing.T) {
	l, err := startL2(context.Background(), settings{redisURL: "redis://elsewhere:6379"}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	// The service reads REDIS_URL (and REDIS_CLUSTER) itself.
	if l.kind != l2External || l.url != "" || l.pid != 0 || l.stop() != nil {
		t.Fatalf("external L2: %+v", l)
	}
}

func TestStartL2Embedded(t *testing.T) {
	l, err := startL2(context.Background(), settings{noRedisServer: true}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if l.kind != l2Embedded || l.pid != 0 || !strings.HasPrefix(l.url, "redis://127.0.0.1:") {
		t.Fatalf("embedded L2: %+v", l)
	}
	opt, err := redis.ParseURL(l.url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := l.stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("the embedded server still answers after stop")
	}
}

func TestRedisServerChild(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (`make deps` installs it): %v", err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	rs, err := startRedisServer(context.Background(), bin, log)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: rs.addr})
	defer c.Close()
	ctx := context.Background()
	cfg, err := c.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if cfg["save"] != "" || cfg["appendonly"] != "no" || cfg["bind"] != "127.0.0.1" || cfg["dir"] != rs.dir {
		t.Errorf("redis-server config: save=%q appendonly=%q bind=%q dir=%q (want \"\", no, 127.0.0.1, %s)",
			cfg["save"], cfg["appendonly"], cfg["bind"], cfg["dir"], rs.dir)
	}

	// An exit nobody asked for is reported.
	if err := rs.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-rs.exited
	if !strings.Contains(logs.String(), "redis-server exited on its own") {
		t.Errorf("an unexpected exit was not logged: %s", logs.String())
	}
	if err := rs.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rs.dir); !os.IsNotExist(err) {
		t.Errorf("the server's directory %s is left behind (%v)", rs.dir, err)
	}
	if err := rs.stop(); err != nil {
		t.Errorf("a second stop: %v", err)
	}
}

func TestRedisServerStop(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (`make deps` installs it): %v", err)
	}
	var logs bytes.Buffer
	rs, err := startRedisServer(context.Background(), bin, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rs.exited:
	default:
		t.Fatal("stop returned before the process exited")
	}
	if !rs.cmd.ProcessState.Success() {
		t.Errorf("redis-server did not exit cleanly on SIGTERM: %v", rs.cmd.ProcessState)
	}
	if strings.Contains(logs.String(), "exited on its own") {
		t.Errorf("a requested stop was logged as unexpected: %s", logs.String())
	}
}

func TestRedisServerBadBinary(t *testing.T) {
	// /bin/false "starts" and exits at once, as a redis-server refusing its
	// arguments would.
	_, err := startRedisServer(context.Background(), "/bin/false", discardLogger())
	if err == nil || !strings.Contains(err.Error(), "exited at start") {
		t.Fatalf("error %v, want one saying the server exited at start", err)
	}
}

func TestPrefetchDescribe(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "every 1m0s, first in 1m0s: watch list none, plus the most requested symbols"},
		{map[string]string{"PREFETCH_WATCHLIST": "AAPL, SPY", "PREFETCH_TOP_N": "0"}, "every 1m0s, first in 1m0s: watch list AAPL,SPY, plus no requested symbols"},
	} {
		pt, err := startPrefetch(service.Config{}, time.Minute, envOf(c.env))
		if err != nil {
			t.Fatal(err)
		}
		if got := pt.describe(); got != c.want {
			t.Errorf("%v: %q, want %q", c.env, got, c.want)
		}
		if err := pt.stop(); err != nil {
			t.Fatal(err)
		}
	}
	off, err := startPrefetch(service.Config{}, 0, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := off.describe(); got != "off (OPITIOS_PREFETCH_INTERVAL=0)" {
		t.Errorf("off: %q", got)
	}
	if err := off.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := startPrefetch(service.Config{}, time.Minute, envOf(map[string]string{"PREFETCH_BUDGET_SHARE": "2"})); err == nil ||
		!strings.Contains(err.Error(), "PREFETCH_BUDGET_SHARE") {
		t.Errorf("a bad PREFETCH_BUDGET_SHARE: %v", err)
	}
}
