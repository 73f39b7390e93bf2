package cache

import (
	"strings"

	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// DataType names a TTL class of cached data (docs/design.md, "TTLs").
type DataType string

// The data types the service caches (their TTL rules: classes in policy.go).
const (
	StockQuote     DataType = "stock_quote"
	OptionQuote    DataType = "option_quote"
	HistoricalData DataType = "historical_data"
	CryptoQuote    DataType = "crypto_quote"
	Reference      DataType = "reference"
	Screener       DataType = "screener"
	News           DataType = "news"
)

// DataTypes lists every data type, in a fixed order: the order of
// metrics.DataType's values.
var DataTypes = []DataType{StockQuote, OptionQuote, HistoricalData, CryptoQuote, Reference, Screener, News}

func (dt DataType) index() int {
	for i, d := range DataTypes {
		if d == dt {
			return i
		}
	}
	return -1
}

// Metric returns dt as a metrics label (metrics.DataType; Other if dt is
// not a known data type).
func (dt DataType) Metric() metrics.DataType { return metrics.DataType(dt.index() + 1) }

// Valid reports whether dt is one of the known data types.
func (dt DataType) Valid() bool { return dt.index() >= 0 }

// Key returns the Redis key of an identifier: opitios:v2:{data_type}:{ID}
// with the identifier upper-cased. Callers pass identifiers they have
// validated; Key does no validation of its own.
func Key(dt DataType, id string) string {
	return config.KeyPrefix + string(dt) + ":" + upper(id)
}

// lockKey is the key of the cross-instance fetch lock for a cache key.
func lockKey(key string) string {
	return config.KeyPrefix + "lock:" + strings.TrimPrefix(key, config.KeyPrefix)
}

// upper upper-cases ASCII without allocating when s is already upper case.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}
