package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

// secHub is the stream hub's fan-out section.
const secHub = "hub"

// hubPlan sizes the fan-out measurement.
type hubPlan struct {
	clients int
	rate    int // messages per second from upstream, in frames of batch
	batch   int
	dur     time.Duration
}

var (
	fullHub  = hubPlan{clients: 100, rate: 1000, batch: 10, dur: 20 * time.Second}
	smokeHub = hubPlan{clients: 10, rate: 200, batch: 10, dur: 2 * time.Second}
)

// hubResult is the fan-out latency: from the instant a batch leaves the
// upstream to the instant a client has read it, over every client; and what
// the hub process used meanwhile.
type hubResult struct {
	Clients   int     `json:"clients"`
	RatePerS  int     `json:"upstream_msgs_per_s"`
	Delivered int64   `json:"messages_delivered"`
	Expected  int64   `json:"messages_expected"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// CPUPercent is the hub process's CPU time over the window, in percent
	// of one core; RSSMiB its resident memory at the window's end.
	CPUPercent float64 `json:"hub_cpu_percent"`
	RSSMiB     float64 `json:"hub_rss_mib"`
	// Streamed is the REST cost of a streamed symbol (streamed.go).
	Streamed *streamedResult `json:"streamed,omitempty"`
}

// runHubSection builds the hub and the `make run` program, starts a Redis
// for them, and measures the hub's fan-out and a streamed symbol's REST
// cost.
func runHubSection(ctx context.Context, o options, logs, scratch string, step func(string, ...any)) (*hubResult, error) {
	plan, splan := fullHub, fullStreamed
	if o.smoke {
		plan, splan = smokeHub, smokeStreamed
	}
	hubBin, localBin := filepath.Join(scratch, "bin", "hub"), filepath.Join(scratch, "bin", "opitios-local")
	for bin, pkg := range map[string]string{hubBin: "./hub", localBin: "./dev/local"} {
		if err := goBuild(ctx, o.root, bin, pkg, nil); err != nil {
			return nil, err
		}
	}
	redis, err := startRedis(ctx, logs)
	if err != nil {
		return nil, err
	}
	defer redis.stop()
	step("hub: %d clients, %d msg/s for %v", plan.clients, plan.rate, plan.dur)
	r, err := runHubFanout(ctx, hubBin, logs, redis, plan)
	if err != nil {
		return nil, err
	}
	step("hub: %d GETs of a streamed symbol's latest quote", splan.requests)
	r.Streamed, err = runStreamed(ctx, &launcher{logs: logs, localBin: localBin}, redis, splan)
	return r, err
}

// runHubFanout measures the stream hub program (hub/) as deployed, in a
// process of its own over redis: a stand-in upstream in this process sends
// quotes stamped with their send time at plan.rate, the hub writes each
// into L2 and fans it out, and plan.clients JSON clients subscribed to
// them measure when each batch arrives. The hub's CPU time and memory are
// read from /proc over the same window.
func runHubFanout(ctx context.Context, bin, logs string, redis *redisServer, plan hubPlan) (*hubResult, error) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fakeUpstream(w, r, plan) }))
	defer up.Close()
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	hub, err := startChild("hub-"+port, logs, []string{
		"PORT=" + port, "REDIS_URL=" + redis.url(), "ALPACA_API_KEY_ID=k", "ALPACA_API_SECRET_KEY=s",
		config.EnvClientKeys + "=" + auth.DevKeyID + ":" + auth.DevSecret,
		stream.EnvURL + "=" + strings.Replace(up.URL, "http://", "ws://", 1), stream.EnvFeeds + "=" + stream.FeedIEX,
		stream.EnvSymbolLimit + "=-1",
	}, bin)
	if err != nil {
		return nil, err
	}
	defer hub.stop()
	base := "http://" + addr
	if err := waitHTTP(ctx, hub, base+"/healthz", readyWait); err != nil {
		return nil, err
	}
	return fanOut(ctx, hub, base, plan)
}

// fanOut connects plan.clients to the hub at base, reads for plan.dur and
// summarises their latencies and the hub's CPU and memory.
func fanOut(ctx context.Context, hub *child, base string, plan hubPlan) (*hubResult, error) {
	lats := make([][]time.Duration, plan.clients)
	counts := make([]int64, plan.clients)
	var wg sync.WaitGroup
	ready := make(chan error, plan.clients)
	start := make(chan struct{})
	for i := range plan.clients {
		wg.Go(func() { lats[i], counts[i] = benchClient(ctx, base, plan, ready, start) })
	}
	var err error
	for range plan.clients {
		err = errors.Join(err, <-ready)
	}
	cpu0, cerr := hub.cpu()
	t0 := time.Now()
	close(start)
	wg.Wait()
	cpu1, cerr1 := hub.cpu()
	rss, rerr := hub.rss()
	if err = errors.Join(err, cerr, cerr1, rerr); err != nil {
		return nil, err
	}
	r := summarize(plan, lats, counts)
	r.CPUPercent = round(100*float64(cpu1-cpu0)/float64(time.Since(t0)), 1)
	r.RSSMiB = round(float64(rss)/(1<<20), 1)
	return r, nil
}

// summarize computes the percentiles over every client's samples.
func summarize(plan hubPlan, lats [][]time.Duration, counts []int64) *hubResult {
	var all []time.Duration
	var n int64
	for i := range lats {
		all = append(all, lats[i]...)
		n += counts[i]
	}
	slices.Sort(all)
	r := &hubResult{Clients: plan.clients, RatePerS: plan.rate, Delivered: n,
		Expected: int64(plan.clients) * int64(plan.rate) * int64(plan.dur/time.Second)}
	if len(all) > 0 {
		q := func(p float64) float64 { return round(float64(all[int(p*float64(len(all)-1))])/1e6, 2) }
		r.P50Ms, r.P99Ms, r.MaxMs = q(0.50), q(0.99), q(1)
	}
	return r
}

// benchClient subscribes to quotes, reports on ready, and from start records,
// for each frame read during plan.dur, its delay per message it carries.
func benchClient(ctx context.Context, url string, plan hubPlan, ready chan<- error, start <-chan struct{}) ([]time.Duration, int64) {
	conn, err := dialQuotes(ctx, url, "BENCH")
	if err != nil {
		ready <- err
		return nil, 0
	}
	defer conn.CloseNow()
	conn.SetReadLimit(-1)
	_, _, err = conn.Read(ctx) // the subscription
	ready <- err
	<-start
	var lats []time.Duration
	var n int64
	rctx, cancel := context.WithTimeout(ctx, plan.dur)
	defer cancel()
	for {
		_, b, err := conn.Read(rctx)
		if err != nil {
			return lats, n
		}
		at := time.Now()
		k := bytes.Count(b, []byte(`"T":"q"`))
		if i := bytes.Index(b, []byte(`"t":"`)); i >= 0 {
			if j := bytes.IndexByte(b[i+5:], '"'); j > 0 {
				if t, err := time.Parse(time.RFC3339Nano, string(b[i+5:i+5+j])); err == nil {
					for range k {
						lats = append(lats, at.Sub(t))
					}
				}
			}
		}
		n += int64(k)
	}
}

// fakeUpstream speaks just enough of Alpaca's protocol (MessagePack), then
// sends quotes of BENCH stamped with the time of sending, plan.batch to a
// frame, plan.rate a second.
func fakeUpstream(w http.ResponseWriter, r *http.Request, plan hubPlan) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx := r.Context()
	_ = conn.Write(ctx, websocket.MessageBinary, stream.SuccessFrame(stream.Msgpack, "connected"))
	_, _, _ = conn.Read(ctx)
	_ = conn.Write(ctx, websocket.MessageBinary, stream.SuccessFrame(stream.Msgpack, "authenticated"))
	go func() { // subscription changes: acknowledged, otherwise ignored
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return
			}
		}
	}()
	t := time.NewTicker(time.Second * time.Duration(plan.batch) / time.Duration(plan.rate))
	defer t.Stop()
	msgs := make([]*stream.Msg, plan.batch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		for i := range msgs {
			msgs[i] = stream.NewMsg("q", "BENCH", "bx", "V", "bp", 100.0, "bs", int64(100),
				"ax", "V", "ap", 100.01, "as", int64(100), "t", now, "c", []any{"R"}, "z", "C")
		}
		if conn.Write(ctx, websocket.MessageBinary, stream.Frame(stream.Msgpack, msgs)) != nil {
			return
		}
	}
}

// hubMarkdown is the report's section on the hub.
func hubMarkdown(p func(string, ...any), h *hubResult) {
	p("## Stream hub fan-out\n\n")
	p("The hub program (`hub/`) in a process of its own over a local Redis, a stand-in upstream in the bench sending quotes ")
	p("stamped with their send time, clients reading JSON on loopback. Latency is from the upstream's send to a client's read, ")
	p("over every message every client received; the hub writes every quote into L2 as well. CPU is the hub process's CPU time ")
	p("over the window in percent of one core; memory its resident set at the window's end.\n\n")
	p("| Clients | Upstream msg/s | Delivered / expected | p50 | p99 | max | hub CPU | hub memory |\n|---|---|---|---|---|---|---|---|\n")
	p("| %d | %d | %d / %d | %.2f ms | %.2f ms | %.2f ms | %.1f %% | %.1f MiB |\n\n", h.Clients, h.RatePerS, h.Delivered, h.Expected,
		h.P50Ms, h.P99Ms, h.MaxMs, h.CPUPercent, h.RSSMiB)
	if st := h.Streamed; st != nil {
		streamedMarkdown(p, st)
	}
}
