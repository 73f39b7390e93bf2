package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The cold-start section: the api function's bootstrap beside the least
// aws-lambda-go function (dev/bench/hello), both built as `make build`
// builds the functions, their size for arm64 (what Lambda runs) and their
// start under the AWS Lambda Runtime Interface Emulator on this machine.

// coldPlan sizes the cold-start section.
type coldPlan struct {
	starts int // fresh emulator starts per function
	warm   int // invocations after the first, per start
}

var (
	fullCold  = coldPlan{starts: 7, warm: 20}
	smokeCold = coldPlan{starts: 1, warm: 2}
)

// buildFlags are the Makefile's (build and build-local).
var buildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// coldFunc is one function of the section.
type coldFunc struct{ name, pkg string }

var coldFuncs = []coldFunc{{"api", "./functions/api"}, {"hello", "./dev/bench/hello"}}

// coldStartResult is the section's figures.
type coldStartResult struct {
	Starts    int            `json:"starts"`
	Warm      int            `json:"warm_invocations_per_start"`
	Functions []coldStartRow `json:"functions"`
}

// coldStartRow is one function: medians over the starts.
type coldStartRow struct {
	Name       string  `json:"name"`
	Package    string  `json:"package"`
	BytesArm64 int64   `json:"bootstrap_bytes_arm64"`
	BytesLocal int64   `json:"bootstrap_bytes_local"`
	InitMs     float64 `json:"init_ms"`             // the emulator's INIT REPORT
	FirstMs    float64 `json:"first_invocation_ms"` // at the client, init included
	WarmMs     float64 `json:"warm_invocation_ms"`  // at the client
}

func (c *coldStartResult) row(name string) (coldStartRow, bool) {
	if c == nil {
		return coldStartRow{}, false
	}
	for _, r := range c.Functions {
		if r.Name == name {
			return r, true
		}
	}
	return coldStartRow{}, false
}

// runColdStart builds both functions for arm64 and for this machine and
// starts each plan.starts times under the emulator rie, with the Redis at
// redisAddr for the api.
func runColdStart(ctx context.Context, root, scratch, rie, redisAddr string, plan coldPlan) (*coldStartResult, error) {
	if !fileExists(rie) {
		return nil, fmt.Errorf("%s is missing: run `make deps-tools`", rie)
	}
	event, err := os.ReadFile(filepath.Join(root, "events", "api-healthz-200.json"))
	if err != nil {
		return nil, err
	}
	res := &coldStartResult{Starts: plan.starts, Warm: plan.warm}
	for _, f := range coldFuncs {
		row := coldStartRow{Name: f.name, Package: f.pkg}
		bins := map[string]string{}
		for _, arch := range []string{"arm64", runtime.GOARCH} {
			out := filepath.Join(scratch, "coldstart", arch, f.name, "bootstrap")
			if err := buildBootstrap(ctx, root, f.pkg, arch, out); err != nil {
				return nil, err
			}
			bins[arch] = out
		}
		if row.BytesArm64, err = fileSize(bins["arm64"]); err != nil {
			return nil, err
		}
		if row.BytesLocal, err = fileSize(bins[runtime.GOARCH]); err != nil {
			return nil, err
		}
		var inits, firsts, warms []float64
		for range plan.starts {
			s, err := startOnce(ctx, rie, bins[runtime.GOARCH], f.name, redisAddr, event, plan.warm)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			inits, firsts = append(inits, s.initMs), append(firsts, s.firstMs)
			warms = append(warms, s.warmMs...)
		}
		row.InitMs, row.FirstMs, row.WarmMs = medianOr0(inits), medianOr0(firsts), medianOr0(warms)
		res.Functions = append(res.Functions, row)
	}
	return res, nil
}

// buildBootstrap builds pkg for linux/arch as the Makefile builds a
// function.
func buildBootstrap(ctx context.Context, root, pkg, arch, out string) error {
	return goBuild(ctx, root, out, pkg, buildFlags, "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
}

// goBuild runs go build -o out pkg in root with flags, env added to ours.
func goBuild(ctx context.Context, root, out, pkg string, flags []string, env ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.CommandContext(ctx, goBin(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s %s: %w: %s", pkg, strings.Join(env, " "), err, b)
	}
	return nil
}

func fileSize(p string) (int64, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// oneStart is one emulator start's figures.
type oneStart struct {
	initMs, firstMs float64
	warmMs          []float64
}

// initReport is the emulator's line at the end of a function's init.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// parseInitMs reads the init duration from the emulator's output.
func parseInitMs(out []byte) (float64, error) {
	m := initReport.FindSubmatch(out)
	if m == nil {
		return 0, errors.New("no INIT REPORT in the emulator's output")
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// startOnce starts the emulator with bootstrap, invokes it once (the cold
// start) and warm more times, and stops it.
func startOnce(ctx context.Context, rie, bootstrap, name, redisAddr string, event []byte, warm int) (oneStart, error) {
	emu, err := freeAddr()
	if err != nil {
		return oneStart{}, err
	}
	api, err := freeAddr()
	if err != nil {
		return oneStart{}, err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, rie, "--runtime-interface-emulator-address", emu, "--runtime-api-address", api, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=" + name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=10", "LOG_FORMAT=json", "REDIS_URL=redis://" + redisAddr,
		"ALPACA_API_KEY_ID=bench", "ALPACA_API_SECRET_KEY=bench", "ALPACA_DATA_URL=http://127.0.0.1:9"}
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return oneStart{}, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	if err := waitListening(emu, 10*time.Second); err != nil {
		stop()
		return oneStart{}, err
	}
	url := "http://" + emu + "/2015-03-31/functions/function/invocations"
	var s oneStart
	for i := range warm + 1 {
		ms, err := invokeOnce(ctx, url, event)
		if err != nil {
			stop()
			return oneStart{}, fmt.Errorf("%w; emulator output: %.500s", err, out.String())
		}
		if i == 0 {
			s.firstMs = ms
		} else {
			s.warmMs = append(s.warmMs, ms)
		}
	}
	stop()
	s.initMs, err = parseInitMs(out.Bytes())
	return s, err
}

// waitListening waits until addr accepts connections.
func waitListening(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the emulator did not listen on %s within %s", addr, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// invokeOnce posts event and returns the round trip in ms; the answer must
// be 200 with a statusCode 200 inside.
func invokeOnce(ctx context.Context, url string, event []byte) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	el := time.Since(t0)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"statusCode":200`)) {
		return 0, fmt.Errorf("invoke: %s: %.300s", resp.Status, body)
	}
	return float64(el) / float64(time.Millisecond), nil
}

// medianOr0 is the median of xs (reordered), to the µs; 0 for none.
func medianOr0(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return round(median(xs), 3)
}
