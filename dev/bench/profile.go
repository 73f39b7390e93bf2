package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// envPprofAddr is the `make run` program's setting that serves Go's
// profiles (dev/local).
const envPprofAddr = "OPITIOS_PPROF_ADDR"

// profileResult is where the `make run` program spends its CPU and
// allocates under the L1-hit load: the tops of its Go profiles over one
// run, taken after the measured run (profiling slows the server).
type profileResult struct {
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"`
	CPUFlat  string  `json:"cpu_top_flat"`  // go tool pprof -top
	CPUCum   string  `json:"cpu_top_cum"`   // go tool pprof -top -cum
	Allocs   string  `json:"alloc_top_cum"` // alloc_space, -top -cum
}

// profileUnderLoad runs spec against s while fetching a CPU profile and a
// delta allocation profile of the same length from its pprof server at
// pprofAddr, and summarises both with go tool pprof against bin.
func (lr *loadRunner) profileUnderLoad(ctx context.Context, s *system, pprofAddr, bin string, spec attackSpec) (*profileResult, error) {
	secs := max(1, int(spec.dur/time.Second))
	dir := filepath.Join(lr.launch.logs, "profiles")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	files := map[string]string{"profile": filepath.Join(dir, "cpu.pprof"), "allocs": filepath.Join(dir, "allocs.pprof")}
	var wg sync.WaitGroup
	errs := make(chan error, len(files))
	for name, file := range files {
		wg.Go(func() {
			errs <- fetchTo(ctx, fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", pprofAddr, name, secs), file)
		})
	}
	// The load starts with the profiles and ends a little after them.
	spec.dur = time.Duration(secs)*time.Second + 500*time.Millisecond
	r, _, _, lerr := lr.load(ctx, "profile", s.name, spec)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if lerr != nil {
		return nil, lerr
	}
	p := &profileResult{Seconds: float64(secs), Requests: r.Requests}
	var err error
	if p.CPUFlat, err = pprofTop(ctx, bin, files["profile"], "-nodecount=25"); err != nil {
		return nil, err
	}
	if p.CPUCum, err = pprofTop(ctx, bin, files["profile"], "-cum", "-nodecount=30"); err != nil {
		return nil, err
	}
	if p.Allocs, err = pprofTop(ctx, bin, files["allocs"], "-sample_index=alloc_space", "-cum", "-nodecount=25"); err != nil {
		return nil, err
	}
	return p, nil
}

// fetchTo saves the body of a GET of url, which must answer 200, to file.
func fetchTo(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pprofTop runs go tool pprof -top on a profile and returns its table,
// without the header lines that name files and times.
func pprofTop(ctx context.Context, bin, profile string, flags ...string) (string, error) {
	args := append([]string{"tool", "pprof", "-top"}, flags...)
	cmd := exec.CommandContext(ctx, goBin(), append(args, bin, profile)...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof %s: %w", profile, err)
	}
	return trimPprofHeader(string(out)), nil
}

// trimPprofHeader drops pprof's File, Build ID, Type and Time lines.
func trimPprofHeader(out string) string {
	var keep []string
	for line := range strings.SplitSeq(strings.TrimRight(out, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "File: "), strings.HasPrefix(line, "Build ID: "), strings.HasPrefix(line, "Time: "):
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n") + "\n"
}

// pathProfile is where one Go benchmark spends its CPU beside its Redis
// round trip: the tops of a CPU profile of it, without the Redis client's
// frames (its system calls and waits are the floor the path is measured
// against).
type pathProfile struct {
	Benchmark string  `json:"benchmark"`
	NsPerOp   float64 `json:"ns_per_op"`
	CPUCum    string  `json:"cpu_top_cum"` // -top -cum, go-redis ignored
	CPUFlat   string  `json:"cpu_top_flat"`
}

// profiledPaths are the benchmarks whose ratio targets are judged on the
// interleaved rows: the paths they measure, profiled alone.
var profiledPaths = []string{"HandlerL2Hit", "CacheBatch20L2"}

// profilePaths runs each of profiledPaths once with a CPU profile, for
// benchtime, and summarises the profile with go tool pprof.
func profilePaths(ctx context.Context, root, dir, benchtime string) ([]pathProfile, error) {
	bin := filepath.Join(dir, "bench.test")
	var out []pathProfile
	for _, name := range profiledPaths {
		prof := filepath.Join(dir, name+".cpu.pprof")
		cmd := exec.CommandContext(ctx, goBin(), "test", "-run", "^$", "-bench", "^Benchmark"+name+"$",
			"-benchtime", benchtime, "-count", "1", "-cpuprofile", prof, "-o", bin, "./dev/bench")
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w: %s", name, err, b)
		}
		res, err := parseBench(bytes.NewReader(b))
		if err != nil || len(res) != 1 {
			return nil, fmt.Errorf("profile %s: no benchmark line in %q", name, b)
		}
		p := pathProfile{Benchmark: name, NsPerOp: res[0].NsPerOp}
		ignore := "-ignore=github.com/redis/go-redis"
		if p.CPUCum, err = pprofTop(ctx, bin, prof, "-cum", "-nodecount=30", ignore); err != nil {
			return nil, err
		}
		if p.CPUFlat, err = pprofTop(ctx, bin, prof, "-nodecount=20", ignore); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
