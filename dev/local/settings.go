package main

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// Environment variables of the local server only. The service's own (TTLs,
// L1 sizes, origin budget, Redis timeout, feeds...) are shared/config's and
// are read exactly as the Lambda functions read them.
const (
	envPort          = "PORT"                      // API port on 127.0.0.1, default 3000; 0 picks a free one
	envSimAddr       = "ALPACA_SIM_ADDR"           // the simulator's listen address, default 127.0.0.1:9100
	envNoRedisServer = "OPITIOS_NO_REDIS_SERVER"   // true: never start redis-server, use the embedded server
	envLogLevel      = "LOG_LEVEL"                 // debug, info (default), warn, error
	envPrefetchEvery = "OPITIOS_PREFETCH_INTERVAL" // prefetch tick period, default 1m; 0 turns it off
	envSimAt         = service.EnvSimAt            // RFC 3339 instant: start the simulated market's clock there (simulator only)
)

const (
	defaultPort          = 3000
	defaultPrefetchEvery = time.Minute
)

// settings are the local server's choices, read from the environment.
type settings struct {
	addr          string // API listen address, always on 127.0.0.1
	simAddr       string
	redisURL      string // REDIS_URL, or "" to start or embed a server
	noRedisServer bool
	realAlpaca    bool // both Alpaca credentials are set: the origin is Alpaca
	keys          []auth.HashedKey
	devKeys       bool // keys are auth.DevKeys
	logLevel      slog.Level
	logFormat     string
	prefetchEvery time.Duration // 0: no prefetch tick
	simAt         time.Time     // zero: the real time
}

// parseSettings reads the settings. Errors name the variable and never
// echo a secret.
func parseSettings(getenv func(string) string) (settings, error) {
	s := settings{
		simAddr:   alpacasim.DefaultAddr,
		redisURL:  getenv(config.EnvRedisURL),
		logFormat: "text",
	}
	port, err := config.Int(getenv, envPort, defaultPort, 0, 65535)
	if err != nil {
		return s, err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if a := strings.TrimSpace(getenv(envSimAddr)); a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return s, fmt.Errorf("%s=%q: must be host:port, e.g. 127.0.0.1:9100", envSimAddr, a)
		}
		s.simAddr = a
	}
	if s.noRedisServer, err = config.Bool(getenv, envNoRedisServer, false); err != nil {
		return s, err
	}
	s.realAlpaca = getenv(config.EnvAlpacaKeyID) != "" && getenv(config.EnvAlpacaSecretKey) != ""
	if raw := getenv(config.EnvClientKeys); raw != "" {
		if s.keys, err = auth.ParseClientKeys(raw); err != nil {
			return s, fmt.Errorf("%s: %w", config.EnvClientKeys, err)
		}
	} else {
		s.keys, s.devKeys = auth.DevKeys(), true
	}
	if lv := getenv(envLogLevel); lv != "" {
		if err := s.logLevel.UnmarshalText([]byte(lv)); err != nil {
			return s, fmt.Errorf("%s=%q: must be debug, info, warn or error", envLogLevel, lv)
		}
	}
	if f := getenv(config.EnvLogFormat); f != "" {
		s.logFormat = f
	}
	if s.prefetchEvery, err = config.Duration(getenv, envPrefetchEvery, defaultPrefetchEvery, 0, 24*time.Hour); err != nil {
		return s, err
	}
	if s.prefetchEvery > 0 && s.prefetchEvery < time.Second {
		return s, fmt.Errorf("%s=%s: must be 0 (off) or at least 1s", envPrefetchEvery, s.prefetchEvery)
	}
	if at := getenv(envSimAt); at != "" {
		if s.simAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return s, fmt.Errorf("%s=%q: must be an RFC 3339 instant, e.g. 2026-11-25T14:00:00-05:00", envSimAt, at)
		}
		if s.realAlpaca {
			return s, fmt.Errorf("%s is for the simulator only: unset it, or unset %s and %s", envSimAt, config.EnvAlpacaKeyID, config.EnvAlpacaSecretKey)
		}
	}
	return s, nil
}

// keyIDs lists the client key ids, for the banner.
func (s settings) keyIDs() []string {
	ids := make([]string, len(s.keys))
	for i, k := range s.keys {
		ids[i] = k.ID
	}
	return ids
}
