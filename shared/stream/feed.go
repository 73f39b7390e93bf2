package stream

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
)

// The stream paths Alpaca serves, relative to its stream host.
const (
	FeedIEX        = "v2/iex"
	FeedSIP        = "v2/sip"
	FeedDelayedSIP = "v2/delayed_sip"
	FeedTest       = "v2/test"
	FeedIndicative = "v1beta1/indicative"
	FeedOPRA       = "v1beta1/opra"
	FeedCrypto     = "v1beta3/crypto/us"
	FeedNews       = "v1beta1/news"
)

// Feeds lists every feed path the hub knows.
var Feeds = []string{FeedIEX, FeedSIP, FeedDelayedSIP, FeedTest, FeedIndicative, FeedOPRA, FeedCrypto, FeedNews}

// Channel names, in the order Alpaca lists them in a subscription message.
var (
	stockChannels  = []string{"trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds", "corrections", "cancelErrors", "imbalances"}
	optionChannels = []string{"trades", "quotes"}
	cryptoChannels = []string{"trades", "quotes", "bars", "updatedBars", "dailyBars", "orderbooks"}
	newsChannels   = []string{"news"}
)

// channelOf maps a message type to the channel that carries it.
var channelOf = map[string]string{
	"t": "trades", "q": "quotes", "b": "bars", "u": "updatedBars", "d": "dailyBars",
	"s": "statuses", "l": "lulds", "c": "corrections", "x": "cancelErrors",
	"i": "imbalances", "o": "orderbooks", "n": "news",
}

// feedInfo describes one feed: its path, channels and where its data goes
// in the cache.
type feedInfo struct {
	path        string
	name        string         // the feed in cache entry identifiers ("iex"; "" for crypto)
	dt          cache.DataType // the data type of its entries; "" for none (news)
	channels    []string       // in subscription-message order
	followers   []string       // channels that carry the trades channel's symbols
	hotChannels []string       // channels the hot symbols are subscribed on
	msgpackOnly bool
}

// feedOf returns the feed served at path (a Feeds entry).
func feedOf(path string) (feedInfo, error) {
	path = strings.Trim(path, "/")
	switch {
	case strings.HasPrefix(path, "v2/") && slices.Contains(Feeds, path):
		return feedInfo{path: path, name: strings.TrimPrefix(path, "v2/"), dt: cache.StockQuote,
			channels: stockChannels, followers: []string{"corrections", "cancelErrors"},
			hotChannels: []string{"trades", "quotes", "bars"}}, nil
	case path == FeedIndicative || path == FeedOPRA:
		return feedInfo{path: path, name: strings.TrimPrefix(path, "v1beta1/"), dt: cache.OptionQuote,
			channels: optionChannels, hotChannels: optionChannels, msgpackOnly: true}, nil
	case path == FeedCrypto:
		return feedInfo{path: path, dt: cache.CryptoQuote, channels: cryptoChannels,
			hotChannels: []string{"trades", "quotes", "bars"}}, nil
	case path == FeedNews:
		return feedInfo{path: path, channels: newsChannels, hotChannels: newsChannels}, nil
	}
	return feedInfo{}, fmt.Errorf("stream: unknown feed %q", path)
}

// allows reports whether a client may subscribe channel c on the feed.
func (f feedInfo) allows(c string) bool {
	return slices.Contains(f.channels, c) && !slices.Contains(f.followers, c)
}

// follow sets the follower channels of s to its trades.
func (f feedInfo) follow(s Subs) {
	for _, c := range f.followers {
		delete(s, c)
		if len(s["trades"]) > 0 {
			s[c] = Subs{"t": s["trades"]}.clone()["t"]
		}
	}
}

// kindOf is the cache entry kind a message of type t updates, if any.
func kindOf(t string) (catalog.Kind, bool) {
	switch t {
	case "q":
		return catalog.Quote, true
	case "t":
		return catalog.Trade, true
	case "b", "u":
		return catalog.Bar, true
	}
	return "", false
}

// matches reports whether s subscribes message m.
func matches(s Subs, m *Msg) bool {
	c, ok := channelOf[m.T]
	if !ok {
		return false
	}
	if m.T == "n" {
		if s.Has(c, Wildcard) {
			return true
		}
		syms, _ := m.Field("symbols").([]any)
		for _, x := range syms {
			if str, ok := x.(string); ok && s.Has(c, str) {
				return true
			}
		}
		return false
	}
	return s.Has(c, m.S)
}
