package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// APIHandler wraps the API handler for Lambda: after each invocation it
// writes the invocation's metrics to out as EMF (once, aggregated), and
// drops L1 if the heap has grown past 80 % of the function's memory. Both
// happen inside the invocation, before it returns: nothing is left to a
// background goroutine that a frozen instance would not run.
func (s *Service) APIHandler(out io.Writer) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var limit uint64
	if s.Config.MemoryLimitMB > 0 {
		limit = uint64(s.Config.MemoryLimitMB) << 20 * 8 / 10
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp, err := s.API.Handle(ctx, ev)
		if limit > 0 {
			s.Cache.RelieveMemory(limit)
		}
		if s.Config.Metrics != nil {
			if ferr := s.Config.Metrics.FlushEMF(out, time.Now()); ferr != nil {
				s.log.Warn("metrics: EMF flush failed", "err", ferr)
			}
		}
		return resp, err
	}
}

// FromLambda builds the service the way every function starts in Lambda:
// a JSON logger, a Secrets Manager client when a secret ARN is configured,
// the configuration from the environment, EMF metrics named after the
// function, and the collector tuned to the function's memory (TuneGC). It returns the logger too, so main can report a failure.
func FromLambda(ctx context.Context, getenv func(string) string) (*Service, *slog.Logger, error) {
	log := Logger(getenv)
	var sm config.SecretsGetter
	if getenv(config.EnvAlpacaSecretARN) != "" || getenv(config.EnvRedisAuthARN) != "" {
		c, err := config.NewSecretsClient(ctx)
		if err != nil {
			return nil, log, fmt.Errorf("secrets client: %w", err)
		}
		sm = c
	}
	cfg, err := FromEnv(ctx, getenv, sm)
	if err != nil {
		return nil, log, fmt.Errorf("configuration: %w", err)
	}
	cfg.Logger = log
	cfg.Metrics = metrics.New(metrics.Options{EMF: true, Function: getenv(config.EnvLambdaFunctionName)})
	TuneGC(getenv, cfg.MemoryLimitMB)
	svc, err := New(cfg)
	return svc, log, err
}
