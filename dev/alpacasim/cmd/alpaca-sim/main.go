// Command alpaca-sim serves the Alpaca Market Data simulator
// (dev/alpacasim) over HTTP, for `make run`, load tests and fault tests.
//
//	go run ./dev/alpacasim/cmd/alpaca-sim --addr 127.0.0.1:9100 --rate-limit 200
//
// Point an Alpaca client's data base URL at http://<addr>. Every response
// carries X-Alpaca-Simulator: true. Faults can be switched at run time through
// the /_sim/ endpoints (see --help). SIGINT or SIGTERM shuts it down
// gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/market"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "alpaca-sim:", err)
		os.Exit(1)
	}
}

// errUsage wraps a command-line error, already reported with the usage text.
var errUsage = errors.New("usage")

// shutdownGrace is how long in-flight requests get to finish on shutdown
// before their connections are cut.
const shutdownGrace = 5 * time.Second

const usageText = `alpaca-sim: a local simulator of Alpaca's Market Data API.

Serves /v2/stocks/{symbol}/quotes/latest, /v2/stocks/quotes/latest,
/v2/stocks/{symbol}/bars, /v2/stocks/bars, /v1beta1/options/quotes/latest,
/v1beta1/options/snapshots, /v1beta1/options/snapshots/{underlying} and
/v2/calendar with Alpaca's shapes, and X-Alpaca-Simulator: true on every
response. Data are deterministic in (seed, symbol, time) and follow the NYSE
calendar.

Control endpoints (no keys needed, not counted):
  GET  /_sim/stats                      request counts per route
  POST /_sim/reset                      zero the counts and the rate window
  POST /_sim/fault?name=NAME            none, hang, html500, truncated_json,
                                        rate_limit_storm, unauthorized
  POST /_sim/latency?d=250ms            added latency
  POST /_sim/error-rate?rate=0.1        fraction of requests answered 500
  POST /_sim/rate-limit?per_minute=200  request budget per minute (0 = none)
  POST /_sim/vanish?symbol=AAPL         make a symbol unknown

Flags:
`

// run parses args, serves until ctx ends, then shuts down gracefully. Usage
// and diagnostics go to stderr; ready, if not nil, receives the address
// listened on once the server accepts connections.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("alpaca-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	var (
		addr      = fs.String("addr", alpacasim.DefaultAddr, "listen `address` (host:port; port 0 picks a free one)")
		latency   = fs.Duration("latency", 0, "`delay` added to every request, e.g. 50ms")
		errorRate = fs.Float64("error-rate", 0, "`fraction` of requests answered 500, in [0, 1]")
		rateLimit = fs.Int("rate-limit", 0, "requests allowed per clock minute before 429 (0 = unlimited); Alpaca's free plan allows 200")
		keyID     = fs.String("key-id", "", "required APCA-API-KEY-ID (empty: any non-empty key)")
		secretKey = fs.String("secret-key", "", "required APCA-API-SECRET-KEY (empty: any non-empty secret)")
		seed      = fs.Int64("seed", 0, "seed of the simulated market and of the error sequence")
		atFlag    = fs.String("at", "", "start the simulated clock at this RFC 3339 `instant` (it then advances in real time); empty: the real time")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %q\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	if *errorRate < 0 || *errorRate > 1 || *rateLimit < 0 || *latency < 0 {
		fmt.Fprintln(stderr, "--error-rate must be in [0, 1]; --rate-limit and --latency must not be negative")
		fs.Usage()
		return errUsage
	}
	clock := market.SystemClock
	if *atFlag != "" {
		at, err := time.Parse(time.RFC3339Nano, *atFlag)
		if err != nil {
			fmt.Fprintf(stderr, "--at: %v\n", err)
			fs.Usage()
			return errUsage
		}
		offset := time.Until(at)
		clock = market.ClockFunc(func() time.Time { return time.Now().Add(offset) })
	}

	sim := alpacasim.New(alpacasim.Config{
		Addr:               *addr,
		KeyID:              *keyID,
		SecretKey:          *secretKey,
		Latency:            *latency,
		ErrorRate:          *errorRate,
		RateLimitPerMinute: *rateLimit,
		Clock:              clock,
		Seed:               *seed,
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv := &http.Server{
		Handler:           sim,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("alpaca-sim listening", "addr", ln.Addr().String(), "universe", len(alpacasim.Universe()),
		"option_underlyings", len(alpacasim.OptionUnderlyings()), "rate_limit", *rateLimit,
		"latency", *latency, "error_rate", *errorRate, "seed", *seed, "clock_at", *atFlag)
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("alpaca-sim shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Requests held by the Hang fault or a long latency: cut them.
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
