package alpacasim

import (
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

// optionTick is tick for the option feeds (v1beta1/indicative and
// v1beta1/opra): for each subscribed contract listed at the clock's instant,
// the REST latest option quote (/v1beta1/options/quotes/latest) when it
// changed since the last tick, and the trades made since the last tick (the
// REST /v1beta1/options/trades history). Unknown or unlisted contracts are
// skipped; outside a session there are no quotes, as REST has none.
func (c *simConn) optionTick(last map[string]*streamed) []*stream.Msg {
	s, now, subs := c.st.s, c.now(), c.subscription()
	sess := s.optionSessionAt(now)
	exps := s.expirations(market.DateOf(now))
	var msgs []*stream.Msg
	for _, sym := range union(subs.List("quotes"), subs.List("trades")) {
		l, ok := s.findContract(sym, exps)
		if !ok {
			continue
		}
		sd := streamedOf(last, sym)
		if subs.Has("quotes", sym) && sess.ok {
			msgs = sd.changedQuote(msgs, sym, string(appendOptionQuote(nil, l.quoteAt(sess))))
		}
		if subs.Has("trades", sym) {
			msgs = s.appendOptionStreamTrades(msgs, l, sym, sd, now)
		}
	}
	return msgs
}

// appendOptionStreamTrades appends the trades of l (named sym) after the
// last one sent, up to now, oldest first; the first time, the REST latest
// option trade at now alone.
func (s *Server) appendOptionStreamTrades(msgs []*stream.Msg, l listed, sym string, sd *streamed, now time.Time) []*stream.Msg {
	return sd.newTrades(msgs, s.optionTradeSeries([]listed{l}, []string{""}), now, lookback,
		func(m time.Time, j int) (time.Time, *stream.Msg) {
			tr := l.tradeAt(m, j)
			return tr.t, jsonMsg("t", sym, string(appendOptionTrade(nil, tr)))
		})
}
