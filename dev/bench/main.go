// Command bench measures opitios-alpaca against its service levels (the
// original design's and ours, each a row of the verdict table) side by side
// with the anchors, and writes BENCHMARKS.md, bench/results.json and
// bench/latency.png: what `make bench` runs.
//
//	go run ./dev/bench          # the full run, under 10 minutes on 2 cores
//	go run ./dev/bench -smoke   # seconds; writes to bench/out/smoke (make bench-smoke, in make test)
//	go run ./dev/bench -render  # rewrite BENCHMARKS.md and the plot from bench/results.json
//
// Run it from the repository root with OPITIOS_TEST_REDIS_ADDR set (the make
// targets start a private Redis). It has five sections:
//
//   - micro: the Go benchmarks of this package (micro_test.go), run with
//     go test -count 5 and summarised with benchstat: the handler's paths in
//     process beside their floors and the anchors (go-redis/cache, the
//     original design);
//   - load: the `make run` program (dev/local, built here) over loopback,
//     beside a bare net/http server and the original design: L1 hits at
//     full speed under wrk (with a profiled run of ours), a Zipf mix,
//     batches of 20 and a stampede under vegeta, each from a fresh start
//     over a redis-server of its own;
//   - soak: the `make run` program at full speed for 60 s under a mixed
//     workload while its Redis is restarted twice and the origin fails;
//   - coldstart: the api bootstrap beside a minimal aws-lambda-go function
//     (dev/bench/hello), their arm64 sizes and their start under the Lambda
//     Runtime Interface Emulator;
//   - hub: the stream hub program (hub/, built here) fanning a stand-in
//     upstream's quotes out to 100 clients, with its CPU and memory, and the
//     `make run` program's REST answers for a symbol the hub streams (origin
//     calls and Age).
//
// BENCHMARKS.md also gets a cost per million requests, computed from the
// measured figures, the stack's defaults and list prices (cost.go).
//
// Then it judges each service level (verdict.go). It exits 1 when a section
// or scenario could not run or a correctness promise failed (errors under
// load, stampede coalescing, data age, batch round trips, the soak's
// checks), in smoke mode too, so `make test` catches a harness that rots; a
// missed speed target is reported, not fatal.
//
// The bench also runs itself as the anchor servers (-serve bare|naive), so
// every system under load is a process of its own.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Sections.
const (
	secMicro = "micro"
	secLoad  = "load"
	secSoak  = "soak"
	secCold  = "coldstart"
)

// options are the command line's choices.
type options struct {
	smoke     bool
	sections  []string
	benchstat string
	rie       string
	root      string
}

// run parses args and runs the bench or a -serve role; it returns the exit
// status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		smoke     = fs.Bool("smoke", false, "seconds instead of minutes: prove the harness, write to bench/out/smoke")
		only      = fs.String("only", "micro,load,soak,coldstart,hub", "comma-separated `sections` to run")
		rie       = fs.String("rie", ".bin/aws-lambda-rie", "the AWS Lambda Runtime Interface Emulator `binary` (make deps installs it)")
		benchstat = fs.String("benchstat", ".bin/benchstat", "benchstat `binary` (make deps installs it)")
		serve     = fs.String("serve", "", "run as a child server: bare or naive (used by the bench itself)")
		addr      = fs.String("addr", "", "-serve: listen address")
		simAddr   = fs.String("sim-addr", "", "-serve naive: the simulator's listen address")
		redisURL  = fs.String("redis", "", "-serve naive: Redis URL")
		body      = fs.String("body", "", "-serve bare: file holding the body to serve")
		render    = fs.Bool("render", false, "measure nothing: write BENCHMARKS.md and the plot again from the run's results.json")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *serve != "" {
		if err := serveRole(ctx, *serve, *addr, *simAddr, *redisURL, *body); err != nil {
			fmt.Fprintln(stderr, "bench -serve:", err)
			return 1
		}
		return 0
	}
	o := options{smoke: *smoke, benchstat: *benchstat, rie: *rie}
	for s := range strings.SplitSeq(*only, ",") {
		switch s = strings.TrimSpace(s); s {
		case secMicro, secLoad, secSoak, secCold, secHub:
			o.sections = append(o.sections, s)
		default:
			fmt.Fprintf(stderr, "bench: unknown section %q (micro, load, soak, coldstart, hub)\n", s)
			return 2
		}
	}
	var err error
	if o.root, err = os.Getwd(); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if !fileExists(filepath.Join(o.root, "go.mod")) || !fileExists(filepath.Join(o.root, "dev", "bench")) {
		fmt.Fprintln(stderr, "bench: run it from the repository root (make bench)")
		return 2
	}
	var r *results
	if *render {
		r, err = rerender(layoutFor(o.root, o.smoke), stdout)
	} else {
		r, err = bench(ctx, o, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if r.failed() {
		fmt.Fprintln(stderr, "bench: FAILED: see the errors and the failed correctness rows above")
		return 1
	}
	return 0
}

// layout is where a run writes.
type layout struct {
	doc, json, plot string // BENCHMARKS.md, results.json, latency.png
	scratch         string // logs and raw output
}

func layoutFor(root string, smoke bool) layout {
	if smoke {
		d := filepath.Join(root, "bench", "out", "smoke")
		return layout{doc: filepath.Join(d, "BENCHMARKS.md"), json: filepath.Join(d, "results.json"),
			plot: filepath.Join(d, "latency.png"), scratch: d}
	}
	return layout{doc: filepath.Join(root, "BENCHMARKS.md"), json: filepath.Join(root, "bench", "results.json"),
		plot: filepath.Join(root, "bench", "latency.png"), scratch: filepath.Join(root, "bench", "out")}
}

// bench runs the sections and writes the outputs. Errors of sections are
// in the results; the error returned is one that prevented writing them.
func bench(ctx context.Context, o options, log io.Writer) (*results, error) {
	began := time.Now()
	lay := layoutFor(o.root, o.smoke)
	logs := filepath.Join(lay.scratch, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(lay.json), 0o755); err != nil {
		return nil, err
	}
	r := &results{Date: now(), Commit: commit(ctx, o.root), Machine: machine(), Mode: "full"}
	if o.smoke {
		r.Mode = "smoke"
	}
	has := func(s string) bool { return slices.Contains(o.sections, s) }
	step := func(format string, args ...any) {
		fmt.Fprintf(log, "[%5.0fs] "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
	}

	if has(secMicro) {
		step("micro: go test -bench (this takes a while)")
		plan := microPlan{count: 5, benchtime: "500ms", profileTime: "3s"}
		benchstat := o.benchstat
		if o.smoke {
			plan = microPlan{count: 1, benchtime: "20x", profileTime: "100x"}
		}
		if !filepath.IsAbs(benchstat) {
			benchstat = filepath.Join(o.root, benchstat)
		}
		if os.Getenv("OPITIOS_TEST_REDIS_ADDR") == "" {
			r.Errors = append(r.Errors, "micro: OPITIOS_TEST_REDIS_ADDR is not set (run through make bench)")
		} else if !fileExists(benchstat) {
			r.Errors = append(r.Errors, fmt.Sprintf("micro: %s is missing: run `make deps`", benchstat))
		} else {
			var err error
			r.Micro, r.Benchstat, err = runMicro(ctx, o.root, benchstat, plan, filepath.Join(lay.scratch, "micro.txt"), log)
			if err != nil {
				r.Errors = append(r.Errors, "micro: "+err.Error())
			}
			step("micro: CPU profiles of %s", strings.Join(profiledPaths, ", "))
			if r.PathProfiles, err = profilePaths(ctx, o.root, lay.scratch, plan.profileTime); err != nil {
				r.Errors = append(r.Errors, "micro: "+err.Error())
			}
		}
	}

	if has(secCold) {
		step("coldstart: the api and hello bootstraps under the Lambda emulator")
		plan := fullCold
		if o.smoke {
			plan = smokeCold
		}
		rie := o.rie
		if !filepath.IsAbs(rie) {
			rie = filepath.Join(o.root, rie)
		}
		if addr := os.Getenv("OPITIOS_TEST_REDIS_ADDR"); addr == "" {
			r.Errors = append(r.Errors, "coldstart: OPITIOS_TEST_REDIS_ADDR is not set (run through make bench)")
		} else if cs, err := runColdStart(ctx, o.root, lay.scratch, rie, addr, plan); err != nil {
			r.Errors = append(r.Errors, "coldstart: "+err.Error())
		} else {
			r.ColdStart = cs
			for _, f := range cs.Functions {
				step("coldstart: %-5s %s arm64, init %.2f ms, first invocation %.2f ms, warm %.2f ms",
					f.Name, fmtBytesMB(f.BytesArm64), f.InitMs, f.FirstMs, f.WarmMs)
			}
		}
	}

	if has(secLoad) || has(secSoak) {
		if err := runLoadSections(ctx, o, r, logs, lay.scratch, step); err != nil {
			r.Errors = append(r.Errors, err.Error())
		}
	}

	if has(secHub) && ctx.Err() == nil {
		var err error
		if r.Hub, err = runHubSection(ctx, o, logs, lay.scratch, step); err != nil {
			r.Errors = append(r.Errors, "hub: "+err.Error())
		}
	}

	r.DurationS = round(time.Since(began).Seconds(), 0)
	r.Machine.LoadEnd = loadAvg()
	if err := write(r, lay); err != nil {
		return nil, err
	}
	step("wrote %s, %s, %s", lay.doc, lay.json, lay.plot)
	printVerdicts(log, r)
	return r, nil
}

// write judges r's figures and writes results.json, the plot and
// BENCHMARKS.md.
func write(r *results, lay layout) error {
	r.Cost = nil
	if c, err := costSection(microByName(r.Micro), r.Load); err == nil {
		r.Cost = c
	}
	r.Verdicts = verdicts(findings{micro: microByName(r.Micro), load: r.Load, soak: r.Soak, cold: r.ColdStart, hub: r.Hub,
		smoke: r.Mode == "smoke"})
	plotRows := slices.Clone(r.Load)
	if r.Soak != nil {
		plotRows = append(plotRows, r.Soak.Load)
	}
	if len(plotRows) > 0 {
		if err := latencyPlot(plotRows, lay.plot); err != nil && !slices.Contains(r.Errors, "plot: "+err.Error()) {
			r.Errors = append(r.Errors, "plot: "+err.Error())
		}
	}
	if err := writeJSON(lay.json, r); err != nil {
		return err
	}
	relJSON, _ := filepath.Rel(filepath.Dir(lay.doc), lay.json)
	relPlot, _ := filepath.Rel(filepath.Dir(lay.doc), lay.plot)
	return os.WriteFile(lay.doc, r.markdown(filepath.ToSlash(relPlot), filepath.ToSlash(relJSON)), 0o644)
}

// rerender reads a run's results.json and writes its outputs again: for a
// change of presentation, never of figures.
func rerender(lay layout, log io.Writer) (*results, error) {
	b, err := os.ReadFile(lay.json)
	if err != nil {
		return nil, err
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", lay.json, err)
	}
	if err := write(&r, lay); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "rendered %s and %s from %s\n", lay.doc, lay.plot, lay.json)
	printVerdicts(log, &r)
	return &r, nil
}

// runLoadSections builds the `make run` program, starts the Redis the
// scenarios share, and runs the load scenarios and the soak.
func runLoadSections(ctx context.Context, o options, r *results, logs, scratch string, step func(string, ...any)) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	localBin := filepath.Join(scratch, "bin", "opitios-local")
	step("load: building dev/local")
	if err := goBuild(ctx, o.root, localBin, "./dev/local", nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	rs, err := startRedis(ctx, logs)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer rs.stop()
	plan, soak := fullLoad, fullSoak
	if o.smoke {
		plan, soak = smokeLoad, smokeSoak
	}
	zipf, rest, err := symbolSets(plan.zipfSymbols)
	if err != nil {
		return err
	}
	lr := &loadRunner{plan: plan, launch: &launcher{logs: logs, localBin: localBin, selfBin: self},
		redis: rs, log: prefixWriter{step}, zipf: zipf, rest: rest, wrk: haveWrk()}
	if !lr.wrk && !o.smoke {
		r.Errors = append(r.Errors, "load: wrk is not installed (make bench installs it): the max-rate runs fell back to vegeta, which saturates first")
	}
	if slices.Contains(o.sections, secLoad) {
		var errs []string
		r.Load, errs = lr.run(ctx)
		r.Errors = append(r.Errors, errs...)
		r.Profile = lr.profile
	}
	if slices.Contains(o.sections, secSoak) && ctx.Err() == nil {
		step("soak: %s, %d connections, Redis restarts at %v", soak.dur, soak.conns, soak.restarts)
		s, err := lr.soak(ctx, soak)
		if s != nil && s.Load.Requests > 0 {
			r.Soak = s
			step("soak: %d requests, errors %s, data age max %d s", s.Load.Requests, errorsCell(s.Load), s.Load.AgeMaxS)
		}
		if err != nil {
			r.Errors = append(r.Errors, "soak: "+err.Error())
		}
	}
	return ctx.Err()
}

// prefixWriter sends each line written to it through step.
type prefixWriter struct{ step func(string, ...any) }

func (w prefixWriter) Write(b []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimRight(string(b), "\n"), "\n") {
		w.step("%s", line)
	}
	return len(b), nil
}

// printVerdicts prints the verdict table for the terminal.
func printVerdicts(w io.Writer, r *results) {
	fmt.Fprintf(w, "\nVerdict (%s run, commit %s):\n", r.Mode, r.Commit)
	for _, v := range r.Verdicts {
		line := fmt.Sprintf("  %-4s %-15s %-50s %s", v.Status, v.Source, v.Level, v.Measured)
		if v.Miss != "" {
			line += "  [" + v.Miss + "]"
		}
		fmt.Fprintln(w, line)
	}
	for _, e := range r.Errors {
		fmt.Fprintln(w, "  ERROR", e)
	}
}
