package catalog

import "github.com/opitios/opitios-alpaca/shared/cache"

// Paths of the routes other packages name.
const (
	PathStockQuote   = "/v2/stocks/{symbol}/quotes/latest"
	PathStockQuotes  = "/v2/stocks/quotes/latest"
	PathMarketStatus = "/v1/market/status"
	PathHealth       = "/healthz"
)

// stockLatest is the pair of stock latest routes (single and multi) of one
// kind.
func stockLatest(single, multi string, k Kind, wrap, one string) []Route {
	r := Route{Class: cache.StockQuote, Shape: Latest, Origin: multi, Feed: StockFeed, Kind: k, Wrap: wrap, One: one}
	s, m := r, r
	s.Path, s.Param = single, Stock
	m.Path, m.Symbols = multi, Stock
	return []Route{s, m}
}

// stockHistoryPair is the pair of stock history routes of one dataset.
func stockHistoryPair(what string) []Route {
	bars := what == "bars"
	r := Route{Class: cache.HistoricalData, Shape: Page, Feed: StockFeed, Params: stockHistory(bars)}
	s, m := r, r
	s.Path, s.Param = "/v2/stocks/{symbol}/"+what, Stock
	m.Path, m.Symbols = "/v2/stocks/"+what, Stock
	return []Route{s, m}
}

// cryptoLatest is a crypto or perpetual-futures latest route.
func cryptoLatest(path, loc string, sym Symbols, k Kind, wrap string) Route {
	return Route{Path: path, Class: cache.CryptoQuote, Shape: Latest, ParamWords: []string{loc},
		Symbols: sym, Kind: k, Wrap: wrap}
}

// reference is a Page route of reference data.
func reference(path string, words []string, ps ...Param) Route {
	return Route{Path: path, Class: cache.Reference, Shape: Page, ParamWords: words, Params: ps}
}

var tickTypes = []string{"trade", "quote"}

func optionLatest(path string, k Kind, wrap string) Route {
	return Route{Path: path, Class: cache.OptionQuote, Shape: Latest, Symbols: Option, Feed: OptionFeed, Kind: k, Wrap: wrap}
}

func history(path string, sym Symbols, ps []Param) Route {
	return Route{Path: path, Class: cache.HistoricalData, Shape: Page, Symbols: sym, Params: ps}
}

// Routes is the catalog: every route the service answers. A path under
// the API's version prefixes that no row matches is passed through to the
// origin uncached.
var Routes = join(
	stockLatest(PathStockQuote, PathStockQuotes, Quote, "quotes", "quote"),
	stockLatest("/v2/stocks/{symbol}/trades/latest", "/v2/stocks/trades/latest", Trade, "trades", "trade"),
	stockLatest("/v2/stocks/{symbol}/bars/latest", "/v2/stocks/bars/latest", Bar, "bars", "bar"),
	stockLatest("/v2/stocks/{symbol}/snapshot", "/v2/stocks/snapshots", Snapshot, "", ""),
	stockHistoryPair("bars"), stockHistoryPair("trades"), stockHistoryPair("quotes"), stockHistoryPair("auctions"),
	[]Route{
		reference("/v2/stocks/meta/exchanges", nil),
		reference("/v2/stocks/meta/conditions/{ticktype}", tickTypes,
			Param{Name: "tape", Type: Enum, Values: []string{"A", "B", "C"}}),

		optionLatest("/v1beta1/options/quotes/latest", Quote, "quotes"),
		optionLatest("/v1beta1/options/trades/latest", Trade, "trades"),
		{Path: "/v1beta1/options/snapshots", Class: cache.OptionQuote, Shape: Latest, Symbols: Option,
			Feed: OptionFeed, Kind: Snapshot, Wrap: "snapshots", OnePage: true},
		{Path: "/v1beta1/options/snapshots/{underlying}", Class: cache.OptionQuote, Shape: Page, Param: Stock,
			Feed: OptionFeed, Params: chainParams},
		history("/v1beta1/options/bars", Option, historyParams(true)),
		history("/v1beta1/options/trades", Option, historyParams(false)),
		reference("/v1beta1/options/meta/exchanges", nil),
		reference("/v1beta1/options/meta/conditions/{ticktype}", tickTypes),

		cryptoLatest("/v1beta3/crypto/{loc}/latest/quotes", "us", Crypto, Quote, "quotes"),
		cryptoLatest("/v1beta3/crypto/{loc}/latest/trades", "us", Crypto, Trade, "trades"),
		cryptoLatest("/v1beta3/crypto/{loc}/latest/bars", "us", Crypto, Bar, "bars"),
		cryptoLatest("/v1beta3/crypto/{loc}/latest/orderbooks", "us", Crypto, Orderbook, "orderbooks"),
		cryptoLatest("/v1beta3/crypto/{loc}/snapshots", "us", Crypto, Snapshot, "snapshots"),
		cryptoHistory("bars"), cryptoHistory("quotes"), cryptoHistory("trades"),
		cryptoLatest("/v1beta1/crypto-perps/{loc}/latest/quotes", "global", Perp, Quote, "quotes"),
		cryptoLatest("/v1beta1/crypto-perps/{loc}/latest/trades", "global", Perp, Trade, "trades"),
		cryptoLatest("/v1beta1/crypto-perps/{loc}/latest/bars", "global", Perp, Bar, "bars"),
		cryptoLatest("/v1beta1/crypto-perps/{loc}/latest/pricing", "global", Perp, Pricing, "pricing"),
		cryptoLatest("/v1beta1/crypto-perps/{loc}/latest/orderbooks", "global", Perp, Orderbook, "orderbooks"),

		{Path: "/v1beta1/news", Class: cache.News, Shape: Page, Params: newsParams},
		reference("/v1/corporate-actions", nil, corporateActionParams...),
		reference("/v1beta1/corporate-actions", nil, corporateActionParams...),
		{Path: "/v1beta1/screener/stocks/most-actives", Class: cache.Screener, Shape: Page, Params: []Param{
			{Name: "by", Type: Enum, Values: []string{"volume", "trades"}, Default: "volume"},
			{Name: "top", Type: Int, Min: 1, Max: 100, Default: "10"}}},
		{Path: "/v1beta1/screener/{market}/movers", Class: cache.Screener, Shape: Page,
			ParamWords: []string{"stocks", "crypto"},
			Params:     []Param{{Name: "top", Type: Int, Min: 1, Max: 50, Default: "10"}}},
		{Path: "/v1beta1/logos/{symbol}", Class: cache.Reference, Shape: Page, Param: Stock,
			Params: []Param{{Name: "placeholder", Type: Bool, Default: "false"}},
			Binary: true, ContentType: "image/png"},
		{Path: "/v1beta1/forex/latest/rates", Class: cache.CryptoQuote, Shape: Page,
			Params: []Param{{Name: "currency_pairs", Type: Text, Required: true}}},
		{Path: "/v1beta1/forex/rates", Class: cache.HistoricalData, Shape: Page, Params: forexHistory},

		{Path: PathMarketStatus, Shape: Local},
		{Path: PathHealth, Shape: Local},
	},
)

func cryptoHistory(what string) Route {
	r := history("/v1beta3/crypto/{loc}/"+what, Crypto, historyParams(what == "bars"))
	r.ParamWords = []string{"us"}
	return r
}

func join(groups ...[]Route) []Route {
	var out []Route
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
