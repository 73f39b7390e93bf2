// Package secretstest runs a private, local AWS Secrets Manager (moto_server)
// for tests, so the real SDK client is exercised over HTTP on loopback.
//
// A test that needs it fails (never skips) when moto_server is missing:
// `make test` installs it, and a skipped test proves nothing.
package secretstest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

const startTimeout = 60 * time.Second

// Start launches moto_server on a free 127.0.0.1 port, waits until it
// answers HTTP, and stops it (and its process group) at cleanup. It points
// the AWS SDK at it for the rest of the test with t.Setenv:
// AWS_ENDPOINT_URL, static test credentials, AWS_REGION=us-east-1, and no
// shared config files or instance metadata. It returns the endpoint URL.
//
// Because of t.Setenv, the calling test and its parents must not be parallel.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server not found on PATH (%v): install it with pip install 'moto[server]'", err)
	}
	port := freePort(t)
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})

	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	waitReady(t, endpoint, exited, out)

	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return endpoint
}

func waitReady(t testing.TB, endpoint string, exited <-chan struct{}, out *syncBuffer) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(endpoint + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("moto_server exited before answering; output:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within %s; output:\n%s", endpoint, startTimeout, out.String())
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// Client is an AWS SDK Secrets Manager client configured from the
// environment (after Start: the local server), for the tests' own writes:
// creating, updating and deleting secrets.
func Client(t testing.TB) *secretsmanager.Client {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("AWS SDK configuration: %v", err)
	}
	return secretsmanager.NewFromConfig(cfg)
}

// Create creates the secret name holding value (a SecretString) and returns
// its ARN.
func Create(t testing.TB, c *secretsmanager.Client, name, value string) string {
	t.Helper()
	out, err := c.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(value),
	})
	if err != nil {
		t.Fatalf("create secret %s: %v", name, err)
	}
	return aws.ToString(out.ARN)
}

// Put stores value as the new current version of the secret id.
func Put(t testing.TB, c *secretsmanager.Client, id, value string) {
	t.Helper()
	if _, err := c.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(id),
		SecretString: aws.String(value),
	}); err != nil {
		t.Fatalf("put secret %s: %v", id, err)
	}
}

// syncBuffer collects the server's output for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
