// Command prefetch is the Lambda function the EventBridge schedule invokes
// every minute around the trading day (see package prefetch for the cron
// rules): it wires configuration to the shared prefetch job.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/service"
)

func main() {
	log := service.Logger(os.Getenv)
	ctx := context.Background()
	var sm config.SecretsGetter
	if os.Getenv(config.EnvAlpacaSecretARN) != "" || os.Getenv(config.EnvRedisAuthARN) != "" {
		c, err := config.NewSecretsClient(ctx)
		if err != nil {
			log.Error("secrets client", "err", err)
			os.Exit(1)
		}
		sm = c
	}
	cfg, err := service.FromEnv(ctx, os.Getenv, sm)
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	pcfg, err := service.PrefetchConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("prefetch configuration", "err", err)
		os.Exit(1)
	}
	cfg.Logger = log
	cfg.Metrics = metrics.New(metrics.WithEMF(os.Getenv(config.EnvLambdaFunctionName)))
	svc, err := service.New(cfg)
	if err != nil {
		log.Error("service", "err", err)
		os.Exit(1)
	}
	lambda.Start(svc.PrefetchHandler(svc.PrefetchJob(pcfg), os.Stdout))
}
