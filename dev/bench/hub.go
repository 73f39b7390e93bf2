package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/opitios/opitios-alpaca/shared/auth"
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
// upstream to the instant a client has read it, over every client.
type hubResult struct {
	Clients   int     `json:"clients"`
	RatePerS  int     `json:"upstream_msgs_per_s"`
	Delivered int64   `json:"messages_delivered"`
	Expected  int64   `json:"messages_expected"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
}

// runHubFanout measures the hub in-process: a stand-in upstream sends
// quotes stamped with their send time at plan.rate, and plan.clients JSON
// clients subscribed to them measure when each batch arrives.
func runHubFanout(ctx context.Context, plan hubPlan) (*hubResult, error) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fakeUpstream(w, r, plan) }))
	defer up.Close()
	keys, _ := auth.NewKeyStore(auth.DevKeys())
	h, err := stream.New(stream.Options{
		BaseURL: up.URL, KeyID: "k", SecretKey: "s", SymbolLimit: -1, QueueLen: 4096,
		Keys:   func(context.Context) (*auth.KeyStore, error) { return keys, nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	hs := httptest.NewServer(h)
	defer hs.Close()
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = h.Run(hctx) }()

	lats := make([][]time.Duration, plan.clients)
	counts := make([]int64, plan.clients)
	var wg sync.WaitGroup
	ready := make(chan error, plan.clients)
	for i := range plan.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats[i], counts[i] = benchClient(hctx, hs.URL, plan, ready)
		}()
	}
	for range plan.clients {
		if err := <-ready; err != nil {
			return nil, err
		}
	}
	wg.Wait()
	return summarize(plan, lats, counts), nil
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

// benchClient subscribes to quotes and records, for each frame read during
// plan.dur, its delay per message it carries.
func benchClient(ctx context.Context, url string, plan hubPlan, ready chan<- error) ([]time.Duration, int64) {
	conn, _, err := websocket.Dial(ctx, strings.Replace(url, "http://", "ws://", 1)+"/v2/iex", nil)
	if err != nil {
		ready <- err
		return nil, 0
	}
	defer conn.CloseNow()
	conn.SetReadLimit(-1)
	for _, msg := range []string{`{"action":"auth","key":"` + auth.DevKeyID + `","secret":"` + auth.DevSecret + `"}`, `{"action":"subscribe","quotes":["BENCH"]}`} {
		_, _, _ = conn.Read(ctx)
		_ = conn.Write(ctx, websocket.MessageText, []byte(msg))
	}
	_, _, err = conn.Read(ctx) // the subscription
	ready <- err
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
	p("One hub in-process, a stand-in upstream sending quotes stamped with their send time, clients reading JSON on loopback. ")
	p("Latency is from the upstream's send to a client's read, over every message every client received.\n\n")
	p("| Clients | Upstream msg/s | Delivered / expected | p50 | p99 | max |\n|---|---|---|---|---|---|\n")
	p("| %d | %d | %d / %d | %.2f ms | %.2f ms | %.2f ms |\n\n", h.Clients, h.RatePerS, h.Delivered, h.Expected, h.P50Ms, h.P99Ms, h.MaxMs)
}
