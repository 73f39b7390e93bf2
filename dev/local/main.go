// Command local runs the whole service on one machine: what `make run`
// starts.
//
//	go run ./dev/local
//
// It serves the API on 127.0.0.1:3000 (PORT to change it) through a local
// stand-in for API Gateway (shared/gateway) that builds the exact payload-2.0
// event, applies the real authorizer (shared/auth) first, and runs the same
// handler as functions/api, in-process and concurrently. GET /metrics serves
// the service's metrics to Prometheus, without authentication.
//
// Its dependencies are chosen at start and stated in a banner on stdout:
//   - L2: REDIS_URL when set; else a redis-server from PATH, started as a
//     child on a free loopback port without persistence and stopped on exit
//     (on Linux the kernel kills it if this program dies first); else an
//     embedded Redis-protocol server (miniredis), in memory, in this process.
//     OPITIOS_NO_REDIS_SERVER=1 skips redis-server.
//   - Origin: Alpaca when ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY are set
//     (ALPACA_FEED, ALPACA_DATA_URL as for the functions); else the bundled
//     simulator (dev/alpacasim) served in-process on ALPACA_SIM_ADDR (default
//     127.0.0.1:9100), whose answers are attributed alpaca-sim.
//     OPITIOS_SIM_AT=<RFC 3339 instant> starts the simulated market's clock
//     (the simulator's and the service's) at that instant, to see a trading
//     session on a weekend.
//   - Client keys: OPITIOS_CLIENT_KEYS (id:secret,...); else the development
//     pair dev / dev-secret.
//
// Every other setting of the service (TTLs, L1 bounds, origin budget, Redis
// timeout) is read from the same environment variables as in Lambda
// (shared/config). Logs are text on stderr at LOG_LEVEL (default info).
//
// A prefetch tick runs the job of functions/prefetch (PREFETCH_* as there)
// every OPITIOS_PREFETCH_INTERVAL (default 1m; 0 turns it off).
//
// SIGINT or SIGTERM shuts everything down in order: the API server (in-flight
// requests get shutdownGrace), the prefetch tick, the Redis connections, the
// simulator, then the L2 server it started. A clean shutdown exits 0; a
// second signal during it ends the program at once.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/opitios/opitios-alpaca/dev/gateway"
	"github.com/opitios/opitios-alpaca/dev/promsink"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/logging"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// Deadlines of one invocation, as the stack's function timeouts set them
// (infra/stack's defaults), so a slow origin fails here as it would there.
const (
	apiTimeout        = 10 * time.Second
	authorizerTimeout = 5 * time.Second
)

// shutdownGrace is how long in-flight requests get to finish on shutdown
// before their connections are cut.
const shutdownGrace = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, the next one gets the default action.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "opitios local:", err)
		os.Exit(1)
	}
}

// run starts everything, serves until ctx ends, then stops everything it
// started, in order. The banner goes to stdout, logs to stderr.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	set, err := parseSettings(getenv)
	if err != nil {
		return err
	}
	logs := newBufferedWriter(stderr, logBufferBytes, logFlushEvery)
	defer logs.Close() // deferred first, so it runs last: after every other log line
	log := logging.NewLogger(logs, set.logFormat, set.logLevel)

	// Everything started is stopped in reverse order, also on a failed start.
	var stops []func() error
	stopAll := func() error {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i]())
		}
		stops = nil
		return errors.Join(errs...)
	}
	defer func() { err = errors.Join(err, stopAll()) }()

	if a := getenv(envPprofAddr); a != "" {
		stopPprof, err := startPprof(a, log)
		if err != nil {
			return err
		}
		stops = append(stops, stopPprof)
	}

	store, err := auth.NewKeyStore(set.keys)
	if err != nil {
		return fmt.Errorf("%s: %w", config.EnvClientKeys, err)
	}

	cache, err := startL2(ctx, set, log)
	if err != nil {
		return err
	}
	stops = append(stops, cache.stop)

	// The service's clock is set below, to the one the simulator reads: the
	// service must not start a second simulated clock of its own.
	over := map[string]string{envSimAt: ""}
	if cache.url != "" {
		over[config.EnvRedisURL] = cache.url
		over[config.EnvRedisCluster] = "false"
	}
	// The clock of the market: the real time, or with OPITIOS_SIM_AT the
	// simulated market's, shared by the simulator and the service so both see
	// the same session.
	clock := market.SystemClock
	if !set.simAt.IsZero() {
		offset := time.Until(set.simAt)
		clock = market.ClockFunc(func() time.Time { return time.Now().Add(offset) })
	}
	var sim *simulator
	if !set.realAlpaca {
		if sim, err = startSimulator(set.simAddr, clock, log); err != nil {
			return err
		}
		stops = append(stops, func() error {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			return sim.stop(sctx)
		})
		over[config.EnvAlpacaKeyID] = simKeyID
		over[config.EnvAlpacaSecretKey] = simSecretKey
		over[config.EnvAlpacaDataURL] = sim.url
	}
	if getenv(config.EnvOriginInstances) == "" {
		over[config.EnvOriginInstances] = "1" // one process is the whole fleet
	}
	cfg, err := service.FromEnv(ctx, overlay(over, getenv), nil)
	if err != nil {
		return err
	}
	cfg.Clock = clock
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Metrics = metrics.New(metrics.Options{Sink: promsink.New(reg)})
	cfg.Logger = log
	service.TuneGC(getenv, cfg.MemoryLimitMB) // as in Lambda
	svc, err := service.New(cfg)
	if err != nil {
		return err
	}
	stops = append(stops, svc.Close)
	pf, err := startPrefetch(cfg, set.prefetchEvery, overlay(over, getenv))
	if err != nil {
		return err
	}
	stops = append(stops, pf.stop)

	l2ok := true
	if svc.Redis != nil {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if perr := svc.Cache.Ping(pctx); perr != nil {
			l2ok = false
			log.Warn("L2 is not reachable now: requests go to L1 and the origin until it is", "l2", cfg.DescribeL2(), "err", perr)
		}
		cancel()
	}

	simURL := ""
	if sim != nil {
		simURL = sim.url
	}
	hub, err := startHub(ctx, getenv, svc, simURL, store, clock, log)
	if err != nil {
		return err
	}
	if hub != nil {
		stops = append(stops, hub.stop)
	}

	authz := auth.NewAuthorizer(func(context.Context) (*auth.KeyStore, error) { return store, nil }, log)
	window, err := config.RevocationWindow(getenv)
	if err != nil {
		return err
	}
	verdictTTL, _ := config.RevocationSplit(window)
	gw := &gateway.Gateway{
		Routes:     catalog.Templates(),
		Public:     map[string]bool{catalog.PathHealth: true},
		Handler:    withDeadline(svc.API.Handle, apiTimeout),
		Authorizer: authorizerWithDeadline(authz.Handle, authorizerTimeout),
		// As the stack's ResultsCacheTtl: API Gateway calls the authorizer
		// once per pair of key headers per TTL, not once per request.
		AuthorizerCacheTTL: verdictTTL,
	}
	ln, err := net.Listen("tcp", set.addr)
	if err != nil {
		return fmt.Errorf("API: %w (set %s to another port)", err, envPort)
	}
	srv := &http.Server{
		Handler:           withHub(hub, routes(gw, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))),
		ReadHeaderTimeout: 10 * time.Second,
		// API Gateway (HTTP API) refuses a request line and headers over
		// 10 KiB; so does the local gateway, in Alpaca's error shape. The
		// server's own limit is far above, so the gateway sees them.
		MaxHeaderBytes: gateway.ServerMaxHeaderBytes,
		IdleTimeout:    2 * time.Minute,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// The start-up log lines are out before the banner says ready.
	_ = logs.Flush()
	writeBanner(stdout, bannerInfo{
		apiURL:    "http://" + ln.Addr().String(),
		l2:        cache,
		l2Desc:    cfg.DescribeL2(),
		l2OK:      l2ok,
		sim:       sim,
		originURL: cfg.Alpaca.BaseURL,
		feed:      cfg.Alpaca.StockFeed,
		set:       set,
		prefetch:  pf.describe(),
		hub:       hub,
	})
	log.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("API server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running at the end of the grace period were cut", "grace", shutdownGrace)
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("API server: %w", err)
	}
	if err := stopAll(); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// routes sends GET /metrics to the Prometheus handler and everything else
// to the gateway, which answers 404 for paths the API does not route, as
// API Gateway does. No ServeMux: it would clean and redirect paths that API
// Gateway passes on as they are.
func routes(gw, prom http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			prom.ServeHTTP(w, r)
			return
		}
		gw.ServeHTTP(w, r)
	})
}

// withDeadline bounds each invocation by d, as Lambda's timeout does.
func withDeadline(h gateway.Handler, d time.Duration) gateway.Handler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return h(ctx, ev)
	}
}

// authorizerWithDeadline bounds each authorizer invocation by d.
func authorizerWithDeadline(a gateway.Authorizer, d time.Duration) gateway.Authorizer {
	return func(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return a(ctx, ev)
	}
}

// overlay returns getenv with the values of over in front.
func overlay(over map[string]string, getenv func(string) string) func(string) string {
	return func(k string) string {
		if v, ok := over[k]; ok {
			return v
		}
		return getenv(k)
	}
}
