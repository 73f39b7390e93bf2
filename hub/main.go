// Command hub is the stream hub: it holds the one Alpaca real-time stream
// per feed for the whole deployment (a Redis lease elects the holder among
// the running hubs), writes every quote, trade and bar into the shared
// cache, and serves any number of clients with Alpaca's stream protocol on
// Alpaca's paths (/v2/iex, ...). See shared/stream.
//
// Configuration is the service's (REDIS_URL, ALPACA_SECRET_ARN or
// ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY, CLIENT_KEYS_SECRET_ARN or
// OPITIOS_CLIENT_KEYS, ALPACA_FEED, ...; shared/config) and the stream's
// (STREAM_FEEDS, STREAM_URL, STREAM_HOT_SYMBOLS, STREAM_SYMBOL_LIMIT;
// shared/stream). It listens on :PORT (default 8080) and answers GET
// /healthz 200 while every feed's upstream is held, here or by another hub.
// Logs are JSON on stdout, with an embedded-metric document of the hub's
// counters every minute (stream.EMFWriter).
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/service"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, log); err != nil {
		log.Error("hub", "err", err.Error())
		os.Exit(1)
	}
}

// run serves until ctx ends.
func run(ctx context.Context, getenv func(string) string, log *slog.Logger) error {
	var sm config.SecretsGetter
	if getenv(config.EnvAlpacaSecretARN) != "" || getenv(config.EnvClientKeysSecretARN) != "" || getenv(config.EnvRedisAuthARN) != "" {
		c, err := config.NewSecretsClient(ctx)
		if err != nil {
			return err
		}
		sm = c
	}
	cfg, err := service.FromEnv(ctx, getenv, sm)
	if err != nil {
		return err
	}
	cfg.Logger = log
	service.TuneGC(getenv, 0) // the stack sets GOMEMLIMIT from the task's memory
	svc, err := service.New(cfg)
	if err != nil {
		return err
	}
	defer svc.Close()
	keys, err := clientKeys(getenv, sm, log)
	if err != nil {
		return err
	}
	o, err := stream.FromEnv(getenv)
	if err != nil {
		return err
	}
	o.KeyID, o.SecretKey = cfg.Alpaca.KeyID, cfg.Alpaca.SecretKey
	o.StockFeed, o.OptionFeed = svc.Config.Alpaca.StockFeed, svc.Config.Alpaca.OptionFeed
	o.Keys, o.Redis, o.Cache, o.Clock, o.Logger = keys, svc.Redis, svc.Cache, cfg.Clock, log
	h, err := stream.New(o)
	if err != nil {
		return err
	}
	go emitMetrics(ctx, h, o.Clock)
	return serve(ctx, h, ":"+cmp.Or(getenv("PORT"), "8080"), log)
}

// emitMetrics writes the hub's CloudWatch embedded-metric document to
// stdout every minute (the awslogs driver ships it to CloudWatch Logs).
func emitMetrics(ctx context.Context, h *stream.Hub, clock market.Clock) {
	if clock == nil {
		clock = market.SystemClock
	}
	w := stream.NewEMFWriter(h)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = w.Write(os.Stdout, clock.Now())
		}
	}
}

// clientKeys returns the client key store: the secret's when
// CLIENT_KEYS_SECRET_ARN is set, else OPITIOS_CLIENT_KEYS.
func clientKeys(getenv func(string) string, sm config.SecretsGetter, log *slog.Logger) (func(context.Context) (*auth.KeyStore, error), error) {
	if arn := getenv(config.EnvClientKeysSecretARN); arn != "" {
		window, err := config.RevocationWindow(getenv)
		if err != nil {
			return nil, err
		}
		_, refresh := config.RevocationSplit(window)
		l, err := auth.NewLoader(sm, arn, auth.LoaderOptions{Refresh: refresh, Logger: log})
		if err != nil {
			return nil, err
		}
		return l.Load, nil
	}
	keys, err := auth.ParseClientKeys(getenv(config.EnvClientKeys))
	if err != nil {
		return nil, err
	}
	store, err := auth.NewKeyStore(keys)
	if err != nil {
		return nil, err
	}
	return func(context.Context) (*auth.KeyStore, error) { return store, nil }, nil
}

// serve runs the hub and its HTTP server until ctx ends.
func serve(ctx context.Context, h *stream.Hub, addr string, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := h.Healthy(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	for _, p := range h.Paths() {
		mux.Handle(p, h)
	}
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = h.Run(ctx)
	}()
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	log.Info("hub serving", "addr", addr, "paths", h.Paths())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-runDone
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
