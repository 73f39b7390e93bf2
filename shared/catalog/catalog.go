package catalog

import (
	"github.com/opitios/opitios-alpaca/shared/cache"
)

// Shape is how a route's answer is cached.
type Shape uint8

const (
	// Latest: the origin's answer maps each symbol to a value, and each
	// symbol's value is its own cache entry (EntryID), shared by the
	// single- and multi-symbol forms of the route and by every writer of
	// that Kind.
	Latest Shape = iota + 1
	// Page: the body is one cache entry, keyed by the route and its
	// normalised query (path parameter, symbols, every declared parameter
	// in its canonical spelling, an absent one as its default), so equal
	// questions share an entry and different ones never do. A page token is
	// part of the query: each page is its own entry.
	Page
	// Local: answered by the service itself (market status, health).
	Local
)

// Symbols is the grammar of a route's symbols (shared/symbol).
type Symbols uint8

// Symbol grammars.
const (
	NoSymbols Symbols = iota
	Stock             // AAPL, BRK.B
	Option            // OCC: AAPL240426C00152500
	Crypto            // BTC/USD
	Perp              // BTC-PERP
)

// MaxSymbols is the most symbols one request may name for each grammar.
var MaxSymbols = [...]int{NoSymbols: 0, Stock: 1000, Option: 100, Crypto: 1000, Perp: 1000}

// Feed is a route's feed parameter.
type Feed uint8

// Feed parameters.
const (
	NoFeed     Feed = iota
	StockFeed       // iex, sip, delayed_sip, otc, boats, overnight; also currency=USD
	OptionFeed      // opra, indicative
)

// Route is one Market Data route the service answers. Rows are data: the
// API serves every route through one generic path per Shape.
type Route struct {
	// Path is the route template, e.g. /v2/stocks/{symbol}/trades/latest:
	// literal segments and at most one {parameter} segment. It is the
	// route's name in metrics, logs and the stack.
	Path string
	// Class is the freshness class of the route's entries.
	Class cache.DataType
	Shape Shape
	// Origin is the origin path asked: for Latest the multi-symbol path;
	// for Page the template itself when empty. It may hold the same
	// {parameter} as Path.
	Origin string
	// Param is the grammar of Path's {parameter}: a symbol grammar, or
	// NoSymbols for a free word checked by ParamWords.
	Param Symbols
	// ParamWords, when set, lists the values Path's {parameter} may take
	// (a condition's tick type, a crypto location).
	ParamWords []string
	// Symbols is the grammar of the symbols= list; NoSymbols when the route
	// takes none.
	Symbols Symbols
	// Feed is the route's feed parameter.
	Feed Feed
	// Kind, Wrap and One describe a Latest route's entries and bodies:
	// Kind the entry kind; Wrap the multi-symbol body's map member ("" for
	// a bare map); One the single-symbol body's value member ("" to spread
	// the value's members after "symbol", as the stock snapshot does).
	Kind Kind
	Wrap string
	One  string
	// OnePage marks a multi-symbol Latest route whose body also carries
	// "next_page_token":null and whose paging parameters (limit,
	// page_token, updated_since) are honoured or refused: the entries hold
	// every symbol's whole answer, so the service always answers in one
	// page.
	OnePage bool
	// Params are the route's other query parameters: accepted, validated,
	// sent to the origin as the client spelled them and keyed in their
	// canonical form. Parameters not listed are ignored.
	Params []Param
	// Binary marks a Page route whose body is not JSON, served with
	// ContentType.
	Binary      bool
	ContentType string
}

// Multi reports whether the route takes a symbols= list.
func (r *Route) Multi() bool { return r.Symbols != NoSymbols }

// OriginPath is the origin path of r with param in place of its
// {parameter}.
func (r *Route) OriginPath(param string) string {
	p := r.Origin
	if p == "" {
		p = r.Path
	}
	return fill(p, param)
}
