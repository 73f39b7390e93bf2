package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Load generators.
const (
	genWrk    = "wrk"    // wrk, a C program of its own: leaves the servers CPU-bound
	genVegeta = "vegeta" // vegeta, in this process
)

// wrkThreads is wrk's threads: one per core, as wrk advises.
func wrkThreads() int { return max(1, runtime.NumCPU()) }

// wrkScript is the Lua script the bench gives wrk: it cycles through the
// paths (round robin, one list per thread) and, when done, prints one line
// with the figures the bench reads (parseWrk). Latencies are in µs.
const wrkScript = `
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format(nil, paths[i])
end
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format("opitios-wrk requests=%%d duration_us=%%d connect=%%d read=%%d write=%%d status=%%d timeout=%%d p50=%%d p95=%%d p99=%%d max=%%d\n",
    s.requests, s.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
`

// wrkRun is what one wrk run measured.
type wrkRun struct {
	Requests int
	Duration time.Duration
	Errors   map[string]int // by class, as errorClass names them
	Latency  percentiles
	CPU      time.Duration // wrk's own user + system time
	Elapsed  time.Duration // wall time of the run
}

// runWrk loads the URLs (same host, round robin) with conns connections
// for dur, sending header, and returns what wrk measured.
func runWrk(ctx context.Context, scratch string, urls []string, conns int, dur time.Duration) (wrkRun, error) {
	if len(urls) == 0 {
		return wrkRun{}, errors.New("wrk: no URLs")
	}
	base, err := url.Parse(urls[0])
	if err != nil {
		return wrkRun{}, err
	}
	quoted := make([]string, len(urls))
	for i, u := range urls {
		p, err := url.Parse(u)
		if err != nil {
			return wrkRun{}, err
		}
		quoted[i] = strconv.Quote(p.RequestURI())
	}
	script := filepath.Join(scratch, "wrk.lua")
	if err := os.WriteFile(script, fmt.Appendf(nil, wrkScript, strings.Join(quoted, ", ")), 0o644); err != nil {
		return wrkRun{}, err
	}
	args := []string{"-t", strconv.Itoa(min(wrkThreads(), conns)), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(max(1, int(dur.Round(time.Second)/time.Second))) + "s", "--timeout", "30s", "-s", script}
	for k, vs := range authHeader {
		for _, v := range vs {
			args = append(args, "-H", k+": "+v)
		}
	}
	args = append(args, base.Scheme+"://"+base.Host+"/")
	cmd := exec.CommandContext(ctx, "wrk", args...)
	cmd.SysProcAttr = childProcAttr()
	start := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return wrkRun{}, fmt.Errorf("wrk: %w", err)
	}
	r, err := parseWrk(strings.NewReader(string(out)))
	if err != nil {
		return wrkRun{}, err
	}
	r.Elapsed = elapsed
	if st := cmd.ProcessState; st != nil {
		r.CPU = st.UserTime() + st.SystemTime()
	}
	return r, nil
}

// parseWrk reads the line wrkScript prints.
func parseWrk(r io.Reader) (wrkRun, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "opitios-wrk ")
		if !ok {
			continue
		}
		v := map[string]int64{}
		for f := range strings.FieldsSeq(rest) {
			k, s, ok := strings.Cut(f, "=")
			n, err := strconv.ParseInt(s, 10, 64)
			if !ok || err != nil {
				return wrkRun{}, fmt.Errorf("wrk: bad field %q", f)
			}
			v[k] = n
		}
		for _, k := range []string{"requests", "duration_us", "connect", "read", "write", "status", "timeout", "p50", "p95", "p99", "max"} {
			if _, ok := v[k]; !ok {
				return wrkRun{}, fmt.Errorf("wrk: no %s in %q", k, rest)
			}
		}
		us := func(k string) float64 { return float64(v[k]) / 1000 }
		w := wrkRun{Requests: int(v["requests"]), Duration: time.Duration(v["duration_us"]) * time.Microsecond,
			Latency: percentiles{P50: us("p50"), P95: us("p95"), P99: us("p99"), Max: us("max")}, Errors: map[string]int{}}
		for k, class := range map[string]string{"connect": "connection_refused", "read": "connection_reset",
			"write": "connection_reset", "timeout": "timeout", "status": "http_non_2xx_3xx"} {
			if v[k] > 0 {
				w.Errors[class] += int(v[k])
			}
		}
		return w, nil
	}
	if err := sc.Err(); err != nil {
		return wrkRun{}, err
	}
	return wrkRun{}, errors.New("wrk: no summary line in its output")
}

// errorCount is the run's failed requests.
func (w wrkRun) errorCount() int {
	n := 0
	for _, c := range w.Errors {
		n += c
	}
	return n
}

// cpuShare is cpu as a share of what the machine's cores could give over
// elapsed, in percent: 100 % is every core busy for the whole run.
func cpuShare(cpu, elapsed time.Duration, cores int) float64 {
	if elapsed <= 0 || cores <= 0 {
		return 0
	}
	return round(100*cpu.Seconds()/(elapsed.Seconds()*float64(cores)), 1)
}

// selfCPU is this process's user + system time so far.
func selfCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// haveWrk reports whether wrk is on PATH.
func haveWrk() bool {
	_, err := exec.LookPath("wrk")
	return err == nil
}
