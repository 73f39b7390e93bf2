// Command prefetch is the Lambda function the EventBridge schedule invokes
// every minute around the trading day (see package prefetch for the cron
// rules): it wires configuration to the shared prefetch job.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/opitios/opitios-alpaca/shared/service"
)

func main() {
	svc, log, err := service.FromLambda(context.Background(), os.Getenv)
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	pcfg, err := service.PrefetchConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("prefetch configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(svc.PrefetchHandler(svc.PrefetchJob(pcfg), os.Stdout))
}
