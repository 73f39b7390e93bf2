// Package service assembles the parts (Redis, the two-level cache, the
// origin client and its fleet budget, the hot-set feed, metrics) into the
// API handler and the prefetch job, from configuration. The Lambda
// functions, the local server and the end-to-end tests all build the service
// here, so they run the same code.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/budget"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/hitrate"
	"github.com/opitios/opitios-alpaca/shared/hotset"
	"github.com/opitios/opitios-alpaca/shared/logging"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// Config is everything the service needs. The zero value of each field
// means its default.
type Config struct {
	Redis        cache.RedisConfig // URL "" means no L2 (L1 and origin only)
	Alpaca       alpaca.Config     // BaseURL, credentials, feeds
	BudgetPerMin int               // fleet-wide origin budget, default config.DefaultOriginBudgetPerMin
	// OriginInstances is the most instances sharing the budget at once,
	// default config.DefaultOriginInstances: with Redis unreachable each
	// falls back to its share (budget.FallbackShape).
	OriginInstances int
	Policy          cache.Policy
	L1              cache.L1Options
	MemoryLimitMB   int // the function's memory size; L1 is dropped above 80 % of it
	// Clock is the service's one clock: the cache's sessions and TTLs, the
	// origin client's (reading the origin's rate-limit reset against it,
	// unless Alpaca.Clock is set) and the minute of the per-minute windows the
	// API writes and the prefetch optimizer reads. Nil: market.SystemClock.
	// The fleet budget (kept on Redis's own clock) and the feeds' flush
	// intervals measure real durations and are not on it.
	Clock           market.Clock
	Calendar        *market.Calendar
	Metrics         *metrics.Recorder // nil: no metrics
	Logger          *slog.Logger
	FetchTimeout    time.Duration
	NoCrossInstance bool
}

// Service is the assembled parts.
type Service struct {
	Config  Config
	Redis   redis.UniversalClient // nil without L2
	Cache   *cache.Cache
	Origin  *alpaca.Client
	Budget  *budget.Limiter     // nil without L2 (then a per-instance limiter is used)
	Hot     *hotset.Feed        // nil without L2
	Windows *hitrate.WindowFeed // nil without L2
	API     *api.Handler
	log     *slog.Logger
}

// New builds the service. It makes no network call: Redis and the origin are
// reached on first use.
func New(cfg Config) (*Service, error) {
	s := &Service{Config: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	cfg = cfg.withDefaults()
	if cfg.Redis.URL != "" {
		if err := s.connectL2(cfg); err != nil {
			return nil, err
		}
	}
	var cacheRec cache.Recorder
	if cfg.Metrics != nil {
		cacheRec = cfg.Metrics
	}
	s.Cache = cache.New(cache.Options{
		Redis:           s.Redis,
		L1:              cfg.L1,
		L2:              cache.L2Options{Timeout: cfg.Redis.Timeout},
		Policy:          cfg.Policy,
		Calendar:        cfg.Calendar,
		Clock:           cfg.Clock,
		Recorder:        cacheRec,
		Logger:          s.log,
		FetchTimeout:    cfg.FetchTimeout,
		NoCrossInstance: cfg.NoCrossInstance,
		Budget:          s.Budget, // the origin client's limiter below
	})
	ac := cfg.origin()
	if s.Budget != nil {
		ac.Limiter = s.Budget
	} else {
		ac.Limiter = budget.Local(budget.Options{PerMinute: cfg.BudgetPerMin})
	}
	if cfg.Metrics != nil {
		ac.Recorder = originRecorder{m: cfg.Metrics, b: s.Budget}
	}
	s.Origin = alpaca.New(ac)
	s.API = s.newAPI(cfg, ac)
	s.Config = cfg
	return s, nil
}

// newAPI builds the API handler over the assembled parts.
func (s *Service) newAPI(cfg Config, ac alpaca.Config) *api.Handler {
	var apiRec api.Recorder
	if cfg.Metrics != nil {
		apiRec = cfg.Metrics
	}
	var hot api.HotFeed
	var win api.WindowFeed
	if s.Hot != nil {
		hot, win = s.Hot, s.Windows
	}
	return api.New(api.Config{
		Cache:      s.Cache,
		Origin:     s.Origin,
		Clock:      cfg.Clock,
		Calendar:   s.Cache.Calendar(),
		Recorder:   apiRec,
		Hot:        hot,
		Windows:    win,
		Logger:     s.log,
		StockFeed:  ac.StockFeed,
		OptionFeed: ac.OptionFeed,
	})
}

// withDefaults fills in the budget, the instances sharing it and, from the
// function's memory, L1's byte bound.
func (cfg Config) withDefaults() Config {
	if cfg.BudgetPerMin <= 0 {
		cfg.BudgetPerMin = config.DefaultOriginBudgetPerMin
	}
	if cfg.OriginInstances <= 0 {
		cfg.OriginInstances = config.DefaultOriginInstances
	}
	if cfg.L1.MaxBytes == 0 && cfg.MemoryLimitMB > 0 {
		cfg.L1.MaxBytes = uint64(cfg.MemoryLimitMB) << 20 / 4
	}
	return cfg
}

// connectL2 builds what lives in Redis: the client, the fleet budget, the
// hot-set feed and the optimizer's windows. It makes no network call.
func (s *Service) connectL2(cfg Config) error {
	rdb, err := cache.NewRedis(cfg.Redis)
	if err != nil {
		// The parser's error quotes the URL, password included.
		return config.RedisURLError(err)
	}
	s.Redis = rdb
	s.Budget = budget.New(rdb, budget.Options{PerMinute: cfg.BudgetPerMin, Instances: cfg.OriginInstances, Logger: s.log})
	s.Hot = hotset.NewFeed(rdb, hotset.FeedOptions{})
	s.Windows = hitrate.NewWindowFeed(cfg.windows(rdb), hitrate.WindowFeedOptions{})
	return nil
}

// origin is the configuration of the service's origin clients: Alpaca, on
// the service's clock unless Alpaca.Clock is set.
func (c Config) origin() alpaca.Config {
	ac := c.Alpaca
	if ac.Clock == nil {
		ac.Clock = c.Clock
	}
	return ac
}

// windows returns the per-minute windows over rdb, their minutes read from
// the service's clock.
func (c Config) windows(rdb redis.UniversalClient) *hitrate.Windows {
	return hitrate.NewWindows(rdb, hitrate.WindowsOptions{Clock: c.Clock})
}

// Close releases the Redis connections.
func (s *Service) Close() error {
	if s.Redis != nil {
		return s.Redis.Close()
	}
	return nil
}

// originRecorder adapts the metrics recorder to the origin client.
type originRecorder struct {
	m *metrics.Recorder
	b *budget.Limiter
}

func (o originRecorder) UpstreamRequest(endpoint string, result metrics.UpstreamResult, d time.Duration) {
	o.m.UpstreamRequest(endpoint, result, d)
	if o.b != nil {
		o.m.OriginBudgetLeft(o.b.Remaining())
	}
}

func (o originRecorder) RateLimit(rl alpaca.RateLimit) {
	o.m.OriginRateLimit(rl.Limit, rl.Remaining, rl.Reset)
}

// EnvSimAt runs the service on a simulated clock: an RFC 3339 instant, which
// the clock reads when the process starts and from which it advances in real
// time. It is accepted only with an origin on this machine (ALPACA_DATA_URL
// on a loopback address), that is a simulator on the same clock, so that a
// function's bootstrap can be run against the simulated market at a chosen
// instant; Alpaca itself is never paired with it.
const EnvSimAt = "OPITIOS_SIM_AT"

// FromEnv reads the configuration the stack sets on the functions (see
// config's Env* names, and EnvSimAt). Credentials come from the environment
// when set there (local runs), else from Secrets Manager via sm (which may
// be nil when no secret ARN is configured).
func FromEnv(ctx context.Context, getenv func(string) string, sm config.SecretsGetter) (Config, error) {
	var cfg Config
	var errs []error
	must := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	cfg.Redis.URL, err = config.RedisURL(getenv)
	must(err)
	cfg.Redis.Cluster, err = config.Bool(getenv, config.EnvRedisCluster, false)
	must(err)
	ms, err := config.Int(getenv, config.EnvRedisTimeoutMS, int(config.DefaultRedisTimeout/time.Millisecond), 1, 10_000)
	must(err)
	cfg.Redis.Timeout = time.Duration(ms) * time.Millisecond
	if arn := getenv(config.EnvRedisAuthARN); arn != "" && sm != nil {
		var auth struct {
			Password string `json:"password"`
		}
		must(config.LoadSecret(ctx, sm, arn, &auth))
		cfg.Redis.Password = auth.Password
	}
	creds, err := config.Alpaca(ctx, getenv, sm)
	must(err)
	cfg.Alpaca.KeyID, cfg.Alpaca.SecretKey = creds.KeyID, creds.SecretKey
	cfg.Alpaca.BaseURL = getenv(config.EnvAlpacaDataURL)
	cfg.Alpaca.StockFeed = getenv(config.EnvAlpacaFeed)
	cfg.Alpaca.OptionFeed = getenv(config.EnvAlpacaOptionFeed)
	cfg.BudgetPerMin, err = config.Int(getenv, config.EnvOriginBudgetPerMin, config.DefaultOriginBudgetPerMin, 1, 1_000_000)
	must(err)
	cfg.OriginInstances, err = config.Int(getenv, config.EnvOriginInstances, config.DefaultOriginInstances, 1, 1_000_000)
	must(err)
	cfg.Policy = cache.DefaultPolicy()
	for _, t := range []struct {
		env string
		dt  cache.DataType
	}{{config.EnvTTLStockQuote, cache.StockQuote}, {config.EnvTTLOptionQuote, cache.OptionQuote}, {config.EnvTTLHistorical, cache.HistoricalData}} {
		secs, err := config.Int(getenv, t.env, int(cache.MaxAge(t.dt)/time.Second), 1, 86_400)
		must(err)
		cfg.Policy, _ = cfg.Policy.WithBase(t.dt, time.Duration(secs)*time.Second)
	}
	cfg.L1.MaxEntries, err = config.Int(getenv, config.EnvL1MaxEntries, 10_000, 1, 10_000_000)
	must(err)
	maxBytes, err := config.Int(getenv, config.EnvL1MaxBytes, 0, 0, 1<<40)
	must(err)
	cfg.L1.MaxBytes = uint64(maxBytes)
	cfg.MemoryLimitMB, err = config.Int(getenv, config.EnvLambdaMemoryMB, 0, 0, 1<<20)
	must(err)
	cfg.Clock, err = simClock(getenv(EnvSimAt), cfg.Alpaca.BaseURL)
	must(err)
	return cfg, errors.Join(errs...)
}

// simClock returns the clock of a simulated instant raw (EnvSimAt), nil
// when raw is empty. It is refused unless the origin is on this machine.
func simClock(raw, originURL string) (market.Clock, error) {
	if raw == "" {
		return nil, nil
	}
	at, err := time.Parse(time.RFC3339Nano, raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s=%q: must be an RFC 3339 instant, e.g. 2026-11-27T10:00:00-05:00", EnvSimAt, raw)
	case !loopbackURL(originURL):
		return nil, fmt.Errorf("%s is for a simulated origin on this machine: %s must be a loopback URL, not %q",
			EnvSimAt, config.EnvAlpacaDataURL, originURL)
	}
	return clockFrom(at), nil
}

// clockFrom returns a clock that reads at now and advances in real time.
func clockFrom(at time.Time) market.Clock {
	offset := time.Until(at)
	return market.ClockFunc(func() time.Time { return time.Now().Add(offset) })
}

// loopbackURL reports whether raw is an http or https URL whose host is
// localhost or a loopback address.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// Logger returns the process logger: JSON in Lambda, text locally, at the
// level of LOG_LEVEL (default info).
func Logger(getenv func(string) string) *slog.Logger {
	format := getenv(config.EnvLogFormat)
	if format == "" {
		format = "json"
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(getenv("LOG_LEVEL")))); err != nil {
		lvl = slog.LevelInfo
	}
	return logging.NewLogger(os.Stdout, format, lvl)
}

// DescribeL2 names the L2 of a config for banners and logs: "none", or
// its URL with any user and password replaced by "***", and its mode
// (standalone or cluster).
func (c Config) DescribeL2() string {
	if c.Redis.URL == "" {
		return "none"
	}
	mode := "standalone"
	if c.Redis.Cluster {
		mode = "cluster"
	}
	return fmt.Sprintf("%s (%s)", config.RedactURL(c.Redis.URL), mode)
}
