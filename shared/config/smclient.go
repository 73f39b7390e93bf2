package config

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// SecretsClient reads secrets from AWS Secrets Manager with its one call
// this service makes, GetSecretValue, over the service's JSON protocol,
// signed with Signature Version 4. It replaces the AWS SDK, whose service
// client, endpoint rules and Smithy runtime were more than a tenth of every
// function's binary for this one request.
type SecretsClient struct {
	region   string
	keyID    string
	secret   string
	token    string
	endpoint *url.URL
	http     *http.Client
	now      func() time.Time
	backoff  func(attempt int) time.Duration
}

// NewSecretsClient returns a Secrets Manager client configured from the
// environment Lambda gives a function: the region (AWS_REGION, else
// AWS_DEFAULT_REGION) and the execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), with short
// per-attempt timeouts and at most three attempts. It reads no shared
// config or credentials files, SSO, web identity or instance metadata.
//
// The endpoint follows the AWS SDKs' rules: AWS_ENDPOINT_URL_SECRETS_MANAGER,
// else AWS_ENDPOINT_URL, else the regional AWS endpoint (the tests run
// against a local moto_server through them).
func NewSecretsClient(context.Context) (*SecretsClient, error) {
	return newSecretsClient(os.Getenv)
}

func newSecretsClient(getenv func(string) string) (*SecretsClient, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	c := &SecretsClient{region: region, keyID: getenv("AWS_ACCESS_KEY_ID"), secret: getenv("AWS_SECRET_ACCESS_KEY"),
		token: getenv("AWS_SESSION_TOKEN"), now: time.Now, backoff: secretsBackoff}
	if c.region == "" || c.keyID == "" || c.secret == "" {
		return nil, errors.New("config: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them)")
	}
	ep := secretsEndpoint(getenv)
	if ep == "" {
		ep = "https://secretsmanager." + c.region + ".amazonaws.com"
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("config: the Secrets Manager endpoint %q is not an http(s) URL", ep)
	}
	c.endpoint = u
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: secretsDialTimeout, KeepAlive: 30 * time.Second}).DialContext
	c.http = &http.Client{Transport: tr, Timeout: secretsAttemptTimeout}
	return c, nil
}

// secretsEndpoint is the endpoint the environment asks for, "" for the
// regional default.
func secretsEndpoint(getenv func(string) string) string {
	if ep := getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER"); ep != "" {
		return ep
	}
	return getenv("AWS_ENDPOINT_URL")
}

// Region is the client's AWS region.
func (c *SecretsClient) Region() string { return c.region }

// secretsBackoff is the wait before retry attempt n (1, 2, ...).
func secretsBackoff(n int) time.Duration {
	return min(secretsMaxBackoff, time.Duration(n)*100*time.Millisecond)
}

// SecretsError is an error answer of Secrets Manager.
type SecretsError struct {
	Status  int
	Type    string // e.g. ResourceNotFoundException
	Message string
}

func (e *SecretsError) Error() string {
	return fmt.Sprintf("secrets manager: %d %s: %s", e.Status, e.Type, e.Message)
}

// retryable reports whether another attempt may succeed: throttling and
// server errors.
func (e *SecretsError) retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || strings.Contains(e.Type, "Throttling")
}

// GetSecretString returns the current SecretString of the secret id (an ARN
// or a name), or nil when the secret holds a SecretBinary instead. Network
// failures, throttling and server errors are tried again, up to
// secretsMaxAttempts attempts in all.
func (c *SecretsClient) GetSecretString(ctx context.Context, id string) (*string, error) {
	body, err := json.Marshal(map[string]string{"SecretId": id})
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := range secretsMaxAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, errors.Join(last, ctx.Err())
			case <-time.After(c.backoff(attempt)):
			}
		}
		out, err := c.getOnce(ctx, body)
		if err == nil {
			return out, nil
		}
		last = err
		var se *SecretsError
		if ctx.Err() != nil || (errors.As(err, &se) && !se.retryable()) {
			break
		}
	}
	return nil, last
}

// getOnce makes one attempt of GetSecretValue.
func (c *SecretsClient) getOnce(ctx context.Context, body []byte) (*string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	c.sign(req, body, c.now().UTC())
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, secretsError(resp.StatusCode, b)
	}
	var out struct {
		SecretString *string
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("secrets manager: an answer that is not JSON (%d bytes)", len(b))
	}
	return out.SecretString, nil
}

// secretsError reads an error answer: {"__type": "...#Name", "message": "..."}.
func secretsError(status int, b []byte) error {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Msg     string `json:"Message"`
	}
	_ = json.Unmarshal(b, &e)
	se := &SecretsError{Status: status, Type: e.Type, Message: e.Message}
	if i := strings.LastIndexByte(se.Type, '#'); i >= 0 {
		se.Type = se.Type[i+1:]
	}
	if se.Message == "" {
		se.Message = e.Msg
	}
	return se
}

// sign adds the Signature Version 4 headers for the request with body,
// made at t, for the secretsmanager service.
func (c *SecretsClient) sign(req *http.Request, body []byte, t time.Time) {
	amzDate, day := t.Format("20060102T150405Z"), t.Format("20060102")
	payload := sha256Hex(body)
	req.Header.Set("X-Amz-Date", amzDate)
	if c.token != "" {
		req.Header.Set("X-Amz-Security-Token", c.token)
	}
	headers := map[string]string{"host": req.URL.Host}
	for k, vs := range req.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var canon strings.Builder
	for _, k := range names {
		canon.WriteString(k + ":" + strings.TrimSpace(headers[k]) + "\n")
	}
	signed := strings.Join(names, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	creq := strings.Join([]string{req.Method, path, req.URL.RawQuery, canon.String(), signed, payload}, "\n")
	scope := day + "/" + c.region + "/secretsmanager/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(creq))
	key := hmacSHA256([]byte("AWS4"+c.secret), day)
	for _, part := range []string{c.region, "secretsmanager", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.keyID+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
