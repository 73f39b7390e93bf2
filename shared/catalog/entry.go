package catalog

import "strings"

// Kind is what a per-symbol cache entry holds: a symbol's latest quote,
// latest trade, and so on. Single- and multi-symbol routes of one kind share
// entries, and so does every writer of that kind (the API's origin fetches,
// prefetch, the stream hub).
type Kind string

// The kinds of per-symbol entries. Quote is the empty suffix, so a stock's
// latest quote on the default feed is stored under the symbol alone.
const (
	Quote     Kind = ""
	Trade     Kind = ":TRADE"
	Bar       Kind = ":BAR"
	Snapshot  Kind = ":SNAPSHOT"
	Orderbook Kind = ":BOOK"
	Pricing   Kind = ":PRICING"
)

// EntryID is the cache identifier of symbol's entry of kind k from feed,
// where def is the deployment's default feed for the symbol's asset class
// (config: the origin client's default). Entries of different feeds never
// share an identifier; the default feed's carry no feed suffix. symbol is
// as validated (upper case, as Alpaca spells it).
func EntryID(symbol string, k Kind, feed, def string) string {
	id := symbol + string(k)
	if feed == "" || feed == def {
		return id
	}
	return id + ":" + strings.ToUpper(feed)
}

// BaseOf is the symbol of an identifier made by EntryID.
func BaseOf(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return id[:i]
	}
	return id
}
