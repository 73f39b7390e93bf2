package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// microResult is one benchmark's figures over its runs: the median of each
// metric, and ns/op of every run.
type microResult struct {
	Name        string             `json:"name"` // without "Benchmark" and the -GOMAXPROCS suffix
	Runs        int                `json:"runs"`
	NsPerOp     float64            `json:"ns_per_op"`
	BytesPerOp  float64            `json:"bytes_per_op"`
	AllocsPerOp float64            `json:"allocs_per_op"`
	Metrics     map[string]float64 `json:"metrics,omitempty"` // b.ReportMetric units, e.g. origin-calls/op
	Samples     []float64          `json:"ns_per_op_runs"`
}

// stormSize is the number of concurrent callers of one new symbol in
// BenchmarkHandlerStorm200 (as many as the load test's stampede).
const stormSize = 200

// microPlan is how the Go benchmarks are run.
type microPlan struct {
	count       int
	benchtime   string // "" for go test's default
	profileTime string // -benchtime of each profiled path (profilePaths)
}

// runMicro runs the benchmarks of this package with go test, saves their
// output to raw and benchstat's summary to raw+".benchstat" (when benchstat
// is given), and returns the parsed results and the summary.
func runMicro(ctx context.Context, root, benchstat string, plan microPlan, raw string, progress io.Writer) ([]microResult, string, error) {
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", strconv.Itoa(plan.count)}
	if plan.benchtime != "" {
		args = append(args, "-benchtime", plan.benchtime)
	}
	args = append(args, "./dev/bench")
	cmd := exec.CommandContext(ctx, goBin(), args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, progress)
	cmd.Stderr = progress
	runErr := cmd.Run()
	if err := os.WriteFile(raw, out.Bytes(), 0o644); err != nil {
		return nil, "", err
	}
	if runErr != nil {
		return nil, "", fmt.Errorf("go %s: %w", strings.Join(args, " "), runErr)
	}
	res, err := parseBench(&out)
	if err != nil {
		return nil, "", err
	}
	summary := ""
	if benchstat != "" {
		b, err := exec.CommandContext(ctx, benchstat, raw).CombinedOutput()
		if err != nil {
			return nil, "", fmt.Errorf("benchstat: %w: %s", err, b)
		}
		summary = string(b)
		if err := os.WriteFile(raw+".benchstat", b, 0o644); err != nil {
			return nil, "", err
		}
	}
	return res, summary, nil
}

// goBin is the go command that runs this program's builds: $GOROOT/bin/go
// when GOROOT is set, else go from PATH.
func goBin() string {
	if r := os.Getenv("GOROOT"); r != "" {
		if p := filepath.Join(r, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// parseBench reads go test -bench output: each line
//
//	BenchmarkName-2   N   V1 unit1   V2 unit2 ...
//
// is one run; results are in order of first appearance.
func parseBench(r io.Reader) ([]microResult, error) {
	runs := map[string][]map[string]float64{}
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		vals := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %w", sc.Text(), err)
			}
			vals[f[i+1]] = v
		}
		if _, ok := vals["ns/op"]; !ok {
			return nil, fmt.Errorf("benchmark line %q: no ns/op", sc.Text())
		}
		if _, seen := runs[name]; !seen {
			order = append(order, name)
		}
		runs[name] = append(runs[name], vals)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("no benchmark results")
	}
	out := make([]microResult, 0, len(order))
	for _, name := range order {
		rs := runs[name]
		m := microResult{Name: name, Runs: len(rs)}
		for _, r := range rs {
			m.Samples = append(m.Samples, r["ns/op"])
		}
		med := func(unit string) (float64, bool) {
			var vs []float64
			for _, r := range rs {
				if v, ok := r[unit]; ok {
					vs = append(vs, v)
				}
			}
			if len(vs) == 0 {
				return 0, false
			}
			return median(vs), true
		}
		m.NsPerOp, _ = med("ns/op")
		m.BytesPerOp, _ = med("B/op")
		m.AllocsPerOp, _ = med("allocs/op")
		for unit := range rs[0] {
			switch unit {
			case "ns/op", "B/op", "allocs/op":
				continue
			}
			if v, ok := med(unit); ok {
				if m.Metrics == nil {
					m.Metrics = map[string]float64{}
				}
				m.Metrics[unit] = v
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// median of vs (reordered).
func median(vs []float64) float64 {
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// microByName indexes results.
func microByName(rs []microResult) map[string]microResult {
	m := make(map[string]microResult, len(rs))
	for _, r := range rs {
		m[r.Name] = r
	}
	return m
}
