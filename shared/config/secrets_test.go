package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// fakeSecrets serves secrets from a map; a missing id is an error.
type fakeSecrets struct {
	values map[string]*string
	calls  int
}

var errNotFound = errors.New("ResourceNotFoundException: secret not found")

func (f *fakeSecrets) GetSecretString(_ context.Context, id string) (*string, error) {
	f.calls++
	v, ok := f.values[id]
	if !ok {
		return nil, errNotFound
	}
	return v, nil
}

const testSecret = "sk-Zq8p1vT3xWm7"

func TestLoadSecret(t *testing.T) {
	sm := &fakeSecrets{values: map[string]*string{
		"good":      aws.String(`{"key_id":"PK1","secret_key":"` + testSecret + `","extra":1}`),
		"binary":    nil,
		"syntax":    aws.String(`{"key_id":"PK1","secret_key":` + testSecret + `}`),
		"wrongtype": aws.String(`{"key_id":"PK1","secret_key":12345}`),
		"array":     aws.String(`["` + testSecret + `"]`),
	}}
	var got AlpacaCredentials
	if err := LoadSecret(context.Background(), sm, "good", &got); err != nil {
		t.Fatalf("LoadSecret(good): %v", err)
	}
	if got.KeyID != "PK1" || got.SecretKey != testSecret {
		t.Fatalf("LoadSecret(good) decoded key id %q (secret match %v)", got.KeyID, got.SecretKey == testSecret)
	}

	for _, id := range []string{"binary", "syntax", "wrongtype", "array"} {
		err := LoadSecret(context.Background(), sm, id, &AlpacaCredentials{})
		if !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("LoadSecret(%s) = %v, want ErrInvalidSecret", id, err)
			continue
		}
		if !strings.Contains(err.Error(), id) {
			t.Errorf("LoadSecret(%s) error %q does not name the secret", id, err)
		}
		if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "sk-") {
			t.Errorf("LoadSecret(%s) error %q contains secret content", id, err)
		}
	}

	err := LoadSecret(context.Background(), sm, "missing", &AlpacaCredentials{})
	if !errors.Is(err, errNotFound) || errors.Is(err, ErrInvalidSecret) {
		t.Errorf("LoadSecret(missing) = %v, want the client's error wrapped", err)
	}
	if err := LoadSecret(context.Background(), nil, "good", &AlpacaCredentials{}); err == nil {
		t.Error("LoadSecret with a nil client succeeded")
	}
}

func TestAlpaca(t *testing.T) {
	sm := &fakeSecrets{values: map[string]*string{
		"arn:alpaca":  aws.String(`{"key_id":"PKSM","secret_key":"from-sm"}`),
		"arn:partial": aws.String(`{"key_id":"PKSM"}`),
	}}
	tests := []struct {
		name    string
		env     map[string]string
		want    AlpacaCredentials
		wantErr error
		calls   int
	}{
		{
			name: "both env vars win over the secret",
			env:  map[string]string{EnvAlpacaKeyID: "PKENV", EnvAlpacaSecretKey: "from-env", EnvAlpacaSecretARN: "arn:alpaca"},
			want: AlpacaCredentials{KeyID: "PKENV", SecretKey: "from-env"},
		},
		{
			name:  "secret when env is unset",
			env:   map[string]string{EnvAlpacaSecretARN: "arn:alpaca"},
			want:  AlpacaCredentials{KeyID: "PKSM", SecretKey: "from-sm"},
			calls: 1,
		},
		{
			name:  "secret when only the key id is in env",
			env:   map[string]string{EnvAlpacaKeyID: "PKENV", EnvAlpacaSecretARN: "arn:alpaca"},
			want:  AlpacaCredentials{KeyID: "PKSM", SecretKey: "from-sm"},
			calls: 1,
		},
		{
			name:    "nothing configured",
			env:     map[string]string{},
			wantErr: ErrNoCredentials,
		},
		{
			name:    "half configured",
			env:     map[string]string{EnvAlpacaSecretKey: "from-env"},
			wantErr: ErrNoCredentials,
		},
		{
			name:    "secret missing a field",
			env:     map[string]string{EnvAlpacaSecretARN: "arn:partial"},
			wantErr: ErrInvalidSecret,
			calls:   1,
		},
		{
			name:    "secret not found",
			env:     map[string]string{EnvAlpacaSecretARN: "arn:absent"},
			wantErr: errNotFound,
			calls:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm.calls = 0
			got, err := Alpaca(context.Background(), env(tt.env), sm)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Alpaca() error = %v, want %v", err, tt.wantErr)
				}
				if got != (AlpacaCredentials{}) {
					t.Fatalf("Alpaca() returned credentials %v with an error", got)
				}
			} else if err != nil || got != tt.want {
				t.Fatalf("Alpaca() = %v, %v; want %v", got, err, tt.want)
			}
			if sm.calls != tt.calls {
				t.Fatalf("Secrets Manager called %d times, want %d", sm.calls, tt.calls)
			}
		})
	}
}

func TestAlpacaCredentialsNeverPrintTheSecret(t *testing.T) {
	c := AlpacaCredentials{KeyID: "PKTEST", SecretKey: testSecret}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c))
	}
	out = append(out, c.String(), fmt.Sprint(c), fmt.Sprintln(struct{ C AlpacaCredentials }{c}))

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("creds", "c", c, "p", &c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("creds", "c", c)
	out = append(out, logs.String())

	js, err := json.Marshal(map[string]any{"c": c})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(js))

	for _, s := range out {
		if strings.Contains(s, testSecret) {
			t.Errorf("secret printed in %q", s)
		}
		if !strings.Contains(s, "PKTEST") {
			t.Errorf("key id missing from %q", s)
		}
	}
	if !strings.Contains(logs.String(), `"secret_key":"[REDACTED]"`) {
		t.Errorf("slog JSON output %q lacks the redacted marker", logs.String())
	}

	var back AlpacaCredentials
	if err := json.Unmarshal([]byte(`{"key_id":"PK","secret_key":"`+testSecret+`"}`), &back); err != nil || back.SecretKey != testSecret {
		t.Errorf("decoding is affected by the redaction: %v", err)
	}
}

// TestSecretsClientNeedsLambdasEnvironment: without a region and the
// execution role's keys in the environment there is no client (the
// default chain's files, SSO and instance metadata are not consulted).
func TestSecretsClientNeedsLambdasEnvironment(t *testing.T) {
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s"}
	for _, missing := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		getenv := func(k string) string {
			if k == missing {
				return ""
			}
			return env[k]
		}
		if c, err := newSecretsClient(getenv); err == nil || c != nil {
			t.Errorf("without %s: client %v, error %v", missing, c, err)
		}
	}
	env["AWS_REGION"], env["AWS_DEFAULT_REGION"] = "", "eu-west-1"
	c, err := newSecretsClient(func(k string) string { return env[k] })
	if err != nil || c == nil || c.Region() != "eu-west-1" {
		t.Fatalf("AWS_DEFAULT_REGION: %v, %v", c, err)
	}
}

func TestSecretsEndpointPrecedence(t *testing.T) {
	for _, c := range []struct{ specific, general, want string }{
		{"", "", ""}, {"", "http://g", "http://g"}, {"http://s", "http://g", "http://s"}, {"http://s", "", "http://s"},
	} {
		env := map[string]string{"AWS_ENDPOINT_URL_SECRETS_MANAGER": c.specific, "AWS_ENDPOINT_URL": c.general}
		if got := secretsEndpoint(func(k string) string { return env[k] }); got != c.want {
			t.Errorf("%q, %q: %q, want %q", c.specific, c.general, got, c.want)
		}
	}
}
