package config

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSignMatchesTheAWSSDK: the Signature Version 4 headers of a
// GetSecretValue request are the AWS SDK signer's, byte for byte.
func TestSignMatchesTheAWSSDK(t *testing.T) {
	for _, token := range []string{"", "session-token-xyz"} {
		c := &SecretsClient{region: "us-east-1", keyID: "AKIDEXAMPLE", secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token: token}
		at := time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC)
		body := []byte(`{"SecretId":"arn:aws:secretsmanager:us-east-1:123456789012:secret:opitios/alpaca-AbCdEf"}`)
		newReq := func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "https://secretsmanager.us-east-1.amazonaws.com/", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			r.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
			return r
		}
		ours := newReq()
		c.sign(ours, body, at)

		sdk := newReq()
		sdk.ContentLength = 0 // as ours, the length is not a signed header
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.keyID, SecretAccessKey: c.secret, SessionToken: token},
			sdk, sha256Hex(body), "secretsmanager", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
			if got, want := ours.Header.Get(h), sdk.Header.Get(h); got != want {
				t.Errorf("token %q: %s\n ours %q\n  sdk %q", token, h, got, want)
			}
		}
	}
}

// fakeSM is a Secrets Manager endpoint that answers from a list of
// (status, body) in turn, recording each request's target and secret id.
type fakeSMServer struct {
	mu      sync.Mutex
	answers []string // "status body"
	ids     []string
}

func (f *fakeSMServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=id/") {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.ids = append(f.ids, string(b))
	a := f.answers[0]
	if len(f.answers) > 1 {
		f.answers = f.answers[1:]
	}
	status, body, _ := strings.Cut(a, " ")
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch status {
	case "500":
		w.WriteHeader(500)
	case "400":
		w.WriteHeader(400)
	case "429":
		w.WriteHeader(429)
	}
	io.WriteString(w, body)
}

func testSMClient(t *testing.T, answers ...string) (*SecretsClient, *fakeSMServer) {
	t.Helper()
	f := &fakeSMServer{answers: answers}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": srv.URL}
	c, err := newSecretsClient(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = func(int) time.Duration { return time.Millisecond }
	return c, f
}

func TestGetSecretString(t *testing.T) {
	c, f := testSMClient(t, `200 {"ARN":"arn:x","Name":"n","SecretString":"{\"a\":1}","VersionId":"v"}`)
	s, err := c.GetSecretString(context.Background(), "n")
	if err != nil || s == nil || *s != `{"a":1}` || len(f.ids) != 1 || f.ids[0] != `{"SecretId":"n"}` {
		t.Fatalf("%v %v %v", s, err, f.ids)
	}
	c, _ = testSMClient(t, `200 {"ARN":"arn:x","SecretBinary":"AAEC"}`)
	if s, err := c.GetSecretString(context.Background(), "n"); err != nil || s != nil {
		t.Fatalf("binary secret: %v %v", s, err)
	}
}

// TestGetSecretStringRetries: server errors and throttling are tried again,
// at most secretsMaxAttempts times in all; a client error is not.
func TestGetSecretStringRetries(t *testing.T) {
	c, f := testSMClient(t, `500 {}`, `429 {"__type":"ThrottlingException","message":"slow down"}`, `200 {"SecretString":"ok"}`)
	if s, err := c.GetSecretString(context.Background(), "n"); err != nil || *s != "ok" || len(f.ids) != 3 {
		t.Fatalf("%v %v after %d attempts", s, err, len(f.ids))
	}
	c, f = testSMClient(t, `500 {"__type":"InternalServiceError","message":"boom"}`)
	_, err := c.GetSecretString(context.Background(), "n")
	var se *SecretsError
	if !errors.As(err, &se) || se.Status != 500 || se.Type != "InternalServiceError" || len(f.ids) != secretsMaxAttempts {
		t.Fatalf("%v after %d attempts", err, len(f.ids))
	}
	c, f = testSMClient(t, `400 {"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}`)
	_, err = c.GetSecretString(context.Background(), "n")
	if !errors.As(err, &se) || se.Type != "ResourceNotFoundException" || !strings.Contains(se.Message, "can't find") || len(f.ids) != 1 {
		t.Fatalf("%v after %d attempts", err, len(f.ids))
	}
}

func TestSecretsClientRefusesABadEndpoint(t *testing.T) {
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "ftp://x"}
	if _, err := newSecretsClient(func(k string) string { return env[k] }); err == nil {
		t.Fatal("an ftp endpoint was accepted")
	}
	env["AWS_ENDPOINT_URL"] = ""
	c, err := newSecretsClient(func(k string) string { return env[k] })
	if err != nil || c.endpoint.String() != "https://secretsmanager.us-east-1.amazonaws.com" {
		t.Fatalf("%v %v", c.endpoint, err)
	}
}
