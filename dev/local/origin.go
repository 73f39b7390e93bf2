package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// The simulator's credentials. The origin client sends them and the
// simulator requires them, as Alpaca would require the service's own keys;
// clients never see them.
const (
	simKeyID     = "local-sim-key"
	simSecretKey = "local-sim-secret"
)

// simulator is the bundled Alpaca simulator, served in-process.
type simulator struct {
	url    string
	srv    *http.Server
	served chan error
}

// startSimulator serves the simulator on addr, with its market at clock's
// time.
func startSimulator(addr string, clock market.Clock, log *slog.Logger) (*simulator, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("alpaca simulator: %w (set %s to another host:port)", err, envSimAddr)
	}
	s := &simulator{
		url: "http://" + ln.Addr().String(),
		srv: &http.Server{
			Handler:           alpacasim.NewStreams(alpacasim.New(alpacasim.Config{KeyID: simKeyID, SecretKey: simSecretKey, Clock: clock}), alpacasim.StreamConfig{}),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		served: make(chan error, 1),
	}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// stop shuts the simulator down, cutting the requests still running when
// ctx ends.
func (s *simulator) stop(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
