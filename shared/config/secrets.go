package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Errors produced while reading secrets.
var (
	// ErrInvalidSecret means a secret was read but its content is unusable:
	// not a SecretString, not JSON of the expected shape, or missing a field.
	ErrInvalidSecret = errors.New("config: invalid secret")

	// ErrNoCredentials means no Alpaca credentials are configured: neither
	// both of ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY, nor ALPACA_SECRET_ARN.
	ErrNoCredentials = errors.New("config: no Alpaca credentials configured")
)

// SecretsGetter is the one Secrets Manager call this package needs,
// GetSecretValue's SecretString (nil for a binary secret); *SecretsClient
// implements it.
type SecretsGetter interface {
	GetSecretString(ctx context.Context, id string) (*string, error)
}

// Bounds of a Secrets Manager call made by a client from NewSecretsClient.
// They suit a Lambda cold start: a slow or unreachable endpoint costs at most
// about secretsMaxAttempts × secretsAttemptTimeout plus two short backoffs,
// not the AWS SDKs' default of up to 20 s backoff per retry.
const (
	secretsAttemptTimeout = 3 * time.Second // one HTTP attempt, connect to last body byte
	secretsDialTimeout    = time.Second
	secretsMaxAttempts    = 3
	secretsMaxBackoff     = 250 * time.Millisecond
)

// LoadSecret reads the current version of the secret arn (an ARN or a name)
// and decodes its SecretString, which must be JSON, into v as json.Unmarshal
// would. Unknown JSON fields are ignored.
//
// Errors name the secret but never include any of its content: a JSON
// syntax error reports only its byte offset, a type error only the field.
// Content problems wrap ErrInvalidSecret; call failures wrap the SDK error.
func LoadSecret(ctx context.Context, client SecretsGetter, arn string, v any) error {
	if client == nil {
		return fmt.Errorf("config: secret %s: no Secrets Manager client", arn)
	}
	ss, err := client.GetSecretString(ctx, arn)
	if err != nil {
		return fmt.Errorf("config: get secret %s: %w", arn, err)
	}
	if ss == nil {
		return fmt.Errorf("%w %s: no SecretString (binary secrets are not supported)", ErrInvalidSecret, arn)
	}
	if err := json.Unmarshal([]byte(*ss), v); err != nil {
		return fmt.Errorf("%w %s: %s", ErrInvalidSecret, arn, describeJSONError(err))
	}
	return nil
}

// describeJSONError describes a decoding error without quoting the input:
// json.SyntaxError's message contains the offending character of the secret.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must not be a JSON %s", typ.Field, typ.Value)
	default:
		return "cannot decode JSON into the expected shape"
	}
}

// AlpacaCredentials is the service's own Alpaca API key pair; it is the shape
// of the secret at ALPACA_SECRET_ARN.
//
// It never prints its secret: String, Format (every fmt verb, %#v included),
// LogValue (log/slog) and MarshalJSON all show the key id and a redacted
// secret, so logging it by accident is harmless. Read SecretKey explicitly
// where the request to Alpaca is built.
type AlpacaCredentials struct {
	KeyID     string `json:"key_id"`
	SecretKey string `json:"secret_key"`
}

const redacted = "[REDACTED]"

// String implements fmt.Stringer without the secret.
func (c AlpacaCredentials) String() string {
	return fmt.Sprintf("AlpacaCredentials{KeyID:%q SecretKey:%s}", c.KeyID, c.redactedSecret())
}

// Format implements fmt.Formatter so that no verb (%v, %+v, %#v, %s, %q, %x…)
// can reach the fields directly.
func (c AlpacaCredentials) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(c.String()))
}

// LogValue implements slog.LogValuer without the secret.
func (c AlpacaCredentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("key_id", c.KeyID),
		slog.String("secret_key", c.redactedSecret()),
	)
}

// MarshalJSON encodes the key id and a redacted secret, so a JSON logger that
// ignores LogValue cannot leak it either. (Decoding is unaffected.)
func (c AlpacaCredentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		KeyID     string `json:"key_id"`
		SecretKey string `json:"secret_key"`
	}{c.KeyID, c.redactedSecret()})
}

func (c AlpacaCredentials) redactedSecret() string {
	if c.SecretKey == "" {
		return ""
	}
	return redacted
}

// Alpaca returns the service's Alpaca credentials:
//   - from ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY when both are set
//     (local runs);
//   - else from the JSON secret {"key_id","secret_key"} at ALPACA_SECRET_ARN,
//     read with sm (Lambda); both fields must be non-empty, else the error
//     wraps ErrInvalidSecret;
//   - else an error wrapping ErrNoCredentials.
//
// getenv is os.Getenv in production.
func Alpaca(ctx context.Context, getenv func(string) string, sm SecretsGetter) (AlpacaCredentials, error) {
	id, secret := getenv(EnvAlpacaKeyID), getenv(EnvAlpacaSecretKey)
	if id != "" && secret != "" {
		return AlpacaCredentials{KeyID: id, SecretKey: secret}, nil
	}
	arn := getenv(EnvAlpacaSecretARN)
	if arn == "" {
		if id != "" || secret != "" {
			return AlpacaCredentials{}, fmt.Errorf("%w: only one of %s and %s is set, and %s is not set",
				ErrNoCredentials, EnvAlpacaKeyID, EnvAlpacaSecretKey, EnvAlpacaSecretARN)
		}
		return AlpacaCredentials{}, fmt.Errorf("%w: set %s and %s, or %s",
			ErrNoCredentials, EnvAlpacaKeyID, EnvAlpacaSecretKey, EnvAlpacaSecretARN)
	}
	var c AlpacaCredentials
	if err := LoadSecret(ctx, sm, arn, &c); err != nil {
		return AlpacaCredentials{}, err
	}
	if c.KeyID == "" || c.SecretKey == "" {
		return AlpacaCredentials{}, fmt.Errorf("%w %s: key_id and secret_key must both be non-empty", ErrInvalidSecret, arn)
	}
	return c, nil
}
