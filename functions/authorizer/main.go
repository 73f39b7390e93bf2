// Command authorizer is the API Gateway Lambda authorizer: it checks the
// client key pair of each request against the hashed keys in the secret named
// by CLIENT_KEYS_SECRET_ARN.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/config"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx := context.Background()
	sm, err := config.NewSecretsClient(ctx)
	if err != nil {
		logger.Error("secrets client", "error", err.Error())
		os.Exit(1)
	}
	window, err := config.RevocationWindow(os.Getenv)
	if err != nil {
		logger.Error("revocation window", "error", err.Error())
		os.Exit(1)
	}
	_, refresh := config.RevocationSplit(window)
	loader, err := auth.NewLoader(sm, os.Getenv(config.EnvClientKeysSecretARN), auth.LoaderOptions{Refresh: refresh, Logger: logger})
	if err != nil {
		logger.Error("client keys loader", "error", err.Error())
		os.Exit(1)
	}
	// Warm the keys during init; a failure here is retried by the first request.
	if _, err := loader.Load(ctx); err != nil {
		logger.Warn("initial client keys load failed", "error", err.Error())
	}
	lambda.Start(auth.NewAuthorizer(loader.Load, logger).Handle)
}
