package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/config"
)

// FunctionConfig sizes one Lambda function.
type FunctionConfig struct {
	MemoryMB       int
	TimeoutSeconds int
	// ReservedConcurrency caps the function's concurrent executions and
	// reserves them from the account pool. 0 means "no reservation": a
	// reservation of 0 would disable the function, which is never wanted.
	ReservedConcurrency int
}

// Redis deployment modes.
const (
	RedisServerless       = "serverless"
	RedisReplicationGroup = "replicationGroup"
)

// Config is everything the stack can be told through CDK context
// (`cdk.json` or `-c key=value`). Defaults returns the values used for any
// key the context does not set; cdk.json repeats them so they are visible.
type Config struct {
	// AssetsDir holds <function>/bootstrap for each function, built for
	// linux/arm64 (make build writes build/lambda).
	AssetsDir string

	API        FunctionConfig
	Prefetch   FunctionConfig
	Authorizer FunctionConfig
	// APIProvisionedConcurrency keeps that many api instances initialised
	// (through an alias named "live"); 0 means none.
	APIProvisionedConcurrency int

	ThrottleRateLimit  int // steady-state requests per second for the stage
	ThrottleBurstLimit int
	// CORSOrigins, when not empty, turns on CORS preflight for these origins
	// (comma-separated). Empty means no CORS: the API serves SDKs and servers.
	CORSOrigins string
	// RevocationWindowSeconds is the longest a client key revoked in the
	// client-keys secret may still be accepted. It is split between API
	// Gateway's cache of authorizer verdicts per (key id, secret) pair and
	// the authorizer's refresh of the key list (config.RevocationSplit).
	RevocationWindowSeconds int

	RedisMode string // RedisServerless or RedisReplicationGroup
	// CacheName names the ElastiCache cache (unique per account and region).
	CacheName                 string
	RedisMaxDataStorageGB     int // serverless: storage ceiling, a cost guard
	RedisMaxECPUPerSecond     int // serverless: throughput ceiling, a cost guard
	RedisNodeType             string
	RedisNumNodeGroups        int
	RedisReplicasPerNodeGroup int

	NATGateways      int
	LogRetentionDays int
	AlarmEmail       string // subscribed to the alarm topic when set

	AlpacaFeed            string
	AlpacaOptionFeed      string
	OriginBudgetPerMinute int
	TTLStockQuoteSeconds  int
	TTLOptionQuoteSeconds int
	TTLHistoricalSeconds  int
	PrefetchWatchlist     string
	PrefetchTopN          int
	PrefetchBudgetShare   string // a decimal in (0, 1], passed through verbatim
	PrefetchUnderlyings   string

	// HubTasks is the number of stream hub tasks (Fargate); 0 deploys no
	// hub. One holds Alpaca's stream and the others stand by (shared/stream).
	HubTasks int
	// HubContextDir is the Docker build context of the hub image, holding
	// hub/Dockerfile; "" means the Go module's root, found from the working
	// directory up.
	HubContextDir string
	// HubCertificateArn, when set, puts TLS (wss://) on the hub's load
	// balancer with this ACM certificate; otherwise it listens on ws:// port 80.
	HubCertificateArn string
	HubFeeds          string // STREAM_FEEDS
	HubHotSymbols     string // STREAM_HOT_SYMBOLS
	HubSymbolLimit    int    // STREAM_SYMBOL_LIMIT
}

// Defaults returns the configuration used when the context sets nothing.
//
// Reserved concurrency is sized so that the shared resources hold under the
// worst case of every instance busy at once:
//   - api 100: each instance serves one request at a time and holds at most a
//     handful of Redis connections per shard, so 100 instances stay far below
//     ElastiCache's 65,000 connections; at ≈20 ms per cached answer, 100
//     instances carry ≈5,000 rps, ten times the stage's 500 rps throttle, so
//     the cap only bites when misses pile up, which is when the shared origin
//     budget (200 calls/minute) would make extra instances wait anyway.
//     With Redis unreachable each instance falls back to its share of the
//     budget, divided by api's and prefetch's reservations together (the
//     functions get that count as ORIGIN_BUDGET_INSTANCES), so a larger
//     reservation means a smaller share per instance, never a larger fleet
//     total.
//   - prefetch 1: one run at a time, so two runs never split the budget or
//     refresh the same keys; a run that overlaps the next minute's start is
//     throttled and the late event dropped (max event age 60 s).
//   - authorizer 20: verdicts are cached per key pair for half the
//     revocation window (30 s by default), so the authorizer sees a trickle
//     even at full load.
//
// Together they reserve 121 executions; the account keeps the rest (AWS
// requires 100 unreserved), so accounts still on a low concurrency quota must
// raise it or set the reservations to 0.
func Defaults() Config {
	return Config{
		AssetsDir:                 "build/lambda",
		API:                       FunctionConfig{MemoryMB: 1024, TimeoutSeconds: 10, ReservedConcurrency: config.DefaultAPIConcurrency},
		Prefetch:                  FunctionConfig{MemoryMB: 512, TimeoutSeconds: 55, ReservedConcurrency: config.DefaultPrefetchConcurrency},
		Authorizer:                FunctionConfig{MemoryMB: 256, TimeoutSeconds: 5, ReservedConcurrency: 20},
		APIProvisionedConcurrency: 0,
		ThrottleRateLimit:         500,
		ThrottleBurstLimit:        1000,
		CORSOrigins:               "",
		RevocationWindowSeconds:   int(config.DefaultRevocationWindow / time.Second),
		RedisMode:                 RedisServerless,
		CacheName:                 "opitios-alpaca",
		RedisMaxDataStorageGB:     5,
		RedisMaxECPUPerSecond:     50000,
		RedisNodeType:             "cache.t4g.small",
		RedisNumNodeGroups:        1,
		RedisReplicasPerNodeGroup: 1,
		NATGateways:               1,
		LogRetentionDays:          30,
		AlarmEmail:                "",
		AlpacaFeed:                "iex",
		AlpacaOptionFeed:          "indicative",
		OriginBudgetPerMinute:     config.DefaultOriginBudgetPerMin,
		TTLStockQuoteSeconds:      int(cache.MaxAge(cache.StockQuote) / time.Second),
		TTLOptionQuoteSeconds:     int(cache.MaxAge(cache.OptionQuote) / time.Second),
		TTLHistoricalSeconds:      int(cache.MaxAge(cache.HistoricalData) / time.Second),
		PrefetchWatchlist:         "SPY,QQQ,IWM,AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA",
		PrefetchTopN:              200,
		PrefetchBudgetShare:       "0.5",
		PrefetchUnderlyings:       "SPY,QQQ",
		HubTasks:                  1,
		HubFeeds:                  "v2/iex",
		HubSymbolLimit:            30,
	}
}

// setting binds one context key to one Config field.
type setting struct {
	key string
	get func() any
	set func(v any) error
}

func intSetting(key string, p *int) setting {
	return setting{key: key, get: func() any { return *p }, set: func(v any) error {
		n, err := toInt(v)
		if err != nil {
			return fmt.Errorf("context %q: %w", key, err)
		}
		*p = n
		return nil
	}}
}

func stringSetting(key string, p *string) setting {
	return setting{key: key, get: func() any { return *p }, set: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("context %q: want a string, got %T", key, v)
		}
		*p = s
		return nil
	}}
}

// settings lists every context key, in cdk.json order.
func (c *Config) settings() []setting {
	return []setting{
		stringSetting("assetsDir", &c.AssetsDir),
		intSetting("apiMemoryMB", &c.API.MemoryMB),
		intSetting("apiTimeoutSeconds", &c.API.TimeoutSeconds),
		intSetting("apiReservedConcurrency", &c.API.ReservedConcurrency),
		intSetting("apiProvisionedConcurrency", &c.APIProvisionedConcurrency),
		intSetting("prefetchMemoryMB", &c.Prefetch.MemoryMB),
		intSetting("prefetchTimeoutSeconds", &c.Prefetch.TimeoutSeconds),
		intSetting("prefetchReservedConcurrency", &c.Prefetch.ReservedConcurrency),
		intSetting("authorizerMemoryMB", &c.Authorizer.MemoryMB),
		intSetting("authorizerTimeoutSeconds", &c.Authorizer.TimeoutSeconds),
		intSetting("authorizerReservedConcurrency", &c.Authorizer.ReservedConcurrency),
		intSetting("throttleRateLimit", &c.ThrottleRateLimit),
		intSetting("throttleBurstLimit", &c.ThrottleBurstLimit),
		stringSetting("corsOrigins", &c.CORSOrigins),
		intSetting("revocationWindowSeconds", &c.RevocationWindowSeconds),
		stringSetting("redisMode", &c.RedisMode),
		stringSetting("cacheName", &c.CacheName),
		intSetting("redisMaxDataStorageGB", &c.RedisMaxDataStorageGB),
		intSetting("redisMaxECPUPerSecond", &c.RedisMaxECPUPerSecond),
		stringSetting("redisNodeType", &c.RedisNodeType),
		intSetting("numNodeGroups", &c.RedisNumNodeGroups),
		intSetting("replicasPerNodeGroup", &c.RedisReplicasPerNodeGroup),
		intSetting("natGateways", &c.NATGateways),
		intSetting("logRetentionDays", &c.LogRetentionDays),
		stringSetting("alarmEmail", &c.AlarmEmail),
		stringSetting("alpacaFeed", &c.AlpacaFeed),
		stringSetting("alpacaOptionFeed", &c.AlpacaOptionFeed),
		intSetting("originBudgetPerMinute", &c.OriginBudgetPerMinute),
		intSetting("ttlStockQuoteSeconds", &c.TTLStockQuoteSeconds),
		intSetting("ttlOptionQuoteSeconds", &c.TTLOptionQuoteSeconds),
		intSetting("ttlHistoricalSeconds", &c.TTLHistoricalSeconds),
		stringSetting("prefetchWatchlist", &c.PrefetchWatchlist),
		intSetting("prefetchTopN", &c.PrefetchTopN),
		stringSetting("prefetchBudgetShare", &c.PrefetchBudgetShare),
		stringSetting("prefetchUnderlyings", &c.PrefetchUnderlyings),
		intSetting("hubTasks", &c.HubTasks),
		stringSetting("hubContextDir", &c.HubContextDir),
		stringSetting("hubCertificateArn", &c.HubCertificateArn),
		stringSetting("hubFeeds", &c.HubFeeds),
		stringSetting("hubHotSymbols", &c.HubHotSymbols),
		intSetting("hubSymbolLimit", &c.HubSymbolLimit),
	}
}

// DefaultContext returns the defaults as CDK context values, keyed as in
// cdk.json.
func DefaultContext() map[string]any {
	c := Defaults()
	m := make(map[string]any)
	for _, s := range c.settings() {
		m[s.key] = s.get()
	}
	return m
}

// ContextKeys lists the context keys the stack reads.
func ContextKeys() []string {
	c := Defaults()
	var keys []string
	for _, s := range c.settings() {
		keys = append(keys, s.key)
	}
	return keys
}

// FromContext starts from Defaults and overrides every key lookup returns a
// non-nil value for (lookup is typically a construct node's TryGetContext).
// Values may be JSON numbers (cdk.json) or strings (`-c key=value`). The
// result is validated.
func FromContext(lookup func(key string) any) (Config, error) {
	c := Defaults()
	for _, s := range c.settings() {
		v := lookup(s.key)
		if v == nil {
			continue
		}
		if err := s.set(v); err != nil {
			return Config{}, err
		}
	}
	return c, c.Validate()
}

// FunctionNames are the functions the stack deploys, which are also the
// folders under AssetsDir.
var FunctionNames = []string{"api", "prefetch", "authorizer"}

// ErrInvalidConfig wraps every validation failure.
var ErrInvalidConfig = errors.New("invalid stack configuration")

// Validate reports the first setting that cannot be deployed, wrapped in
// ErrInvalidConfig. It also checks that AssetsDir holds a bootstrap binary
// for every function, so a synth without a build fails with a clear message.
func (c Config) Validate() error {
	if err := c.validateFunctions(); err != nil {
		return err
	}
	if c.Prefetch.TimeoutSeconds >= 60 {
		return invalid("prefetch timeout %d s must stay under the one-minute schedule", c.Prefetch.TimeoutSeconds)
	}
	if c.APIProvisionedConcurrency < 0 {
		return invalid("api provisioned concurrency %d is negative", c.APIProvisionedConcurrency)
	}
	if c.API.ReservedConcurrency > 0 && c.APIProvisionedConcurrency > c.API.ReservedConcurrency {
		return invalid("api provisioned concurrency %d exceeds its reserved concurrency %d",
			c.APIProvisionedConcurrency, c.API.ReservedConcurrency)
	}
	if c.ThrottleRateLimit < 1 || c.ThrottleBurstLimit < 1 {
		return invalid("stage throttle %d rps / burst %d must be positive", c.ThrottleRateLimit, c.ThrottleBurstLimit)
	}
	if maxWindow := int(config.MaxRevocationWindow / time.Second); c.RevocationWindowSeconds < 1 || c.RevocationWindowSeconds > maxWindow {
		return invalid("revocationWindowSeconds %d is outside 1..%d", c.RevocationWindowSeconds, maxWindow)
	}
	if err := c.validateRedis(); err != nil {
		return err
	}
	if c.CacheName == "" || len(c.CacheName) > 40 || strings.ToLower(c.CacheName) != c.CacheName {
		return invalid("cacheName %q must be 1..40 lower-case characters", c.CacheName)
	}
	if c.NATGateways < 1 || c.NATGateways > 2 {
		return invalid("natGateways %d is outside 1..2 (the functions reach Alpaca through NAT)", c.NATGateways)
	}
	if _, ok := retentionDays[c.LogRetentionDays]; !ok {
		return invalid("logRetentionDays %d is not a CloudWatch Logs retention period", c.LogRetentionDays)
	}
	if c.TTLStockQuoteSeconds < 1 || c.TTLOptionQuoteSeconds < 1 || c.TTLHistoricalSeconds < 1 {
		return invalid("TTLs %d/%d/%d s must be positive", c.TTLStockQuoteSeconds, c.TTLOptionQuoteSeconds, c.TTLHistoricalSeconds)
	}
	if c.PrefetchTopN < 0 {
		return invalid("prefetchTopN %d is negative", c.PrefetchTopN)
	}
	if c.OriginBudgetPerMinute < 1 {
		return invalid("originBudgetPerMinute %d must be positive", c.OriginBudgetPerMinute)
	}
	if share, err := strconv.ParseFloat(c.PrefetchBudgetShare, 64); err != nil || share <= 0 || share > 1 {
		return invalid("prefetchBudgetShare %q is not a decimal in (0, 1]", c.PrefetchBudgetShare)
	}
	if err := c.validateHub(); err != nil {
		return err
	}
	for _, name := range FunctionNames {
		bootstrap := filepath.Join(c.AssetsDir, name, "bootstrap")
		if info, err := os.Stat(bootstrap); err != nil || !info.Mode().IsRegular() {
			return invalid("%s is missing: build the functions first (make build) or set -c assetsDir=<dir>", bootstrap)
		}
	}
	return nil
}

// invalid is a validation failure, wrapping ErrInvalidConfig.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// validateFunctions checks each function's memory, timeout and reservation.
func (c Config) validateFunctions() error {
	for _, f := range []struct {
		name string
		fc   FunctionConfig
	}{{"api", c.API}, {"prefetch", c.Prefetch}, {"authorizer", c.Authorizer}} {
		if f.fc.MemoryMB < 128 || f.fc.MemoryMB > 10240 {
			return invalid("%s memory %d MB is outside 128..10240", f.name, f.fc.MemoryMB)
		}
		if f.fc.TimeoutSeconds < 1 || f.fc.TimeoutSeconds > 900 {
			return invalid("%s timeout %d s is outside 1..900", f.name, f.fc.TimeoutSeconds)
		}
		if f.fc.ReservedConcurrency < 0 {
			return invalid("%s reserved concurrency %d is negative", f.name, f.fc.ReservedConcurrency)
		}
	}
	return nil
}

// validateHub checks the hub's settings and, when it is deployed, that its
// Dockerfile is where the image is built from.
func (c Config) validateHub() error {
	if c.HubTasks < 0 || c.HubTasks > 4 {
		return invalid("hubTasks %d is outside 0..4", c.HubTasks)
	}
	if c.HubTasks == 0 {
		return nil
	}
	if c.HubCertificateArn != "" && !strings.HasPrefix(c.HubCertificateArn, "arn:") {
		return invalid("hubCertificateArn %q is not an ARN", c.HubCertificateArn)
	}
	if c.HubSymbolLimit < -1 {
		return invalid("hubSymbolLimit %d must be -1 (none) or more", c.HubSymbolLimit)
	}
	dir, err := c.HubContext()
	if err != nil {
		return invalid("hub image: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, HubDockerfile)); err != nil {
		return invalid("%s is missing from the hub's build context %s (set -c hubContextDir=<repository root>, or hubTasks=0)", HubDockerfile, dir)
	}
	return nil
}

// HubDockerfile is the hub's Dockerfile, relative to its build context.
const HubDockerfile = "hub/Dockerfile"

// HubContext returns the hub image's build context: HubContextDir, or the
// nearest directory from the working directory up that holds go.mod.
func (c Config) HubContext() (string, error) {
	if c.HubContextDir != "" {
		return filepath.Abs(c.HubContextDir)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// validateRedis checks the settings of the chosen Redis mode.
func (c Config) validateRedis() error {
	switch c.RedisMode {
	case RedisServerless:
		if c.RedisMaxDataStorageGB < 1 || c.RedisMaxECPUPerSecond < 1000 {
			return invalid("serverless limits %d GB / %d ECPU/s are too small", c.RedisMaxDataStorageGB, c.RedisMaxECPUPerSecond)
		}
	case RedisReplicationGroup:
		if c.RedisNumNodeGroups < 1 || c.RedisNumNodeGroups > 500 {
			return invalid("numNodeGroups %d is outside 1..500", c.RedisNumNodeGroups)
		}
		if c.RedisReplicasPerNodeGroup < 0 || c.RedisReplicasPerNodeGroup > 5 {
			return invalid("replicasPerNodeGroup %d is outside 0..5", c.RedisReplicasPerNodeGroup)
		}
		if !strings.HasPrefix(c.RedisNodeType, "cache.") {
			return invalid("redisNodeType %q is not an ElastiCache node type", c.RedisNodeType)
		}
	default:
		return invalid("redisMode %q is neither %q nor %q", c.RedisMode, RedisServerless, RedisReplicationGroup)
	}
	return nil
}

// retentionDays maps the retention periods CloudWatch Logs accepts, in days,
// to their CDK names.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
	731: awslogs.RetentionDays_TWO_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
}

// toInt accepts a JSON number with no fraction or a decimal string.
func toInt(v any) (int, error) {
	switch n := v.(type) {
	case float64:
		if n != float64(int(n)) {
			return 0, fmt.Errorf("want an integer, got %v", n)
		}
		return int(n), nil
	case int:
		return n, nil
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil {
			return 0, fmt.Errorf("want an integer, got %q", n)
		}
		return i, nil
	default:
		return 0, fmt.Errorf("want an integer, got %T", v)
	}
}
