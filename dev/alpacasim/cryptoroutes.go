package alpacasim

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// The crypto routes: /v1beta3/crypto/{loc}/... with loc "us" and
// /v1beta1/crypto-perps/{loc}/latest/... with loc "global"; another loc is
// answered 404 endpoint not found. Unknown (well-formed) symbols are left out
// of the maps.

// validCryptoSymbol accepts BASE/QUOTE, each 1–10 capital letters or digits.
func validCryptoSymbol(s string) bool {
	base, quote, ok := strings.Cut(s, "/")
	return ok && upperAlnum(base) && upperAlnum(quote)
}

// validPerpSymbol accepts ROOT-PERP.
func validPerpSymbol(s string) bool {
	root, ok := strings.CutSuffix(s, "-PERP")
	return ok && upperAlnum(root)
}

func upperAlnum(s string) bool {
	if len(s) == 0 || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isUpper(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// cryptoRequestAssets checks the location and returns the known assets of
// the symbols parameter, sorted.
func (s *Server) cryptoRequestAssets(req request, perp bool) ([]*cryptoAsset, *apiError) {
	loc, valid := "us", validCryptoSymbol
	if perp {
		loc, valid = "global", validPerpSymbol
	}
	if req.param != loc {
		return nil, &apiError{http.StatusNotFound, 40410000, "endpoint not found"}
	}
	syms, e := symbolList(req.r.URL.Query(), valid, 0)
	if e != nil {
		return nil, e
	}
	all := s.cryptoAssets()
	out := make([]*cryptoAsset, 0, len(syms))
	for _, sym := range syms {
		if a, ok := all[sym]; ok && !s.isVanished(sym) {
			out = append(out, a)
		}
	}
	return out, nil
}

// cryptoHistory answers /v1beta3/crypto/us/{bars,trades,quotes}:
// {"<kind>":{"BTC/USD":[...]},"next_page_token":...}.
func (s *Server) cryptoHistory(b []byte, req request, kind string) ([]byte, *apiError) {
	assets, e := s.cryptoRequestAssets(req, false)
	if e != nil {
		return nil, e
	}
	q := req.r.URL.Query()
	hq, e := parseHistQuery(q, req.now, 1000, 10000)
	if e != nil {
		return nil, e
	}
	var sr *series
	var tf timeframe
	if kind == "bars" {
		var ok bool
		if tf, ok = parseTimeframe(q.Get("timeframe")); !ok {
			return nil, badRequest("invalid timeframe")
		}
		sr = cryptoBarSeries(assets, tf, req.now)
	} else {
		sr = cryptoTickSeries(assets, kind == "trades")
	}
	b = append(b, `{"`...)
	b = append(b, kind...)
	b = append(b, `":`...)
	w := newMapWriter(b)
	next := sr.walk(hq, req.now, func(i int, m time.Time, j int, t time.Time) {
		w.item(i, assets[i].symbol)
		switch kind {
		case "bars":
			w.b = appendCryptoBar(w.b, assets[i].barAt(tf, m, req.now))
		case "trades":
			w.b = appendCryptoTrade(w.b, assets[i].tradeAt(m, j))
		default:
			w.b = appendCryptoQuote(w.b, assets[i].quoteAt(t))
		}
	})
	b = comma(w.close())
	b = appendToken(b, next)
	return append(b, '}'), nil
}

// latestTrade is a's last trade at or before now.
func (a *cryptoAsset) latestTrade(now time.Time) cryptoTrade {
	m, j, _, _ := cryptoTickSeries([]*cryptoAsset{a}, true).latest(0, now, time.Hour)
	return a.tradeAt(m, j)
}

// latestBar is a's last complete minute bar at now.
func (a *cryptoAsset) latestBar(now time.Time) cryptoBar {
	m := now.Truncate(time.Minute).Add(-time.Minute)
	return a.barOver(m, m, m.Add(time.Minute))
}

// appendOrderbook appends ten levels a side, the first the latest quote.
func appendOrderbook(b []byte, a *cryptoAsset, now time.Time) []byte {
	q := a.quoteAsOf(now)
	h := draw(a.hash^saltQuote, uint64(q.t.UnixNano()))
	b = append(b, `{"t":`...)
	b = appendTime(b, q.t)
	for side, name := range [2]string{"b", "a"} {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":[`...)
		p, size, dir := q.bid, q.bs, -1.0
		if side == 1 {
			p, size, dir = q.ask, q.as, 1
		}
		for lvl := range 10 {
			if lvl > 0 {
				b = comma(b)
				p = a.round(p + dir*max(a.tick(p), p*1e-4*(0.5+unit(h, uint64(side*16+lvl)))))
				size = roundSize(a.notional * (0.5 + 8*unit(h, uint64(side*16+lvl+64))) / p)
			}
			b = append(b, '{')
			b = appendNum(b, "p", p)
			b = comma(b)
			b = appendNum(b, "s", size)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// cryptoLatest answers the latest routes: {"<kind>":{"BTC/USD":{...}}}.
func (s *Server) cryptoLatest(b []byte, req request, kind string, perp bool) ([]byte, *apiError) {
	assets, e := s.cryptoRequestAssets(req, perp)
	if e != nil {
		return nil, e
	}
	b = append(b, `{"`...)
	b = append(b, kind...)
	b = append(b, `":{`...)
	for k, a := range assets {
		if k > 0 {
			b = comma(b)
		}
		b = appendKey(b, a.symbol)
		switch kind {
		case "bars":
			b = appendCryptoBar(b, a.latestBar(req.now))
		case "trades":
			b = appendCryptoTrade(b, a.latestTrade(req.now))
		case "quotes":
			b = appendCryptoQuote(b, a.quoteAsOf(req.now))
		case "orderbooks":
			b = appendOrderbook(b, a, req.now)
		default:
			b = appendPricing(b, a, req.now)
		}
	}
	return append(b, "}}"...), nil
}

// cryptoSnapshots answers /v1beta3/crypto/us/snapshots:
// {"snapshots":{"BTC/USD":{...}}}, each part what its route answers; the
// daily bars are the UTC day in progress and the one before.
func (s *Server) cryptoSnapshots(b []byte, req request) ([]byte, *apiError) {
	assets, e := s.cryptoRequestAssets(req, false)
	if e != nil {
		return nil, e
	}
	day := timeframe{1, tfDay}
	today := utcDay(req.now)
	b = append(b, `{"snapshots":{`...)
	for k, a := range assets {
		if k > 0 {
			b = comma(b)
		}
		b = appendKey(b, a.symbol)
		b = append(b, `{"latestTrade":`...)
		b = appendCryptoTrade(b, a.latestTrade(req.now))
		b = append(b, `,"latestQuote":`...)
		b = appendCryptoQuote(b, a.quoteAsOf(req.now))
		b = append(b, `,"minuteBar":`...)
		b = appendCryptoBar(b, a.latestBar(req.now))
		b = append(b, `,"dailyBar":`...)
		b = appendCryptoBar(b, a.barAt(day, today, req.now))
		b = append(b, `,"prevDailyBar":`...)
		b = appendCryptoBar(b, a.barAt(day, today.AddDate(0, 0, -1), req.now))
		b = append(b, '}')
	}
	return append(b, "}}"...), nil
}

// appendPricing appends a perpetual's pricing: index (the spot path), mark
// (the perpetual's own), the funding rate that premium implies, open
// interest, and the next funding time (every 8 hours from 00:00 UTC).
func appendPricing(b []byte, a *cryptoAsset, now time.Time) []byte {
	t := now.Truncate(time.Second)
	ip := a.round(a.path.price(unixSeconds(t)))
	mp := a.round(a.price(unixSeconds(t)))
	fr := math.Round(min(max((mp/ip-1)/3, -0.00375), 0.00375)*1e8)/1e8 + 0
	oi := roundSize(a.notional * 2e6 * (0.8 + 0.4*unit(a.hash, uint64(t.Unix()/3600))) / ip)
	b = append(b, `{"t":`...)
	b = appendTime(b, t)
	b = append(b, `,"ft":`...)
	b = appendTime(b, t.Truncate(8*time.Hour).Add(8*time.Hour))
	b = comma(b)
	b = appendNum(b, "oi", oi)
	b = comma(b)
	b = appendNum(b, "ip", ip)
	b = comma(b)
	b = appendNum(b, "mp", mp)
	b = comma(b)
	b = appendNum(b, "fr", fr)
	return append(b, '}')
}
