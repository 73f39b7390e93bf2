package alpacasim

import (
	"strconv"
	"strings"
)

// handler appends a 200 body to b, or returns the error to answer instead.
type handler func(s *Server, b []byte, req request) ([]byte, *apiError)

// route is one of Alpaca's endpoints: its path template, in which one
// segment may be a {parameter}, and its handler. Requests are counted under
// the template.
type route struct {
	tmpl  string
	h     handler
	ctype string // the Content-Type of a 200; empty means JSON
}

func (r route) contentType() string {
	if r.ctype != "" {
		return r.ctype
	}
	return "application/json; charset=UTF-8"
}

// routeID indexes routes; routeUnmatched counts requests for unknown paths.
type routeID int

const (
	routeStockQuote routeID = iota
	routeStockQuotes
	routeStockBars
	routeStockMultiBars
	routeOptionQuotes
	routeOptionSnapshots
	routeOptionChain
	routeCalendar
	routeStockTrade
	routeStockTradesLatest
	routeStockBar
	routeStockBarsLatest
	routeStockSnapshot
	routeStockSnapshots
	routeStockTrades
	routeStockMultiTrades
	routeStockQuoteHistory
	routeStockMultiQuotes
	routeStockAuctions
	routeStockMultiAuctions
	routeCryptoBars
	routeCryptoTrades
	routeCryptoQuotes
	routeCryptoLatestBars
	routeCryptoLatestTrades
	routeCryptoLatestQuotes
	routeCryptoLatestOrderbooks
	routeCryptoSnapshots
	routePerpLatestBars
	routePerpLatestTrades
	routePerpLatestQuotes
	routePerpLatestPricing
	routePerpLatestOrderbooks
	routeOptionBars
	routeOptionTrades
	routeOptionLatestTrades
	routeStockExchanges
	routeStockConditions
	routeOptionExchanges
	routeOptionConditions
	routeNews
	routeCorporateActions
	routeCorporateActionsBeta
	routeMostActives
	routeMovers
	routeLogo
	routeForexLatest
	routeForexRates
	routeUnmatched
	numRoutes
)

// routes lists the endpoints; match tries them in this order, so fixed
// paths come before templates that could also match them.
var routes = [numRoutes]route{
	routeStockQuotes:     {"/v2/stocks/quotes/latest", (*Server).stockQuotes, ""},
	routeStockMultiBars:  {"/v2/stocks/bars", (*Server).stockMultiBars, ""},
	routeStockQuote:      {"/v2/stocks/{symbol}/quotes/latest", (*Server).stockQuote, ""},
	routeStockBars:       {"/v2/stocks/{symbol}/bars", (*Server).stockBars, ""},
	routeOptionQuotes:    {"/v1beta1/options/quotes/latest", (*Server).optionQuotes, ""},
	routeOptionSnapshots: {"/v1beta1/options/snapshots", (*Server).optionSnapshots, ""},
	routeOptionChain:     {"/v1beta1/options/snapshots/{underlying}", (*Server).optionChain, ""},
	routeCalendar:        {"/v2/calendar", (*Server).calendar, ""},

	routeStockTradesLatest:  {"/v2/stocks/trades/latest", (*Server).stockLatestTrades, ""},
	routeStockBarsLatest:    {"/v2/stocks/bars/latest", (*Server).stockLatestBars, ""},
	routeStockTrade:         {"/v2/stocks/{symbol}/trades/latest", (*Server).stockLatestTrade, ""},
	routeStockBar:           {"/v2/stocks/{symbol}/bars/latest", (*Server).stockLatestBar, ""},
	routeStockSnapshots:     {"/v2/stocks/snapshots", (*Server).stockSnapshots, ""},
	routeStockSnapshot:      {"/v2/stocks/{symbol}/snapshot", (*Server).stockSnapshot, ""},
	routeStockMultiTrades:   {"/v2/stocks/trades", (*Server).stockMultiTrades, ""},
	routeStockTrades:        {"/v2/stocks/{symbol}/trades", (*Server).stockTrades, ""},
	routeStockMultiQuotes:   {"/v2/stocks/quotes", (*Server).stockMultiQuotes, ""},
	routeStockQuoteHistory:  {"/v2/stocks/{symbol}/quotes", (*Server).stockQuoteHistory, ""},
	routeStockMultiAuctions: {"/v2/stocks/auctions", (*Server).stockMultiAuctions, ""},
	routeStockAuctions:      {"/v2/stocks/{symbol}/auctions", (*Server).stockAuctions, ""},

	routeCryptoBars:             {"/v1beta3/crypto/{loc}/bars", cryptoHist("bars"), ""},
	routeCryptoTrades:           {"/v1beta3/crypto/{loc}/trades", cryptoHist("trades"), ""},
	routeCryptoQuotes:           {"/v1beta3/crypto/{loc}/quotes", cryptoHist("quotes"), ""},
	routeCryptoLatestBars:       {"/v1beta3/crypto/{loc}/latest/bars", cryptoLatest("bars", false), ""},
	routeCryptoLatestTrades:     {"/v1beta3/crypto/{loc}/latest/trades", cryptoLatest("trades", false), ""},
	routeCryptoLatestQuotes:     {"/v1beta3/crypto/{loc}/latest/quotes", cryptoLatest("quotes", false), ""},
	routeCryptoLatestOrderbooks: {"/v1beta3/crypto/{loc}/latest/orderbooks", cryptoLatest("orderbooks", false), ""},
	routeCryptoSnapshots:        {"/v1beta3/crypto/{loc}/snapshots", (*Server).cryptoSnapshots, ""},
	routePerpLatestBars:         {"/v1beta1/crypto-perps/{loc}/latest/bars", cryptoLatest("bars", true), ""},
	routePerpLatestTrades:       {"/v1beta1/crypto-perps/{loc}/latest/trades", cryptoLatest("trades", true), ""},
	routePerpLatestQuotes:       {"/v1beta1/crypto-perps/{loc}/latest/quotes", cryptoLatest("quotes", true), ""},
	routePerpLatestPricing:      {"/v1beta1/crypto-perps/{loc}/latest/pricing", cryptoLatest("pricing", true), ""},
	routePerpLatestOrderbooks:   {"/v1beta1/crypto-perps/{loc}/latest/orderbooks", cryptoLatest("orderbooks", true), ""},

	routeOptionBars:         {"/v1beta1/options/bars", (*Server).optionBars, ""},
	routeOptionTrades:       {"/v1beta1/options/trades", (*Server).optionTrades, ""},
	routeOptionLatestTrades: {"/v1beta1/options/trades/latest", (*Server).optionLatestTrades, ""},

	routeStockExchanges:       {"/v2/stocks/meta/exchanges", (*Server).stockExchangesMeta, ""},
	routeStockConditions:      {"/v2/stocks/meta/conditions/{ticktype}", (*Server).stockConditionsMeta, ""},
	routeOptionExchanges:      {"/v1beta1/options/meta/exchanges", (*Server).optionExchangesMeta, ""},
	routeOptionConditions:     {"/v1beta1/options/meta/conditions/{ticktype}", (*Server).optionConditionsMeta, ""},
	routeNews:                 {"/v1beta1/news", (*Server).news, ""},
	routeCorporateActions:     {"/v1/corporate-actions", (*Server).corporateActionsV1, ""},
	routeCorporateActionsBeta: {"/v1beta1/corporate-actions", (*Server).corporateActionsV1Beta1, ""},
	routeMostActives:          {"/v1beta1/screener/stocks/most-actives", (*Server).mostActives, ""},
	routeMovers:               {"/v1beta1/screener/{market_type}/movers", (*Server).movers, ""},
	routeLogo:                 {"/v1beta1/logos/{symbol}", (*Server).logo, "image/png"},
	routeForexLatest:          {"/v1beta1/forex/latest/rates", (*Server).forexLatest, ""},
	routeForexRates:           {"/v1beta1/forex/rates", (*Server).forexRates, ""},
}

func routeName(id routeID) string {
	if id == routeUnmatched {
		return "unmatched"
	}
	return routes[id].tmpl
}

// match maps a path to its route and the path parameter, if any: fixed
// templates first, then those with a parameter.
func match(path string) (routeID, string) {
	for _, fixed := range [2]bool{true, false} {
		for id := range routeUnmatched {
			tmpl := routes[id].tmpl
			if strings.Contains(tmpl, "{") == fixed {
				continue
			}
			if param, ok := matchTemplate(path, tmpl); ok {
				return id, param
			}
		}
	}
	return routeUnmatched, ""
}

// matchTemplate reports whether path fits tmpl segment by segment, a
// {parameter} segment standing for any non-empty segment, which it returns.
func matchTemplate(path, tmpl string) (string, bool) {
	var param string
	for {
		ps, prest, pmore := strings.Cut(path, "/")
		ts, trest, tmore := strings.Cut(tmpl, "/")
		switch {
		case len(ts) > 1 && ts[0] == '{':
			if ps == "" {
				return "", false
			}
			param = ps
		case ps != ts:
			return "", false
		}
		if pmore != tmore {
			return "", false
		}
		if !pmore {
			return param, true
		}
		path, tmpl = prest, trest
	}
}

func cryptoHist(kind string) handler {
	return func(s *Server, b []byte, req request) ([]byte, *apiError) { return s.cryptoHistory(b, req, kind) }
}

func cryptoLatest(kind string, perp bool) handler {
	return func(s *Server, b []byte, req request) ([]byte, *apiError) { return s.cryptoLatest(b, req, kind, perp) }
}

func init() {
	for id := range routeUnmatched {
		if routes[id].tmpl == "" || routes[id].h == nil {
			panic("alpacasim: route " + strconv.Itoa(int(id)) + " has no template or handler")
		}
	}
}
