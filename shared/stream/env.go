package stream

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// Environment variables of the hub program (the service's own, such as
// REDIS_URL and the Alpaca credentials, are read by shared/service).
const (
	EnvFeeds       = "STREAM_FEEDS"        // comma list of feed paths, default v2/iex
	EnvURL         = "STREAM_URL"          // upstream host, default wss://stream.data.alpaca.markets
	EnvHotSymbols  = "STREAM_HOT_SYMBOLS"  // comma list subscribed upstream in the room clients leave
	EnvSymbolLimit = "STREAM_SYMBOL_LIMIT" // the plan's trade and quote symbol limit, default 30; -1 none
)

// FromEnv reads the stream settings of Options from the environment: the
// feeds, the upstream URL, the hot symbols and the symbol limit. Other
// fields are left zero.
func FromEnv(getenv func(string) string) (Options, error) {
	var o Options
	var errs []error
	for _, f := range splitList(getenv(EnvFeeds)) {
		if _, err := feedOf(f); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvFeeds, err))
		}
		o.Feeds = append(o.Feeds, strings.Trim(f, "/"))
	}
	o.BaseURL = getenv(EnvURL)
	o.Hot = splitList(strings.ToUpper(getenv(EnvHotSymbols)))
	limit, err := config.Int(getenv, EnvSymbolLimit, DefaultSymbolLimit, -1, 1_000_000)
	errs = append(errs, err)
	if limit == 0 {
		limit = -1
	}
	o.SymbolLimit = limit
	return o, errors.Join(errs...)
}

func splitList(s string) []string {
	var out []string
	for x := range strings.SplitSeq(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
