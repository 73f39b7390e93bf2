// Command api is the Lambda function behind every data route of the HTTP
// API: it wires configuration to the shared service and starts the handler.
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
	lambda.Start(svc.APIHandler(os.Stdout))
}
