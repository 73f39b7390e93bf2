package auth_test

import (
	"context"
	"github.com/opitios/opitios-alpaca/shared/market"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/opitios/opitios-alpaca/dev/secretstest"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/config"
)

// The whole path against a local Secrets Manager (moto_server) through the
// service's client (the test writes with the AWS SDK): Alpaca credentials and client keys are read from their
// secrets, and a change to the client keys is picked up at the refresh
// instant of the injected clock.
func TestSecretsFromLocalSecretsManager(t *testing.T) {
	secretstest.Start(t)
	ctx := context.Background()
	sm, err := config.NewSecretsClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin := secretstest.Client(t)

	alpacaARN := secretstest.Create(t, admin, "opitios/alpaca", `{"key_id":"PKLOCAL123","secret_key":"alpaca-secret-xyz"}`)
	keysARN := secretstest.Create(t, admin, "opitios/client-keys",
		`{"keys":[{"id":"alice","sha256":"`+auth.HashSecret("alice-secret-1")+`"}]}`)

	env := map[string]string{config.EnvAlpacaSecretARN: alpacaARN, config.EnvClientKeysSecretARN: keysARN}
	creds, err := config.Alpaca(ctx, func(k string) string { return env[k] }, sm)
	if err != nil {
		t.Fatalf("Alpaca: %v", err)
	}
	if creds.KeyID != "PKLOCAL123" || creds.SecretKey != "alpaca-secret-xyz" {
		t.Fatalf("Alpaca() = %v", creds)
	}

	now := time.Date(2026, 3, 12, 14, 30, 0, 0, time.UTC)
	loader, err := auth.NewLoader(sm, env[config.EnvClientKeysSecretARN], auth.LoaderOptions{
		Refresh: time.Minute,
		Clock:   market.ClockFunc(func() time.Time { return now }),
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	authz := auth.NewAuthorizer(loader.Load, slog.New(slog.DiscardHandler))
	allowed := func(id, secret string) bool {
		t.Helper()
		resp, err := authz.Handle(ctx, events.APIGatewayV2CustomAuthorizerV2Request{
			Type:    "REQUEST",
			Headers: map[string]string{"apca-api-key-id": id, "apca-api-secret-key": secret},
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp.IsAuthorized
	}

	if !allowed("alice", "alice-secret-1") || allowed("alice", "alice-secret-2") || allowed("bob", "bob-secret-1") {
		t.Fatal("initial keys not applied")
	}

	// Rotate alice and add bob, as a new version of the secret.
	secretstest.Put(t, admin, keysARN, `{"keys":[`+
		`{"id":"alice","sha256":"`+auth.HashSecret("alice-secret-2")+`"},`+
		`{"id":"bob","sha256":"`+auth.HashSecret("bob-secret-1")+`"}]}`)
	now = now.Add(time.Minute - time.Nanosecond)
	if !allowed("alice", "alice-secret-1") || allowed("bob", "bob-secret-1") {
		t.Fatal("keys refreshed before the refresh interval")
	}
	now = now.Add(time.Nanosecond)
	if allowed("alice", "alice-secret-1") || !allowed("alice", "alice-secret-2") || !allowed("bob", "bob-secret-1") {
		t.Fatal("rotated keys not applied at the refresh instant")
	}

	// UpdateSecret revokes everyone but bob.
	if _, err := admin.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{
		SecretId:     aws.String(keysARN),
		SecretString: aws.String(`{"keys":[{"id":"bob","sha256":"` + auth.HashSecret("bob-secret-1") + `"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if allowed("alice", "alice-secret-2") || !allowed("bob", "bob-secret-1") {
		t.Fatal("updated keys not applied")
	}

	// Deleting the secret makes refreshes fail: the last keys stay in force.
	if _, err := admin.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
		SecretId:                   aws.String(keysARN),
		ForceDeleteWithoutRecovery: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if !allowed("bob", "bob-secret-1") {
		t.Fatal("failed refresh dropped the previous keys")
	}

	// A fresh instance cannot load them at all, and denies.
	cold, err := auth.NewLoader(sm, keysARN, auth.LoaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := cold.Load(ctx); err == nil || s != nil {
		t.Fatalf("cold load of a deleted secret = %v, %v; want an error", s, err)
	}
}
