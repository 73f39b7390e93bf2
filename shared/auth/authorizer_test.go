package auth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func staticLoad(s *KeyStore) func(context.Context) (*KeyStore, error) {
	return func(context.Context) (*KeyStore, error) { return s, nil }
}

func request(headers map[string]string, identity ...string) events.APIGatewayV2CustomAuthorizerV2Request {
	ev := events.APIGatewayV2CustomAuthorizerV2Request{
		Version:        "2.0",
		Type:           "REQUEST",
		RouteKey:       "GET /v2/stocks/{symbol}/quotes/latest",
		Headers:        headers,
		IdentitySource: identity,
	}
	ev.RequestContext.RequestID = "req-1"
	return ev
}

// logLine is the part of an authorizer log line the tests check.
type logLine struct {
	Level   string  `json:"level"`
	Msg     string  `json:"msg"`
	Outcome string  `json:"outcome"`
	Reason  string  `json:"reason"`
	KeyID   *string `json:"key_id"`
}

// Every case logs into one buffer, which must never contain a secret.
func TestAuthorizer(t *testing.T) {
	store := testStore(t)
	var logs, all bytes.Buffer // this case's output; every case's output
	logger := slog.New(slog.NewJSONHandler(io.MultiWriter(&logs, &all), &slog.HandlerOptions{Level: slog.LevelDebug}))
	long := strings.Repeat("L", MaxCredentialLen+1)

	tests := []struct {
		name     string
		load     func(context.Context) (*KeyStore, error) // nil: the test store, unless noLoader
		noLoader bool
		ev       events.APIGatewayV2CustomAuthorizerV2Request
		allow    bool
		reason   reason
		loggedID string // key_id expected in the log line, "" for none
	}{
		{
			name:     "good pair",
			ev:       request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret}),
			allow:    true,
			reason:   reasonOK,
			loggedID: goodID,
		},
		{
			name:     "good pair, canonical header case",
			ev:       request(map[string]string{"Apca-Api-Key-Id": goodID, "Apca-Api-Secret-Key": goodSecret}),
			allow:    true,
			reason:   reasonOK,
			loggedID: goodID,
		},
		{
			name:     "good pair from the identity source",
			ev:       request(nil, goodID, goodSecret),
			allow:    true,
			reason:   reasonOK,
			loggedID: goodID,
		},
		{
			name:     "wrong secret",
			ev:       request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": "wrong-" + goodSecret}),
			reason:   reasonMismatch,
			loggedID: goodID,
		},
		{
			name:   "unknown id",
			ev:     request(map[string]string{"apca-api-key-id": "nobody", "apca-api-secret-key": goodSecret}),
			reason: reasonUnknownID,
		},
		{
			name:   "swapped headers: the secret sits in the id header and must not be logged",
			ev:     request(map[string]string{"apca-api-key-id": goodSecret, "apca-api-secret-key": goodID}),
			reason: reasonUnknownID,
		},
		{
			name:   "swapped identity source",
			ev:     request(nil, goodSecret, goodID),
			reason: reasonUnknownID,
		},
		{
			name:   "missing headers",
			ev:     request(map[string]string{"host": "example.com"}),
			reason: reasonMissing,
		},
		{
			name:   "missing secret header",
			ev:     request(map[string]string{"apca-api-key-id": goodID}),
			reason: reasonMissing,
		},
		{
			name:   "one identity source value only",
			ev:     request(nil, goodSecret),
			reason: reasonMissing,
		},
		{
			name:   "ambiguous headers",
			ev:     request(map[string]string{"apca-api-key-id": goodID, "APCA-API-KEY-ID": "other", "apca-api-secret-key": goodSecret}),
			reason: reasonAmbiguous,
		},
		{
			name:   "absurdly long secret",
			ev:     request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret + long}),
			reason: reasonOversize,
		},
		{
			name:   "absurdly long id",
			ev:     request(map[string]string{"apca-api-key-id": long + goodSecret, "apca-api-secret-key": goodSecret}),
			reason: reasonOversize,
		},
		{
			name: "loader error",
			load: func(context.Context) (*KeyStore, error) {
				return nil, errors.New("auth: load client keys: ServiceUnavailable")
			},
			ev:     request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret}),
			reason: reasonLoadError,
		},
		{
			name: "loader error with a store",
			load: func(context.Context) (*KeyStore, error) {
				return store, errors.New("partial failure")
			},
			ev:     request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret}),
			reason: reasonLoadError,
		},
		{
			name:   "nil store without error",
			load:   staticLoad(nil),
			ev:     request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret}),
			reason: reasonNoStore,
		},
		{
			name: "panic in loader",
			load: func(context.Context) (*KeyStore, error) {
				panic("loader exploded")
			},
			ev:     request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret}),
			reason: reasonPanic,
		},
		{
			name: "panic carrying the secret",
			load: func(context.Context) (*KeyStore, error) {
				panic(errors.New("bad input " + goodSecret))
			},
			ev:     request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret}),
			reason: reasonPanic,
		},
		{
			name:     "nil loader",
			noLoader: true,
			ev:       request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret}),
			reason:   reasonPanic,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := tt.load
			if load == nil && !tt.noLoader {
				load = staticLoad(store)
			}
			logs.Reset()
			resp, err := NewAuthorizer(load, logger).Handle(context.Background(), tt.ev)
			if err != nil {
				t.Fatalf("Handle returned an error (API Gateway would answer 500): %v", err)
			}
			if resp.IsAuthorized != tt.allow {
				t.Fatalf("IsAuthorized = %v, want %v", resp.IsAuthorized, tt.allow)
			}
			if tt.allow {
				if len(resp.Context) != 1 || resp.Context["key_id"] != goodID {
					t.Fatalf("context = %v, want key_id %q", resp.Context, goodID)
				}
			} else if resp.Context != nil {
				t.Fatalf("deny carries a context: %v", resp.Context)
			}

			checkLogs(t, logs.String(), tt.allow, tt.reason, tt.loggedID)
		})
	}
	if all.Len() == 0 || strings.Count(all.String(), "\n") != len(tests) {
		t.Fatalf("expected one log line per case, got:\n%s", all.String())
	}
	for _, secret := range []string{goodSecret, uniSecret, "other-secret"} {
		if strings.Contains(all.String(), secret) {
			t.Fatalf("secret %q appears in the logs", secret)
		}
	}
}

func checkLogs(t *testing.T, out string, allow bool, why reason, loggedID string) {
	t.Helper()
	for _, secret := range []string{goodSecret, uniSecret, "other-secret"} {
		if strings.Contains(out, secret) {
			t.Fatalf("secret %q appears in the logs:\n%s", secret, out)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var lines []logLine
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, sc.Text())
		}
		lines = append(lines, l)
	}
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), out)
	}
	l := lines[0]
	wantOutcome := "deny"
	if allow {
		wantOutcome = "allow"
	}
	if l.Outcome != wantOutcome || l.Reason != string(why) {
		t.Fatalf("logged outcome %q reason %q, want %q %q", l.Outcome, l.Reason, wantOutcome, why)
	}
	switch {
	case loggedID == "" && l.KeyID != nil:
		t.Fatalf("logged key_id %q, want none", *l.KeyID)
	case loggedID != "" && (l.KeyID == nil || *l.KeyID != loggedID):
		t.Fatalf("logged key_id %v, want %q", l.KeyID, loggedID)
	}
	wantLevel := "INFO"
	if why == reasonLoadError || why == reasonNoStore || why == reasonPanic {
		wantLevel = "ERROR"
	}
	if l.Level != wantLevel {
		t.Fatalf("logged at %s, want %s", l.Level, wantLevel)
	}
}

func TestAuthorizerNilLoggerDiscards(t *testing.T) {
	a := NewAuthorizer(staticLoad(testStore(t)), nil)
	resp, err := a.Handle(context.Background(), request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret}))
	if err != nil || !resp.IsAuthorized {
		t.Fatalf("Handle() = %v, %v", resp, err)
	}
}

// Loading is skipped when the request carries no credentials: a flood of
// anonymous requests costs no Secrets Manager read.
func TestAuthorizerDoesNotLoadForMissingCredentials(t *testing.T) {
	loads := 0
	a := NewAuthorizer(func(context.Context) (*KeyStore, error) {
		loads++
		return testStore(t), nil
	}, nil)
	if resp, _ := a.Handle(context.Background(), request(nil)); resp.IsAuthorized || loads != 0 {
		t.Fatalf("IsAuthorized %v after %d loads", resp.IsAuthorized, loads)
	}
}

func BenchmarkAuthorizerHandle(b *testing.B) {
	a := NewAuthorizer(staticLoad(testStore(b)), slog.New(slog.DiscardHandler))
	ev := request(map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := a.Handle(ctx, ev); !resp.IsAuthorized {
			b.Fatal("denied")
		}
	}
}
