package stream_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

// session is an instant of a regular session (a Tuesday, 11:00 New York).
var session = time.Date(2026, 3, 10, 11, 0, 0, 0, market.NewYork)

const (
	simKey    = "sim-key"
	simSecret = "sim-secret"
)

// runningClock reads session plus the real time elapsed since it was made:
// prices move as in a live session.
func runningClock() market.Clock {
	start := time.Now()
	return market.ClockFunc(func() time.Time { return session.Add(time.Since(start)) })
}

// sim is a simulator with streams on a free 127.0.0.1 port.
type sim struct {
	srv     *alpacasim.Server
	streams *alpacasim.Streams
	url     string
}

func startSim(t *testing.T, clock market.Clock) *sim {
	t.Helper()
	return startSimTick(t, clock, 20*time.Millisecond)
}

// startSimTick is startSim with the streams' tick.
func startSimTick(t *testing.T, clock market.Clock, tick time.Duration) *sim {
	t.Helper()
	s := alpacasim.New(alpacasim.Config{KeyID: simKey, SecretKey: simSecret, Clock: clock})
	st := alpacasim.NewStreams(s, alpacasim.StreamConfig{Tick: tick})
	ts := httptest.NewServer(st)
	t.Cleanup(func() {
		st.Drop()
		ts.CloseClientConnections()
		ts.Close()
	})
	return &sim{srv: s, streams: st, url: ts.URL}
}

// hubEnv is a hub serving on a free port, with its Redis and cache.
type hubEnv struct {
	hub    *stream.Hub
	url    string // http://127.0.0.1:port
	cache  *cache.Cache
	stop   func() // stops the hub (idempotent)
	stopMu sync.Once
}

// testOptions returns hub options against s, with short timings.
func testOptions(s *sim, clock market.Clock, rdb redis.UniversalClient) stream.Options {
	keys, err := auth.NewKeyStore(auth.DevKeys())
	if err != nil {
		panic(err)
	}
	return stream.Options{
		BaseURL:        s.url,
		KeyID:          simKey,
		SecretKey:      simSecret,
		Keys:           func(context.Context) (*auth.KeyStore, error) { return keys, nil },
		Redis:          rdb,
		Source:         "alpaca-sim",
		Clock:          clock,
		LeaseTTL:       1500 * time.Millisecond,
		LeasePoll:      100 * time.Millisecond,
		SilenceTimeout: 1500 * time.Millisecond,
		BackoffMin:     50 * time.Millisecond,
		BackoffMax:     200 * time.Millisecond,
	}
}

func startHub(t *testing.T, o stream.Options) *hubEnv {
	t.Helper()
	if o.Cache == nil && o.Redis != nil {
		o.Cache = cache.New(cache.Options{Redis: o.Redis, Clock: o.Clock})
	}
	h, err := stream.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.Run(ctx)
	}()
	e := &hubEnv{hub: h, url: ts.URL, cache: o.Cache}
	e.stop = func() {
		e.stopMu.Do(func() {
			cancel()
			<-done
			ts.CloseClientConnections()
			ts.Close()
		})
	}
	t.Cleanup(e.stop)
	return e
}

// newRedis returns a client of the test Redis with the lease keys of this
// test cleared.
func newRedis(t *testing.T) *redis.Client {
	t.Helper()
	rdb := redistest.Client(t)
	for _, f := range stream.Feeds {
		rdb.Del(context.Background(), stream.NewLease(rdb, f, time.Second).Key())
	}
	return rdb
}

// simStats reads the simulator's stream stats over HTTP.
func simStats(t *testing.T, s *sim) alpacasim.StreamStats {
	t.Helper()
	resp, err := http.Get(s.url + "/_sim/stream/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st alpacasim.StreamStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// simPost posts to a simulator control endpoint.
func simPost(t *testing.T, s *sim, path string) {
	t.Helper()
	resp, err := http.Post(s.url+path, "", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST %s: %s", path, resp.Status)
	}
}

// eventually polls cond every 20 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type clockFunc = market.ClockFunc
