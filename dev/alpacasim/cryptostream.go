package alpacasim

import (
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/stream"
)

// cryptoTick is tick for the crypto feed: the REST latest quote at the
// clock's instant when it changed, the trades made since the last tick (the
// REST trades history) and the minute bar completed, the REST latest bar.
func (c *simConn) cryptoTick(last map[string]*streamed, minute *time.Time) []*stream.Msg {
	now, subs := c.now(), c.subscription()
	assets := c.st.s.cryptoAssets()
	var msgs []*stream.Msg
	for _, sym := range union(subs.List("quotes"), subs.List("trades")) {
		a, ok := assets[sym]
		if !ok || strings.HasSuffix(sym, "-PERP") {
			continue
		}
		sd := streamedOf(last, sym)
		if subs.Has("quotes", sym) {
			msgs = sd.changedQuote(msgs, sym, string(appendCryptoQuote(nil, a.quoteAsOf(now))))
		}
		if subs.Has("trades", sym) {
			msgs = sd.newTrades(msgs, cryptoTickSeries([]*cryptoAsset{a}, true), now, time.Hour,
				func(m time.Time, j int) (time.Time, *stream.Msg) {
					tr := a.tradeAt(m, j)
					return tr.t, jsonMsg("t", sym, string(appendCryptoTrade(nil, tr)))
				})
		}
	}
	if m := now.Truncate(time.Minute); m.After(*minute) {
		*minute = m
		for _, sym := range subs.List("bars") {
			if a, ok := assets[sym]; ok && !strings.HasSuffix(sym, "-PERP") {
				msgs = append(msgs, jsonMsg("b", sym, string(appendCryptoBar(nil, a.latestBar(now)))))
			}
		}
	}
	return msgs
}
