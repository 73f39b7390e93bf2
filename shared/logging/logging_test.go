package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

const leaked = "hunter2-SECRET-VALUE"

// secretValuer hides its secret behind LogValue, as a config struct might.
type secretValuer struct{}

func (secretValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key_id", "PK123"), slog.String("secret_key", leaked))
}

// logEverything logs the secret every way a caller might by mistake.
func logEverything(ctx context.Context, l *slog.Logger) {
	l.InfoContext(ctx, "top level", "password", leaked, "APCA-API-SECRET-KEY", leaked, "symbol", "AAPL")
	l.InfoContext(ctx, "nested groups",
		slog.Group("req", slog.Group("headers", slog.String("Authorization", "Bearer "+leaked), slog.String("Accept", "application/json"))))
	l.With("client_secret", leaked).InfoContext(ctx, "with attrs")
	l.WithGroup("alpaca").With(slog.Group("creds", "api_key", leaked)).InfoContext(ctx, "with group")
	l.InfoContext(ctx, "valuer", "config", secretValuer{})
	l.InfoContext(ctx, "secret group", slog.Group("credentials", "id", leaked))
	h := http.Header{}
	h.Set("Authorization", "Bearer "+leaked)
	h.Set("X-Api-Key", leaked)
	h.Set("Accept", "application/json")
	l.InfoContext(ctx, "headers", "headers", h,
		"query", map[string]string{"token": leaked, "page_token": "cursor1"},
		"body", map[string]any{"outer": map[string]any{"refresh_token": leaked}, "n": 1})
	l.InfoContext(ctx, "inline group", slog.Group("", "session_token", leaked))
}

func TestLoggerRedacts(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			l := NewLogger(&out, format, slog.LevelInfo)
			logEverything(WithRequest(context.Background(), "req-42", "GET /v2/stocks/{symbol}/quotes/latest"), l)
			s := out.String()
			if strings.Contains(s, leaked) {
				t.Errorf("secret leaked:\n%s", s)
			}
			if n := strings.Count(s, Redacted); n != 12 {
				t.Errorf("%d redactions, want 12:\n%s", n, s)
			}
			for _, kept := range []string{"AAPL", "application/json", "PK123", "cursor1"} {
				if !strings.Contains(s, kept) {
					t.Errorf("%q was lost:\n%s", kept, s)
				}
			}
			if n := strings.Count(s, "req-42"); n != 8 {
				t.Errorf("request id on %d records, want 8:\n%s", n, s)
			}
		})
	}
}

func TestLoggerJSONFields(t *testing.T) {
	var out bytes.Buffer
	l := NewLogger(&out, "json", slog.LevelInfo)
	ctx := WithRequest(context.Background(), "req-7", "GET /healthz")
	l.InfoContext(ctx, "served", "status", 200, "password", leaked)
	l.DebugContext(ctx, "below the level")
	l.Info("no request")
	dec := json.NewDecoder(&out)
	var first, second map[string]any
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Error("a debug record was written at level info")
	}
	if first["request_id"] != "req-7" || first["route"] != "GET /healthz" || first["msg"] != "served" ||
		first["status"] != 200.0 || first["password"] != Redacted {
		t.Errorf("first record = %v", first)
	}
	if _, ok := second["request_id"]; ok {
		t.Errorf("record without a request context has request_id: %v", second)
	}
}

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "DB_PASSWORD": true, "passwd": true, "secret": true, "client_secret": true,
		"APCA-API-SECRET-KEY": true, "secret_key": true, "Authorization": true, "Proxy-Authorization": true,
		"X-Api-Key": true, "apikey": true, "token": true, "access_token": true, "Session-Token": true,
		"Set-Cookie": true, "aws_credentials": true, "signature": true,
		"page_token": false, "next_page_token": false, "APCA-API-KEY-ID": false, "key_id": false,
		"symbol": false, "route": false, "request_id": false, "secrets_arn": false, "tokens_used": false,
	} {
		if got := IsSecretKey(key); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestRequestFromContext(t *testing.T) {
	if _, _, ok := RequestFromContext(context.Background()); ok {
		t.Error("empty context reports a request")
	}
	id, route, ok := RequestFromContext(WithRequest(context.Background(), "a", "b"))
	if id != "a" || route != "b" || !ok {
		t.Errorf("RequestFromContext = %q, %q, %v", id, route, ok)
	}
}

func TestMentionsSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"REDIS_URL": true, "REDIS_AUTH_SECRET_ARN": true, "OPITIOS_CLIENT_KEYS": true, "api_token": true,
		"ALPACA_API_KEY_ID": true, "MY_CREDENTIALS": true, "db_password": true,
		"REDIS_TIMEOUT_MS": false, "PREFETCH_TOP_N": false, "LOG_LEVEL": false,
	} {
		if got := MentionsSecret(name); got != want {
			t.Errorf("MentionsSecret(%q) = %v, want %v", name, got, want)
		}
	}
	for _, key := range []string{"password", "client_secret", "APCA-API-SECRET-KEY", "Authorization", "X-Api-Key", "token", "Set-Cookie", "aws_credentials"} {
		if IsSecretKey(key) && !MentionsSecret(key) {
			t.Errorf("%q is a secret key that MentionsSecret misses", key)
		}
	}
}

// TestIsSecretKeyFastPathAgreesWithLowerCasing: the allocation-free ASCII
// comparison decides as lower-casing with '-' read as '_' does.
func TestIsSecretKeyFastPathAgreesWithLowerCasing(t *testing.T) {
	keys := []string{"", "secret", "SECRET", "Client-Secret", "x_secret_key", "APCA-API-SECRET-KEY", "APCA-API-KEY-ID",
		"Authorization", "X-Api-Key", "x-apikey", "Set-Cookie", "cookies", "page_token", "NEXT-PAGE-TOKEN", "Access-Token",
		"token", "tokens", "request_id", "route", "status", "cache", "latency_ms", "key_id", "passwd", "DB_PASSWORD",
		"signature", "x-amz-Signature", "credentials", "creds", "a-b-c", "_", "-", "ecret", "secre"}
	for _, k := range keys {
		if got, want := IsSecretKey(k), isSecretKeyUnicode(k); got != want {
			t.Errorf("IsSecretKey(%q) = %v; lower-casing says %v", k, got, want)
		}
	}
	if !IsSecretKey("api_\u212Aey") { // the Kelvin sign lower-cases to 'k'
		t.Error(`IsSecretKey("api_\u212Aey") = false`)
	}
}
