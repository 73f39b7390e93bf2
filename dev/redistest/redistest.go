// Package redistest gives tests the Redis servers `make test` starts, and
// starts private redis-server processes for tests that must stop, pause or
// restart one.
//
// Tests that need Redis fail (never skip) when it is missing: `make test`
// always provides it, and a test that silently skips proves nothing.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables set by `make test`.
const (
	EnvAddr         = "OPITIOS_TEST_REDIS_ADDR"          // host:port of a standalone redis-server
	EnvClusterAddrs = "OPITIOS_TEST_REDIS_CLUSTER_ADDRS" // comma list of the 3 cluster masters
)

// Addr returns the shared standalone server's address and flushes nothing:
// tests must use keys of their own (see Prefix).
func Addr(t testing.TB) string {
	t.Helper()
	a := os.Getenv(EnvAddr)
	if a == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts redis-server", EnvAddr)
	}
	return a
}

// Client returns a client of the shared standalone server, closed at cleanup.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: Addr(t)})
	t.Cleanup(func() { _ = c.Close() })
	ping(t, c)
	return c
}

// ClusterAddrs returns the cluster masters' addresses.
func ClusterAddrs(t testing.TB) []string {
	t.Helper()
	a := os.Getenv(EnvClusterAddrs)
	if a == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts a Redis Cluster", EnvClusterAddrs)
	}
	return strings.Split(a, ",")
}

// ClusterClient returns a client of the shared cluster, closed at cleanup.
func ClusterClient(t testing.TB) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: ClusterAddrs(t)})
	t.Cleanup(func() { _ = c.Close() })
	ping(t, c)
	return c
}

// Prefix returns a key prefix unique to this test, so tests sharing a server
// do not see each other's keys.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("test:%s:%d:", t.Name(), time.Now().UnixNano())
}

func ping(t testing.TB, c redis.UniversalClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis not reachable: %v", err)
	}
}

// Server is a private redis-server process on a free loopback port.
type Server struct {
	Addr string
	Port int
	args []string
	cmd  *exec.Cmd
	t    testing.TB
}

// StartServer starts a redis-server on 127.0.0.1 with no persistence and
// stops it when the test ends. Extra arguments are passed through (for
// example "--maxmemory", "1mb").
func StartServer(t testing.TB, extra ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed: `make test` installs it (%v)", err)
	}
	s := &Server{Port: FreePort(t), t: t}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	s.args = append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(s.Port),
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--enable-debug-command", "local"}, extra...)
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the process with the same port and arguments, empty.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command("redis-server", s.args...)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not start: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the process and waits for it; a stopped server stays stopped.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Client returns a client of this server, closed at cleanup.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TripHook is a go-redis hook that calls itself with the commands of each
// round trip to the server, before it is made: a command alone, or a
// pipeline's commands. Add it with AddHook to count or record round trips.
type TripHook func(cmds []redis.Cmder)

// DialHook leaves dialing alone.
func (h TripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook reports a command as a round trip of its own.
func (h TripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook reports a pipeline as one round trip.
func (h TripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h(cmds)
		return next(ctx, cmds)
	}
}
