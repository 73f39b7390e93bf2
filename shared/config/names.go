// Package config reads the functions' configuration from the environment and,
// for credentials, from AWS Secrets Manager.
//
// The environment variable names below are the contract with the CDK stack,
// which sets them on each function, and with the local server.
package config

// Environment variables.
const (
	EnvRedisURL       = "REDIS_URL"        // redis://host:port or rediss://... (TLS); user:password in the URL for AUTH
	EnvRedisCluster   = "REDIS_CLUSTER"    // "true" for cluster mode (ElastiCache Serverless, cluster-mode replication groups)
	EnvRedisTimeoutMS = "REDIS_TIMEOUT_MS" // per-command read/write timeout, default 50
	EnvRedisAuthARN   = "REDIS_AUTH_SECRET_ARN"

	EnvAlpacaKeyID      = "ALPACA_API_KEY_ID"     // local only; in Lambda the secret below is used
	EnvAlpacaSecretKey  = "ALPACA_API_SECRET_KEY" // local only
	EnvAlpacaSecretARN  = "ALPACA_SECRET_ARN"     // Secrets Manager secret {"key_id":"…","secret_key":"…"}
	EnvAlpacaDataURL    = "ALPACA_DATA_URL"       // default https://data.alpaca.markets
	EnvAlpacaFeed       = "ALPACA_FEED"           // stock feed, default iex
	EnvAlpacaOptionFeed = "ALPACA_OPTION_FEED"    // option feed, default indicative

	EnvClientKeys          = "OPITIOS_CLIENT_KEYS"    // local only: id:secret,id:secret
	EnvClientKeysSecretARN = "CLIENT_KEYS_SECRET_ARN" // Secrets Manager secret {"keys":[{"id":"…","sha256":"hex"}]}
	// EnvRevocationWindow is the longest, in seconds, a revoked client key
	// may still be accepted (default DefaultRevocationWindow): the stack
	// sets API Gateway's authorizer cache from it and the authorizer its
	// refresh of the key list (RevocationSplit).
	EnvRevocationWindow = "CLIENT_KEYS_REVOCATION_SECONDS"

	EnvOriginBudgetPerMin = "ORIGIN_BUDGET_PER_MINUTE" // fleet-wide origin budget, default DefaultOriginBudgetPerMin
	// EnvOriginInstances is the most instances that share the origin budget
	// at once (OriginInstances of the functions' reserved concurrency),
	// default DefaultOriginInstances. While Redis is unreachable each
	// instance falls back to the budget divided by it.
	EnvOriginInstances = "ORIGIN_BUDGET_INSTANCES"

	EnvTTLStockQuote  = "TTL_STOCK_QUOTE_SECONDS"     // base TTLs (regular session), clamped to the SLO
	EnvTTLOptionQuote = "TTL_OPTION_QUOTE_SECONDS"    //
	EnvTTLHistorical  = "TTL_HISTORICAL_DATA_SECONDS" //
	EnvL1MaxEntries   = "L1_MAX_ENTRIES"              // default 10000
	EnvL1MaxBytes     = "L1_MAX_BYTES"                // default: a quarter of the function's memory

	EnvPrefetchWatchlist   = "PREFETCH_WATCHLIST"    // comma list of stock symbols
	EnvPrefetchTopN        = "PREFETCH_TOP_N"        // default 200
	EnvPrefetchBudgetShare = "PREFETCH_BUDGET_SHARE" // share of the origin budget prefetch may use, default 0.5
	EnvPrefetchUnderlyings = "PREFETCH_UNDERLYINGS"  // comma list of option underlyings to refresh

	EnvLogFormat = "LOG_FORMAT" // json (Lambda default) or text

	// Set by the Lambda runtime.
	EnvLambdaMemoryMB     = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
	EnvLambdaFunctionName = "AWS_LAMBDA_FUNCTION_NAME"
)
