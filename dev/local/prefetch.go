package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/opitios/opitios-alpaca/shared/prefetch"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// prefetchTimeout bounds one run, as the prefetch function's timeout does
// (infra/stack's default).
const prefetchTimeout = 55 * time.Second

// prefetchTick runs the prefetch job of functions/prefetch (the same code,
// built by service.PrefetchJob) once per period, as the schedule would.
// Locally a ticker is fine: this process does not freeze between requests.
type prefetchTick struct {
	every  time.Duration // 0: off
	cfg    prefetch.Config
	cancel context.CancelFunc
	wg     sync.WaitGroup
	close  func() error // the job's service
}

// startPrefetch starts the tick, reading the job's configuration from the
// functions' variables (PREFETCH_*). The job runs on a service of its own,
// built from scfg: in AWS it is another function, so it shares L2 and the
// origin budget with the API but not the API's L1, and what it refreshes
// reaches API clients as L2 hits, here as there. The first run comes one
// period after start, and a run that outlasts the period delays the next
// tick instead of overlapping it. every 0 starts nothing.
func startPrefetch(scfg service.Config, every time.Duration, getenv func(string) string) (*prefetchTick, error) {
	cfg, err := service.PrefetchConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	t := &prefetchTick{every: every, cfg: cfg, cancel: func() {}, close: func() error { return nil }}
	if every == 0 {
		return t, nil
	}
	svc, err := service.New(scfg)
	if err != nil {
		return nil, err
	}
	t.close = svc.Close
	cfg.Interval = every
	job := svc.PrefetchJob(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rctx, rcancel := context.WithTimeout(ctx, prefetchTimeout)
			// The job logs its own outcome, errors included.
			_, _ = job.Run(rctx)
			rcancel()
		}
	}()
	return t, nil
}

// stop ends the tick, cancelling a run in progress, waits for it and
// closes the job's Redis connections.
func (t *prefetchTick) stop() error {
	t.cancel()
	t.wg.Wait()
	return t.close()
}

// describe states the tick for the banner.
func (t *prefetchTick) describe() string {
	if t.every == 0 {
		return fmt.Sprintf("off (%s=0)", envPrefetchEvery)
	}
	watch := "none"
	if len(t.cfg.Watchlist) > 0 {
		watch = strings.Join(t.cfg.Watchlist, ",")
	}
	top := "the most requested symbols"
	if t.cfg.TopN < 0 {
		top = "no requested symbols"
	}
	return fmt.Sprintf("every %s, first in %s: watch list %s, plus %s", t.every, t.every, watch, top)
}
