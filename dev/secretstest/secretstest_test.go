package secretstest

import (
	"context"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestStartServesSecretsAndStopsAtCleanup(t *testing.T) {
	var endpoint string
	t.Run("server", func(t *testing.T) {
		endpoint = Start(t)
		if got := os.Getenv("AWS_ENDPOINT_URL"); got != endpoint {
			t.Fatalf("AWS_ENDPOINT_URL = %q, want %q", got, endpoint)
		}
		cfg, err := awsconfig.LoadDefaultConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c := secretsmanager.NewFromConfig(cfg)
		arn := Create(t, c, "secretstest/one", "v1")
		Put(t, c, arn, "v2")
		out, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("secretstest/one")})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.SecretString); got != "v2" {
			t.Fatalf("secret = %q, want v2", got)
		}
	})
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), time.Second)
	if err == nil {
		_ = conn.Close()
		t.Fatalf("moto_server still listening on %s after cleanup", endpoint)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and stops
// the calling goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = format
	for _, a := range args {
		r.msg += " " + toString(a)
	}
	runtime.Goexit()
}

func toString(a any) string {
	if e, ok := a.(error); ok {
		return e.Error()
	}
	return ""
}

func TestStartFailsWithInstallHintWhenMotoIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(r)
	}()
	<-done
	if !strings.Contains(r.msg, "pip install 'moto[server]'") {
		t.Fatalf("failure message %q lacks the install hint", r.msg)
	}
}
