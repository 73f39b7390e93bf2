package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
)

// readyWait bounds a server's start.
const readyWait = 60 * time.Second

// The settings of the `make run` program under load. The origin budget is
// Alpaca's paid plan's (10,000 calls a minute): the free plan's 200 would
// make the cold Zipf scenario a test of the budget's queue instead. Logs at
// warn: a text line per request on a pipe would measure the pipe. No
// prefetch tick: every origin call is one a request caused.
var oursEnv = []string{"OPITIOS_PREFETCH_INTERVAL=0", "LOG_LEVEL=warn", "ORIGIN_BUDGET_PER_MINUTE=10000"}

// system is one running server under load.
type system struct {
	name   string
	url    string // its base URL
	simURL string // its simulator's base URL; "" for bare
	proc   *child
}

// launcher starts the systems.
type launcher struct {
	logs     string // directory of the children's logs
	localBin string // the built dev/local program
	selfBin  string // this program, for the -serve roles
}

// ours starts the `make run` program over the Redis at redisURL, with its
// simulator on a free port.
func (l *launcher) ours(ctx context.Context, redisURL string, extra ...string) (*system, error) {
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	simAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(apiAddr)
	env := append([]string{"PORT=" + port, "ALPACA_SIM_ADDR=" + simAddr, "REDIS_URL=" + redisURL}, oursEnv...)
	p, err := startChild("ours-"+port, l.logs, append(env, extra...), l.localBin)
	if err != nil {
		return nil, err
	}
	return l.ready(ctx, &system{name: sysOurs, url: "http://" + apiAddr, simURL: "http://" + simAddr, proc: p})
}

// naive starts the original design over the Redis at redisURL, with its own
// simulator.
func (l *launcher) naive(ctx context.Context, redisURL string) (*system, error) {
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	simAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(apiAddr)
	p, err := startChild("naive-"+port, l.logs, nil, l.selfBin,
		"-serve", roleNaive, "-addr", apiAddr, "-sim-addr", simAddr, "-redis", redisURL)
	if err != nil {
		return nil, err
	}
	return l.ready(ctx, &system{name: sysNaive, url: "http://" + apiAddr, simURL: "http://" + simAddr, proc: p})
}

// bare starts the bare net/http server returning body.
func (l *launcher) bare(ctx context.Context, body []byte) (*system, error) {
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(apiAddr)
	file := filepath.Join(l.logs, "bare-body.json")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		return nil, err
	}
	p, err := startChild("bare-"+port, l.logs, nil, l.selfBin, "-serve", roleBare, "-addr", apiAddr, "-body", file)
	if err != nil {
		return nil, err
	}
	return l.ready(ctx, &system{name: sysBare, url: "http://" + apiAddr, proc: p})
}

// ready waits for the system (and its simulator) to answer.
func (l *launcher) ready(ctx context.Context, s *system) (*system, error) {
	probe := s.url + "/healthz"
	if s.name == sysNaive {
		probe = s.url + quotePath("AAPL")
	}
	if err := waitHTTP(ctx, s.proc, probe, readyWait); err != nil {
		s.proc.stop()
		return nil, err
	}
	if s.simURL != "" {
		if err := waitHTTP(ctx, s.proc, s.simURL+"/_sim/stats", readyWait); err != nil {
			s.proc.stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *system) stop() { s.proc.stop() }

// sim sends a control request to the system's simulator (see
// dev/alpacasim: /_sim/latency?d=50ms, /_sim/reset, /_sim/error-rate?rate=…).
func (s *system) sim(ctx context.Context, path string, q url.Values) error {
	u := s.simURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("simulator %s: status %d", path, resp.StatusCode)
	}
	return nil
}

// setLatency sets the simulator's added latency.
func (s *system) setLatency(ctx context.Context, d time.Duration) error {
	return s.sim(ctx, "/_sim/latency", url.Values{"d": {d.String()}})
}

// resetOrigin zeroes the simulator's request counts.
func (s *system) resetOrigin(ctx context.Context) error { return s.sim(ctx, "/_sim/reset", nil) }

// originCalls is the number of market-data requests the simulator received
// since its last reset (its calendar route, which the service reads for
// market status only, is left out).
func (s *system) originCalls(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.simURL+"/_sim/stats", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("simulator stats: %w", err)
	}
	defer resp.Body.Close()
	var st alpacasim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("simulator stats: %w", err)
	}
	return marketDataCalls(st), nil
}

// marketDataCalls counts the requests of st but those to the calendar.
func marketDataCalls(st alpacasim.Stats) int64 {
	var n int64
	for path, c := range st.ByPath {
		if !strings.Contains(path, "calendar") {
			n += c
		}
	}
	return n
}

// fetchBody returns the body of an authenticated GET of url, which must
// answer 200.
func fetchBody(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header = authHeader.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %.200s", url, resp.StatusCode, b)
	}
	return b, nil
}

// metricValue reads one unlabelled sample from a Prometheus text page.
func metricValue(page []byte, name string) (float64, bool) {
	for line := range strings.SplitSeq(string(page), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}
