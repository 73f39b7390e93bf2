package config_test

import (
	"context"
	"testing"

	"github.com/opitios/opitios-alpaca/dev/secretstest"
	"github.com/opitios/opitios-alpaca/shared/config"
)

// The service's client against a local Secrets Manager: endpoint taken from
// AWS_ENDPOINT_URL, credentials read from the secret named by ALPACA_SECRET_ARN
// (written with the AWS SDK).
func TestAlpacaFromSecretsManager(t *testing.T) {
	secretstest.Start(t)
	ctx := context.Background()
	sm, err := config.NewSecretsClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	arn := secretstest.Create(t, secretstest.Client(t), "opitios/alpaca", `{"key_id":"PKMOTO","secret_key":"moto-secret"}`)

	getenv := func(k string) string {
		if k == config.EnvAlpacaSecretARN {
			return arn
		}
		return ""
	}
	got, err := config.Alpaca(ctx, getenv, sm)
	if err != nil {
		t.Fatalf("Alpaca: %v", err)
	}
	if got.KeyID != "PKMOTO" || got.SecretKey != "moto-secret" {
		t.Fatalf("Alpaca() = %v (secret match %v)", got, got.SecretKey == "moto-secret")
	}
}

// AWS_ENDPOINT_URL_SECRETS_MANAGER overrides AWS_ENDPOINT_URL, as in the AWS
// SDKs: the general endpoint points at a closed port and is never used.
func TestServiceSpecificEndpointWins(t *testing.T) {
	endpoint := secretstest.Start(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
	ctx := context.Background()
	sm, err := config.NewSecretsClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secretstest.Create(t, secretstest.Client(t), "opitios/endpoint", `{"key_id":"PKE","secret_key":"s"}`)
	var got config.AlpacaCredentials
	if err := config.LoadSecret(ctx, sm, "opitios/endpoint", &got); err != nil || got.KeyID != "PKE" {
		t.Fatalf("LoadSecret = %v, %v", got, err)
	}
}
