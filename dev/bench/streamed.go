package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/service"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

// streamedResult is what REST costs for a symbol the hub streams: the
// `make run` program in a simulated regular session, a stream client
// subscribed to the symbol's quotes (so the hub streams them into L2), and
// GETs of its latest quote meanwhile.
type streamedResult struct {
	Symbol      string `json:"symbol"`
	At          string `json:"simulated_at"` // the simulated market's start
	Requests    int    `json:"requests"`
	Hits        int    `json:"hits"`         // answered HIT-L1 or HIT-L2
	OriginCalls int64  `json:"origin_calls"` // market-data requests the simulator received meanwhile
	MaxAgeS     int    `json:"max_age_s"`    // the largest Age header
}

// streamedPlan sizes the measurement.
type streamedPlan struct {
	requests int
	every    time.Duration
}

var (
	fullStreamed  = streamedPlan{requests: 100, every: 50 * time.Millisecond}
	smokeStreamed = streamedPlan{requests: 10, every: 50 * time.Millisecond}
)

// streamedSymbol is measured at streamedAt: 11:00 in New York on a
// Wednesday, in the regular session, fixed so that the run does not depend
// on the day it runs.
const streamedSymbol = "AAPL"

var streamedAt = time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)

// runStreamed starts the `make run` program over redis at streamedAt,
// subscribes a stream client to streamedSymbol's quotes, waits until it
// streams, and then sends plan.requests GETs of the symbol's latest quote,
// counting the simulator's market-data requests in that window.
func runStreamed(ctx context.Context, l *launcher, redis *redisServer, plan streamedPlan) (*streamedResult, error) {
	s, err := l.ours(ctx, redis.url(), service.EnvSimAt+"="+streamedAt.Format(time.RFC3339))
	if err != nil {
		return nil, err
	}
	defer s.stop()
	conn, err := subscribeQuotes(ctx, s.url, streamedSymbol)
	if err != nil {
		return nil, err
	}
	defer conn.CloseNow()
	// The hub writes L2 as it receives; a few ticks more and the entry is
	// there whichever reached first, the client or Redis.
	time.Sleep(500 * time.Millisecond)
	go func() { // keep reading, so the hub never sees a slow client
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return
			}
		}
	}()
	before, err := s.originCalls(ctx)
	if err != nil {
		return nil, err
	}
	r := &streamedResult{Symbol: streamedSymbol, At: streamedAt.Format(time.RFC3339)}
	for range plan.requests {
		if err := r.get(ctx, s.url+quotePath(streamedSymbol)); err != nil {
			return nil, err
		}
		time.Sleep(plan.every)
	}
	after, err := s.originCalls(ctx)
	r.OriginCalls = after - before
	return r, err
}

// get sends one GET and records its cache layer and Age.
func (r *streamedResult) get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header = authHeader.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	r.Requests++
	if strings.HasPrefix(resp.Header.Get(api.HeaderCache), "HIT") {
		r.Hits++
	}
	age, err := strconv.Atoi(resp.Header.Get("Age"))
	if err != nil {
		return fmt.Errorf("GET %s: Age %q", url, resp.Header.Get("Age"))
	}
	r.MaxAgeS = max(r.MaxAgeS, age)
	return nil
}

// dialQuotes connects to base's IEX stream with the development key and
// asks for sym's quotes: it reads the greeting and the authentication's
// answer, and returns before the subscription's.
func dialQuotes(ctx context.Context, base, sym string) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, strings.Replace(base, "http://", "ws://", 1)+"/"+stream.FeedIEX, nil)
	if err != nil {
		return nil, err
	}
	for _, msg := range []string{`{"action":"auth","key":"` + auth.DevKeyID + `","secret":"` + auth.DevSecret + `"}`,
		`{"action":"subscribe","quotes":["` + sym + `"]}`} {
		if _, _, err := conn.Read(ctx); err != nil {
			conn.CloseNow()
			return nil, err
		}
		if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			conn.CloseNow()
			return nil, err
		}
	}
	return conn, nil
}

// subscribeQuotes is dialQuotes that returns once a quote of sym has
// arrived.
func subscribeQuotes(ctx context.Context, base, sym string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := dialQuotes(ctx, base, sym)
	if err != nil {
		return nil, err
	}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("no quote of %s streamed: %w", sym, err)
		}
		if bytes.Contains(b, []byte(`"T":"q"`)) {
			return conn, nil
		}
	}
}

// streamedMarkdown is the report's paragraph on the streamed symbol.
func streamedMarkdown(p func(string, ...any), st *streamedResult) {
	p("**REST for a streamed symbol.** The `make run` program with the simulated market started at %s (the regular session), ", st.At)
	p("one stream client subscribed to %s's quotes, and %d GETs of `%s` meanwhile: %d answered from the cache, ",
		st.Symbol, st.Requests, quotePath(st.Symbol), st.Hits)
	p("%d origin calls (target 0), largest `Age` %d s.\n\n", st.OriginCalls, st.MaxAgeS)
}
