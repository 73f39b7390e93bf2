package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// L2 kinds, as the banner names them.
const (
	l2External = "external"     // REDIS_URL
	l2Child    = "redis-server" // a redis-server child process
	l2Embedded = "embedded"     // miniredis, in this process
)

// redisStopGrace is how long a redis-server child gets to exit after
// SIGTERM before it is killed.
const redisStopGrace = 5 * time.Second

// l2 is the Redis chosen at start for the service's L2.
type l2 struct {
	kind string
	url  string // for the service; "" keeps REDIS_URL as the user set it
	pid  int    // the redis-server child's process id, 0 for other kinds
	stop func() error
}

// startL2 chooses the L2: REDIS_URL when set; else a redis-server child
// when one is on PATH and not refused by OPITIOS_NO_REDIS_SERVER; else the
// embedded server. A redis-server that is present but fails to start is an
// error, not a silent fall-back to the embedded server.
func startL2(ctx context.Context, s settings, log *slog.Logger) (*l2, error) {
	if s.redisURL != "" {
		return &l2{kind: l2External, stop: func() error { return nil }}, nil
	}
	if !s.noRedisServer {
		if bin, err := exec.LookPath("redis-server"); err == nil {
			rs, err := startRedisServer(ctx, bin, log)
			if err != nil {
				return nil, fmt.Errorf("%w (set %s=1 to use the embedded server instead)", err, envNoRedisServer)
			}
			log.Info("redis-server started", "pid", rs.cmd.Process.Pid, "addr", rs.addr)
			return &l2{kind: l2Child, url: "redis://" + rs.addr, pid: rs.cmd.Process.Pid, stop: rs.stop}, nil
		}
	}
	m := miniredis.NewMiniRedis()
	// TTLs follow the wall clock, as in a real server (miniredis's default
	// only moves them on FastForward).
	m.ClockTTL(true)
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	return &l2{kind: l2Embedded, url: "redis://" + m.Addr(), stop: func() error { m.Close(); return nil }}, nil
}

// redisServer is a redis-server child process on a loopback port, without
// persistence, in a temporary directory of its own.
type redisServer struct {
	addr   string
	cmd    *exec.Cmd
	dir    string
	exited chan struct{} // closed once the process has exited and been reaped
	log    *slog.Logger

	stopping chan struct{} // closed by stop
}

// startRedisServer starts bin on a free loopback port and waits until it
// answers PING. A port taken between choosing and binding it is retried on
// another port.
func startRedisServer(ctx context.Context, bin string, log *slog.Logger) (*redisServer, error) {
	dir, err := os.MkdirTemp("", "opitios-redis-")
	if err != nil {
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	var errs []error
	for range 3 {
		rs, err := launchRedisServer(ctx, bin, dir, log)
		if err == nil {
			return rs, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	_ = os.RemoveAll(dir)
	return nil, fmt.Errorf("redis-server did not start: %w", errors.Join(errs...))
}

func launchRedisServer(ctx context.Context, bin, dir string, log *slog.Logger) (*redisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile := filepath.Join(dir, "redis.log")
	rs := &redisServer{
		addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:      dir,
		exited:   make(chan struct{}),
		stopping: make(chan struct{}),
		log:      log,
	}
	rs.cmd = exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--dir", dir, "--logfile", logFile)
	rs.cmd.SysProcAttr = childProcAttr()
	if err := rs.cmd.Start(); err != nil {
		return nil, err
	}
	go rs.wait()
	if err := rs.waitReady(ctx, 10*time.Second); err != nil {
		rs.terminate()
		if b, rerr := os.ReadFile(logFile); rerr == nil && len(b) > 0 {
			err = fmt.Errorf("%w; its log: %s", err, lastLine(b))
		}
		return nil, err
	}
	return rs, nil
}

// wait reaps the process and reports an exit nobody asked for.
func (rs *redisServer) wait() {
	err := rs.cmd.Wait()
	select {
	case <-rs.stopping:
	default:
		rs.log.Warn("redis-server exited on its own: L2 is unavailable, requests go to L1 and the origin",
			"pid", rs.cmd.Process.Pid, "err", err)
	}
	close(rs.exited)
}

// waitReady polls PING until it answers, the process exits or d passes.
func (rs *redisServer) waitReady(ctx context.Context, d time.Duration) error {
	c := redis.NewClient(&redis.Options{Addr: rs.addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := c.Ping(pctx).Err()
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-rs.exited:
			return fmt.Errorf("redis-server on %s exited at start", rs.addr)
		case <-ctx.Done():
			return fmt.Errorf("redis-server on %s did not answer PING: %w", rs.addr, err)
		case <-tick.C:
		}
	}
}

// stop ends the process and removes its directory. It may be called more
// than once.
func (rs *redisServer) stop() error {
	rs.terminate()
	return os.RemoveAll(rs.dir)
}

// terminate ends the process (SIGTERM, then SIGKILL after redisStopGrace)
// and waits for it.
func (rs *redisServer) terminate() {
	select {
	case <-rs.stopping:
	default:
		close(rs.stopping)
	}
	select {
	case <-rs.exited:
	default:
		if err := rs.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			_ = rs.cmd.Process.Kill()
		}
		select {
		case <-rs.exited:
		case <-time.After(redisStopGrace):
			_ = rs.cmd.Process.Kill()
			<-rs.exited
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lastLine returns the last non-empty line of b.
func lastLine(b []byte) string {
	end := len(b)
	for end > 0 && (b[end-1] == '\n' || b[end-1] == '\r') {
		end--
	}
	start := end
	for start > 0 && b[start-1] != '\n' {
		start--
	}
	return string(b[start:end])
}
