package cache

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// RedisConfig describes the L2 server. URL is redis://[user:password@]host:port
// or rediss://… for TLS (ElastiCache has TLS always on); Cluster selects a
// cluster client (ElastiCache Serverless, cluster-mode replication groups),
// whose URL may name several seed nodes with ?addr=host:port.
type RedisConfig struct {
	URL      string
	Cluster  bool
	Timeout  time.Duration // dial, read and write timeout; default 50 ms (a cache that is slower than that is not worth waiting for)
	PoolSize int           // default 32 per node
	TLS      *tls.Config   // overrides the TLS config a rediss:// URL implies (for example, to add a private CA)
	Password string        // overrides the URL's password (AUTH token from a secret)
}

// NewRedis returns a standalone or cluster client for cfg, tuned for a cache:
// short timeouts honouring the caller's context, no client-side retries (the
// caller falls back to the origin instead), and no extra commands on connect.
func NewRedis(cfg RedisConfig) (redis.UniversalClient, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = config.DefaultRedisTimeout
	}
	pool := cfg.PoolSize
	if pool <= 0 {
		pool = 32
	}
	// The URL decides address, credentials, database and TLS; the rest is
	// the same for both modes.
	var u redis.UniversalOptions
	if cfg.Cluster {
		o, err := redis.ParseClusterURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("cache: redis cluster URL: %w", err)
		}
		u.Addrs, u.Username, u.Password, u.TLSConfig = o.Addrs, o.Username, o.Password, o.TLSConfig
		u.IsClusterMode = true
	} else {
		o, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("cache: redis URL: %w", err)
		}
		u.Addrs, u.Username, u.Password, u.TLSConfig, u.DB = []string{o.Addr}, o.Username, o.Password, o.TLSConfig, o.DB
	}
	u.DialTimeout, u.ReadTimeout, u.WriteTimeout = 4*timeout, timeout, timeout
	u.ContextTimeoutEnabled = true
	u.PoolSize, u.MaxRetries, u.DisableIdentity = pool, -1, true
	u.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if cfg.TLS != nil {
		u.TLSConfig = cfg.TLS
	}
	if cfg.Password != "" {
		u.Password = cfg.Password
	}
	// Not redis.NewUniversalClient: it would link the Sentinel clients too,
	// which no deployment of this service uses.
	if u.IsClusterMode {
		return redis.NewClusterClient(u.Cluster()), nil
	}
	return redis.NewClient(u.Simple()), nil
}
