package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
)

// The systems under load. Each runs in a process of its own, so the load
// generator and the server share the machine the same way for all of them.
const (
	sysOurs  = "ours"  // the `make run` program (dev/local)
	sysBare  = "bare"  // net/http returning one body: the throughput floor
	sysNaive = "naive" // the original design (naive.go) with its own simulator
)

// Roles of the bench binary started as a child (-serve).
const (
	roleBare  = "bare"
	roleNaive = "naive"
)

// bareHandler answers every request with body, as JSON: the least a Go HTTP
// server can do per request on this machine.
func bareHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

// serveRole runs the bench as a child server until ctx ends: role bare
// serves the file bodyFile on addr; role naive serves the original design on
// addr over the Redis at redisURL, with a simulator on simAddr as its origin.
func serveRole(ctx context.Context, role, addr, simAddr, redisURL, bodyFile string) error {
	var h http.Handler
	var servers []*http.Server
	switch role {
	case roleBare:
		body, err := os.ReadFile(bodyFile)
		if err != nil {
			return err
		}
		h = bareHandler(body)
	case roleNaive:
		opt, err := redis.ParseURL(redisURL)
		if err != nil {
			return err
		}
		opt.PoolSize = 100 // the original design's max_connections
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		sim := &http.Server{Handler: alpacasim.New(alpacasim.Config{}), ReadHeaderTimeout: 10 * time.Second}
		ln, err := net.Listen("tcp", simAddr)
		if err != nil {
			return fmt.Errorf("simulator: %w", err)
		}
		go sim.Serve(ln)
		servers = append(servers, sim)
		h = newNaive(rdb, "http://"+simAddr, "bench", "bench")
	default:
		return fmt.Errorf("unknown -serve role %q", role)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	servers = append(servers, srv)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			s.Close()
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
