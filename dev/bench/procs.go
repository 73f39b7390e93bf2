package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a child gets to exit after SIGTERM before it is
// killed.
const stopGrace = 10 * time.Second

// child is a process the bench started (a server under test, a
// redis-server). Its output goes to a log file in the output directory.
type child struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed once the process has exited and been reaped
}

// startChild starts bin with args and env (added to a clean copy of ours),
// logging to dir/name.log.
func startChild(name, dir string, env []string, bin string, args ...string) (*child, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(c.done)
	}()
	return c, nil
}

// cleanEnv is this process's environment without the variables that would
// point a child at real Alpaca credentials, other keys or another Redis.
func cleanEnv() []string {
	drop := []string{"ALPACA_API_KEY_ID=", "ALPACA_API_SECRET_KEY=", "ALPACA_DATA_URL=", "ALPACA_SECRET_ARN=",
		"OPITIOS_CLIENT_KEYS=", "CLIENT_KEYS_SECRET_ARN=", "REDIS_URL=", "REDIS_CLUSTER=", "REDIS_AUTH_SECRET_ARN=",
		"PORT=", "ALPACA_SIM_ADDR=", "LOG_LEVEL=", "ORIGIN_BUDGET_PER_MINUTE="}
	var out []string
	for _, kv := range os.Environ() {
		keep := true
		for _, d := range drop {
			if strings.HasPrefix(kv, d) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// exited reports whether the process has exited.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGTERM, then SIGKILL after stopGrace. It may be
// called more than once.
func (c *child) stop() {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(stopGrace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// tail is the end of the child's log, for error messages.
func (c *child) tail() string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// logKeepBytes is how much of a long child log trimLog keeps.
const logKeepBytes = 256 << 10

// trimLog cuts the child's log, once the child has exited, to its last keep
// bytes (a server logging every request at full speed writes hundreds of
// MB).
func (c *child) trimLog(keep int64) {
	if !c.exited() {
		c.stop()
	}
	f, err := os.Open(c.log)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= keep {
		return
	}
	tail := make([]byte, keep)
	if _, err := f.ReadAt(tail, fi.Size()-keep); err != nil {
		return
	}
	note := fmt.Sprintf("[bench: the first %d bytes of this log were cut]\n", fi.Size()-keep)
	_ = os.WriteFile(c.log, append([]byte(note), tail...), 0o644)
}

// rss is the child's resident set size in bytes (Linux /proc).
func (c *child) rss() (int64, error) {
	return procRSS(c.cmd.Process.Pid)
}

// cpu is the CPU time (user + system) the child has used so far.
func (c *child) cpu() (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// userHZ is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on every
// Linux this runs on).
const userHZ = 100

// parseStatCPU returns utime + stime of a /proc/PID/stat line. The command
// name, in parentheses, may hold spaces: fields are counted after its ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// procRSS reads VmRSS of pid from /proc.
func procRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseVmRSS(f)
}

// parseVmRSS returns the VmRSS line of a /proc/PID/status file, in bytes.
func parseVmRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("VmRSS: unexpected %q", rest)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("VmRSS: not found")
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitHTTP polls url until it answers 200, the child exits or d passes.
func waitHTTP(ctx context.Context, c *child, url string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if c != nil && c.exited() {
			return fmt.Errorf("%s exited at start: %s", c.name, c.tail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s: %w", url, d, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// redisServer is a redis-server child on a fixed loopback port, without
// persistence, that can be restarted on the same port (the soak does).
type redisServer struct {
	bin  string
	addr string
	dir  string
	n    int // starts so far, to name the logs
	proc *child
}

// startRedis starts a redis-server on a free port.
func startRedis(ctx context.Context, dir string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server is not installed: run `make deps`")
	}
	var errs []error
	for range 3 {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		r := &redisServer{bin: bin, addr: addr, dir: dir}
		if err = r.start(ctx); err == nil {
			return r, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// start (re)starts the server on its port and waits until it answers.
func (r *redisServer) start(ctx context.Context) error {
	_, port, _ := net.SplitHostPort(r.addr)
	r.n++
	data, err := os.MkdirTemp("", "opitios-bench-redis-")
	if err != nil {
		return err
	}
	p, err := startChild(fmt.Sprintf("redis-%s-%d", port, r.n), r.dir, nil, r.bin,
		"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", data)
	if err != nil {
		return err
	}
	go func() { <-p.done; os.RemoveAll(data) }()
	r.proc = p
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if err := r.ping(); err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("redis-server on %s exited at start: %s", r.addr, p.tail())
		}
		select {
		case <-ctx.Done():
			p.stop()
			return fmt.Errorf("redis-server on %s did not answer PING", r.addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ping sends PING in the inline protocol.
func (r *redisServer) ping() error {
	_, err := r.do("PING")
	return err
}

// flush empties the server (it is the bench's own).
func (r *redisServer) flush() error {
	_, err := r.do("FLUSHALL")
	return err
}

// do sends one inline command and returns the first line of the answer.
func (r *redisServer) do(cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", r.addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return "", err
	}
	line = bytes.TrimSpace(line)
	if len(line) > 0 && line[0] == '-' {
		return "", fmt.Errorf("redis %s: %s", cmd, line[1:])
	}
	return string(line), nil
}

// restart stops the server and starts it again, empty, on the same port.
func (r *redisServer) restart(ctx context.Context) error {
	r.proc.stop()
	return r.start(ctx)
}

func (r *redisServer) url() string { return "redis://" + r.addr }

func (r *redisServer) stop() {
	if r.proc != nil {
		r.proc.stop()
	}
}
