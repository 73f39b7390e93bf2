package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/emftest"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/prefetch"
	"github.com/opitios/opitios-alpaca/shared/service"
)

func TestPrefetchConfigFromEnv(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    prefetch.Config
		wantErr string
	}{
		{"defaults", nil, prefetch.Config{TopN: 200, BudgetShare: 0.5}, ""},
		{"everything", map[string]string{
			config.EnvPrefetchWatchlist:   "SPY, aapl,,MSFT ",
			config.EnvPrefetchTopN:        "50",
			config.EnvPrefetchBudgetShare: "0.25",
			config.EnvPrefetchUnderlyings: "SPY,QQQ",
		}, prefetch.Config{Watchlist: []string{"SPY", "aapl", "MSFT"}, TopN: 50, BudgetShare: 0.25, Underlyings: []string{"SPY", "QQQ"}}, ""},
		{"top N 0 means the watch list only", map[string]string{config.EnvPrefetchTopN: "0"}, prefetch.Config{TopN: -1, BudgetShare: 0.5}, ""},
		{"negative top N", map[string]string{config.EnvPrefetchTopN: "-5"}, prefetch.Config{}, config.EnvPrefetchTopN},
		{"share above one", map[string]string{config.EnvPrefetchBudgetShare: "1.5"}, prefetch.Config{}, config.EnvPrefetchBudgetShare},
		{"share zero", map[string]string{config.EnvPrefetchBudgetShare: "0"}, prefetch.Config{}, config.EnvPrefetchBudgetShare},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := service.PrefetchConfigFromEnv(func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(c.want)
			if string(g) != string(w) {
				t.Errorf("got %s\nwant %s", g, w)
			}
		})
	}
}

// TestPrefetchHandlerUsesTheBudgetShare runs the assembled job on the sample
// event with a 20-per-minute budget (a burst of 2): its share view (0.5)
// admits one request, so of the chunks the symbols split into one is
// refreshed and the rest deferred, and the invocation's metrics are flushed.
func TestPrefetchHandlerUsesTheBudgetShare(t *testing.T) {
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, market.NewYork)
	clk := market.ClockFunc(func() time.Time { return at })
	sim, simSrv := alpacasim.NewTestServer(t, alpacasim.Config{Clock: clk})
	rs := redistest.StartServer(t)
	svc, err := service.New(service.Config{
		Redis:        cache.RedisConfig{URL: "redis://" + rs.Addr, Timeout: time.Second},
		Alpaca:       alpaca.Config{BaseURL: simSrv.URL, KeyID: "k", SecretKey: "s", MaxRetries: -1, MaxStockURLSymbolsLen: 40},
		BudgetPerMin: 20,
		Clock:        clk,
		Metrics:      metrics.New(metrics.Options{EMF: true, Function: "prefetch"}),
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	job := svc.PrefetchJob(prefetch.Config{
		Watchlist: alpacasim.Universe()[:40], BudgetShare: 0.5, RunFor: 2 * time.Second, PassTime: time.Second,
	})
	var out bytes.Buffer
	h := svc.PrefetchHandler(job, &out)
	b, err := os.ReadFile("../../events/prefetch-scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	rep, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if n := sim.Stats().ByPath[alpaca.EndpointStockQuotes]; n != 1 || rep.OriginCalls != 1 {
		t.Errorf("%d requests (report: %d), want the share's one", n, rep.OriginCalls)
	}
	if rep.Refreshed == 0 || rep.Deferred == 0 || rep.Refreshed+rep.Deferred != 40 {
		t.Errorf("report %+v, want one chunk refreshed and the rest deferred", rep)
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if err := emftest.ValidateEMF([]byte(line)); err != nil {
			t.Errorf("invalid EMF %v: %s", err, line)
		}
	}
	if !strings.Contains(out.String(), `"Result":"refreshed","PrefetchedSymbols":`) {
		t.Errorf("no PrefetchedSymbols in the invocation's EMF:\n%s", out.String())
	}
}

func TestPrefetchJobNeedsL2(t *testing.T) {
	clk := market.ClockFunc(func() time.Time { return time.Date(2026, 11, 27, 8, 0, 0, 0, market.NewYork) })
	sim, simSrv := alpacasim.NewTestServer(t, alpacasim.Config{Clock: clk})
	svc, err := service.New(service.Config{Alpaca: alpaca.Config{BaseURL: simSrv.URL, KeyID: "k", SecretKey: "s"}, Clock: clk,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.PrefetchJob(prefetch.Config{Watchlist: []string{"AAPL"}}).Run(context.Background())
	if !errors.Is(err, cache.ErrL2Unavailable) {
		t.Errorf("Run without L2 = %v, want cache.ErrL2Unavailable", err)
	}
	if sim.Stats().TotalRequests != 0 {
		t.Error("origin called with nowhere to store the answers")
	}
}
