package cache

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/redistest"
)

// writeCerts makes a CA and a server certificate for 127.0.0.1 in dir and
// returns the CA pool.
func writeCerts(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "opitios test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	write("server.pem", "CERTIFICATE", der)
	write("server.key", "EC PRIVATE KEY", kb)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool
}

// TestRedisTLSAndAuth runs the cache against a redis-server that only
// speaks TLS and requires a password, as ElastiCache does.
func TestRedisTLSAndAuth(t *testing.T) {
	dir := t.TempDir()
	pool := writeCerts(t, dir)
	port := redistest.FreePort(t)
	const password = "tls-auth-test-password"
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", "0", "--tls-port", fmt.Sprint(port),
		"--tls-cert-file", filepath.Join(dir, "server.pem"), "--tls-key-file", filepath.Join(dir, "server.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.pem"), "--tls-auth-clients", "no",
		"--requirepass", password, "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	rdb, err := NewRedis(RedisConfig{URL: "rediss://" + addr, Password: password, TLS: tlsCfg, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("TLS redis-server did not answer: %v", rdb.Ping(ctx).Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := New(Options{Redis: rdb, Clock: market.NewManualClock(regularNoon), L2: L2Options{Timeout: time.Second}})
	o := &origin{}
	if r, err := c.Get(ctx, StockQuote, "AAPL", o.fetch); err != nil || r.Layer != LayerOrigin {
		t.Fatalf("%v %v", r.Layer, err)
	}
	c.PurgeL1()
	if r, err := c.Get(ctx, StockQuote, "AAPL", o.fetch); err != nil || r.Layer != LayerL2 {
		t.Fatalf("over TLS: %v %v", r.Layer, err)
	}
	// The wrong password, no TLS, or an untrusted server are all refused.
	bad, _ := NewRedis(RedisConfig{URL: "rediss://" + addr, Password: "wrong", TLS: tlsCfg, Timeout: time.Second})
	defer bad.Close()
	if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(strings.ToUpper(err.Error()), "WRONGPASS") {
		t.Fatalf("wrong password: %v", err)
	}
	plain, _ := NewRedis(RedisConfig{URL: "redis://" + addr, Password: password, Timeout: 200 * time.Millisecond})
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Fatal("a plain-text connection to the TLS port worked")
	}
	untrusted, _ := NewRedis(RedisConfig{URL: "rediss://" + addr, Password: password, Timeout: time.Second})
	defer untrusted.Close()
	if err := untrusted.Ping(ctx).Err(); err == nil {
		t.Fatal("a server certificate from an unknown CA was accepted")
	}
}
