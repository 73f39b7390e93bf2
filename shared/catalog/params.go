package catalog

// ParamType is how a query parameter is checked and spelled in a key.
type ParamType uint8

// Parameter types.
const (
	// Text is a bounded printable value, keyed as given (a comma list of
	// codes, currency pairs, news symbols).
	Text ParamType = iota + 1
	// Time is RFC 3339 or YYYY-MM-DD, keyed as one instant or one date.
	Time
	// Date is YYYY-MM-DD.
	Date
	// Int is a decimal integer from Min to Max.
	Int
	// Enum is one of Values.
	Enum
	// Timeframe is a bar timeframe, keyed in one spelling per resolution.
	Timeframe
	// Adjustment is a comma list of bar adjustments, keyed sorted.
	Adjustment
	// Token is an opaque page token.
	Token
	// Bool is true or false.
	Bool
	// Number is a finite decimal, keyed in its shortest spelling.
	Number
	// Asof is YYYY-MM-DD or "-".
	Asof
	// Symbol is one stock symbol, upper-cased.
	Symbol
)

// Param is one query parameter of a route.
type Param struct {
	Name     string
	Type     ParamType
	Required bool
	// Default is the value Alpaca assumes when the parameter is absent: an
	// absent parameter and its explicit default share a key.
	Default  string
	Min, Max int      // Int
	Values   []string // Enum
}

// Parameters shared by many routes.
var (
	pStart     = Param{Name: "start", Type: Time}
	pEnd       = Param{Name: "end", Type: Time}
	pToken     = Param{Name: "page_token", Type: Token}
	pSortAsc   = Param{Name: "sort", Type: Enum, Values: []string{"asc", "desc"}, Default: "asc"}
	pSortDesc  = Param{Name: "sort", Type: Enum, Values: []string{"asc", "desc"}, Default: "desc"}
	pLimit10k  = Param{Name: "limit", Type: Int, Min: 1, Max: 10000, Default: "1000"}
	pTimeframe = Param{Name: "timeframe", Type: Timeframe, Required: true}
	pAsof      = Param{Name: "asof", Type: Asof}
)

// historyParams is the parameter list of a history route, timeframe first for
// bars.
func historyParams(bars bool, extra ...Param) []Param {
	ps := []Param{pStart, pEnd, pLimit10k, pToken, pSortAsc}
	if bars {
		ps = append([]Param{pTimeframe}, ps...)
	}
	return append(ps, extra...)
}

// stockHistory adds the stock history routes' asof (and, for bars,
// adjustment).
func stockHistory(bars bool) []Param {
	if bars {
		return historyParams(true, Param{Name: "adjustment", Type: Adjustment, Default: "raw"}, pAsof)
	}
	return historyParams(false, pAsof)
}

var chainParams = []Param{
	{Name: "type", Type: Enum, Values: []string{"call", "put"}},
	{Name: "strike_price_gte", Type: Number, Min: 0, Max: 1_000_000},
	{Name: "strike_price_lte", Type: Number, Min: 0, Max: 1_000_000},
	{Name: "expiration_date", Type: Date},
	{Name: "expiration_date_gte", Type: Date},
	{Name: "expiration_date_lte", Type: Date},
	{Name: "root_symbol", Type: Symbol},
	{Name: "updated_since", Type: Time},
	{Name: "limit", Type: Int, Min: 1, Max: 1000, Default: "100"},
	pToken,
}

var newsParams = []Param{
	{Name: "symbols", Type: Text},
	pStart, pEnd, pSortDesc,
	{Name: "limit", Type: Int, Min: 1, Max: 50, Default: "10"},
	{Name: "include_content", Type: Bool, Default: "false"},
	{Name: "exclude_contentless", Type: Bool, Default: "false"},
	pToken,
}

var corporateActionParams = []Param{
	{Name: "symbols", Type: Text}, {Name: "cusips", Type: Text}, {Name: "types", Type: Text},
	{Name: "ids", Type: Text},
	{Name: "start", Type: Date}, {Name: "end", Type: Date},
	{Name: "limit", Type: Int, Min: 1, Max: 1000, Default: "100"},
	pSortAsc, pToken,
}

var forexHistory = []Param{
	{Name: "currency_pairs", Type: Text, Required: true},
	{Name: "timeframe", Type: Enum, Values: []string{"5Sec", "5S", "1Min", "1T", "1Day", "1D"}, Default: "1Min"},
	pStart, pEnd, pLimit10k, pToken, pSortAsc,
}
