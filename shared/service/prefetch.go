package service

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/budget"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/prefetch"
)

// PrefetchConfigFromEnv reads the prefetch settings the stack sets on the
// prefetch function (config.EnvPrefetch*): the watch list and underlyings
// (comma lists), the top N (0 means none: the watch list only) and the
// budget share, a decimal in (0, 1].
func PrefetchConfigFromEnv(getenv func(string) string) (prefetch.Config, error) {
	var c prefetch.Config
	var errs []error
	c.Watchlist = config.List(getenv, config.EnvPrefetchWatchlist)
	c.Underlyings = config.List(getenv, config.EnvPrefetchUnderlyings)
	n, err := config.Int(getenv, config.EnvPrefetchTopN, prefetch.DefaultTopN, 0, 100_000)
	if err != nil {
		errs = append(errs, err)
	}
	if n == 0 {
		n = -1 // prefetch.Config's "none"
	}
	c.TopN = n
	c.BudgetShare, err = config.Float(getenv, config.EnvPrefetchBudgetShare, prefetch.DefaultBudgetShare, 1e-9, 1)
	if err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// PrefetchJob builds the scheduled prefetch over the service's cache and
// Redis. It gets an origin client of its own, configured as the service's,
// whose every request waits on a share view of the fleet budget
// (budget.Limiter.WithShare(cfg.BudgetShare); a per-process budget of the
// same size without Redis) and is counted for the job's report.
func (s *Service) PrefetchJob(cfg prefetch.Config) *prefetch.Job {
	share := cfg.BudgetShare
	if !(share > 0) {
		share = prefetch.DefaultBudgetShare
	}
	fleet := s.Budget
	if fleet == nil {
		fleet = budget.Local(budget.Options{PerMinute: s.Config.BudgetPerMin})
	}
	view := fleet.WithShare(share)
	calls := prefetch.CountCalls(view)
	ac := s.Config.origin()
	ac.Limiter = calls
	deps := prefetch.Deps{
		Cache:  s.Cache,
		Redis:  s.Redis,
		Calls:  calls,
		Budget: view,
		Logger: s.log,
		Clock:  s.Config.Clock,
	}
	if s.Config.Metrics != nil {
		ac.Recorder = originRecorder{m: s.Config.Metrics, b: s.Budget}
		deps.Recorder = s.Config.Metrics
	}
	if s.Redis != nil {
		deps.Windows = s.Config.windows(s.Redis)
	}
	deps.Origin = alpaca.New(ac)
	return prefetch.New(deps, cfg)
}

// PrefetchHandler wraps job.Handle for Lambda: after each invocation it
// writes the invocation's metrics to out as EMF, inside the invocation.
func (s *Service) PrefetchHandler(job *prefetch.Job, out io.Writer) func(context.Context, events.EventBridgeEvent) (prefetch.Report, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (prefetch.Report, error) {
		rep, err := job.Handle(ctx, ev)
		if s.Config.Metrics != nil {
			if ferr := s.Config.Metrics.FlushEMF(out, time.Now()); ferr != nil {
				s.log.Warn("metrics: EMF flush failed", "err", ferr)
			}
		}
		return rep, err
	}
}
