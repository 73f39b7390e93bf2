package main

import (
	"github.com/opitios/opitios-alpaca/dev/logtest"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, nil); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, f := range []string{"-addr", "-latency", "-error-rate", "-rate-limit", "-key-id", "-secret-key", "-seed", "-at", "/_sim/fault", "127.0.0.1:9100"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("--help does not mention %s:\n%s", f, out.String())
		}
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"--error-rate", "2"},
		{"--rate-limit", "-1"},
		{"--latency", "soon"},
		{"--at", "yesterday"},
		{"--nope"},
		{"extra"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, nil); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), "Flags:") {
			t.Errorf("%v: no usage printed:\n%s", args, out.String())
		}
	}
}

func TestServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	var logs logtest.Buffer
	go func() {
		done <- run(ctx, []string{
			"--addr", "127.0.0.1:0", "--key-id", "k", "--secret-key", "s", "--rate-limit", "2",
			"--at", "2026-11-27T15:00:00Z", "--seed", "4",
		}, &logs, func(a string) { addrs <- a })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run ended early: %v\n%s", err, logs.String())
	}
	get := func(path, key string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("APCA-API-KEY-ID", key)
		req.Header.Set("APCA-API-SECRET-KEY", "s")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get("/v2/stocks/quotes/latest?symbols=AAPL", "k")
	var body struct {
		Quotes map[string]struct {
			T  time.Time `json:"t"`
			Bp float64   `json:"bp"`
		} `json:"quotes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	// The clock starts at --at: the quote is from around then, not today.
	if q := body.Quotes["AAPL"]; q.Bp <= 0 || q.T.Sub(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)).Abs() > time.Minute {
		t.Errorf("quote %+v", q)
	}
	if resp.Header.Get("X-RateLimit-Limit") != "2" || resp.Header.Get("X-Alpaca-Simulator") != "true" {
		t.Errorf("headers %v", resp.Header)
	}
	if r := get("/v2/stocks/AAPL/quotes/latest", "wrong"); r.StatusCode != 403 {
		t.Errorf("wrong key: %d", r.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no shutdown within 30 s")
	}
	if _, err := http.Get("http://" + addr + "/_sim/stats"); err == nil {
		t.Error("still serving after shutdown")
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("logs:\n%s", logs.String())
	}
}
