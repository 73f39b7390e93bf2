package alpacasim

import (
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

// emit sends, every tick, what changed for the connection's subscription.
func (c *simConn) emit() {
	t := time.NewTicker(c.st.cfg.Tick)
	defer t.Stop()
	last := map[string]string{}
	minute := c.now().Truncate(time.Minute)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		if c.st.silent.Load() {
			continue
		}
		if msgs := c.tick(last, &minute); len(msgs) > 0 {
			c.write(stream.Frame(c.framing, msgs))
		}
	}
}

// subscription returns a copy of the connection's subscription.
func (c *simConn) subscription() stream.Subs {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := stream.Subs{}
	for ch := range c.subs {
		out.Add(ch, c.subs.List(ch)...)
	}
	return out
}

// tick returns the quotes and trades that changed since the last tick and
// the minute bars completed since, for a stock feed.
func (c *simConn) tick(last map[string]string, minute *time.Time) []*stream.Msg {
	if !strings.HasPrefix(c.feed, "v2/") {
		return nil
	}
	s, now, subs := c.st.s, c.now(), c.subscription()
	var delay time.Duration
	if c.feed == stream.FeedDelayedSIP {
		delay = 15 * time.Minute
	}
	ss := s.stockSessionAt(now.Add(-delay))
	var msgs []*stream.Msg
	feed := strings.TrimPrefix(c.feed, "v2/")
	for _, sym := range union(subs.List("quotes"), subs.List("trades")) {
		st, ok := s.lookup(sym)
		if !ok || !ss.ok {
			continue
		}
		q := string(appendStockQuote(nil, st, ss, feed))
		if q == last[sym] {
			continue
		}
		last[sym] = q
		qm := jsonMsg("q", sym, q)
		if subs.Has("quotes", sym) {
			msgs = append(msgs, qm)
		}
		if subs.Has("trades", sym) {
			msgs = append(msgs, tradeOf(st, qm, feed))
		}
	}
	if m := now.Add(-delay).Truncate(time.Minute); m.After(*minute) {
		*minute = m
		msgs = append(msgs, c.bars(subs.List("bars"), m.Add(-time.Minute), now.Add(-delay))...)
	}
	return msgs
}

// bars returns the 1Min bars stamped stamp of syms, as the REST bars route
// serves them, if stamp is inside the extended session.
func (c *simConn) bars(syms []string, stamp, now time.Time) []*stream.Msg {
	s := c.st.s
	d := s.days.day(market.DateOf(stamp))
	if !d.Trading || stamp.Before(d.PreOpen) || !stamp.Before(d.AfterClose) {
		return nil
	}
	var out []*stream.Msg
	for _, sym := range syms {
		st, ok := s.lookup(sym)
		if !ok {
			continue
		}
		br := s.stockBar(st, timeframe{1, tfMin}, stamp, now)
		out = append(out, jsonMsg("b", sym, string(appendBar(nil, br))))
	}
	return out
}

// tradeOf is the trade of a quote: at its instant, at the mid, from the
// quote's ask exchange.
func tradeOf(st *stock, q *stream.Msg, feed string) *stream.Msg {
	ap, _ := q.Field("ap").(float64)
	bp, _ := q.Field("bp").(float64)
	t, _ := q.Field("t").(time.Time)
	h := draw(st.hash, uint64(t.UnixNano()))
	x := "V"
	if feed != "iex" {
		x = stockExchanges[draw(h, 2)%uint64(len(stockExchanges))]
	}
	return stream.NewMsg("t", st.symbol,
		"i", int64(h>>12), "x", x, "p", round2((ap+bp)/2), "s", int64(1+draw(h, 1)%500),
		"t", t, "c", []any{"@"}, "z", st.tape)
}

// jsonMsg is the stream message of type typ for sym whose other fields are
// the JSON object obj.
func jsonMsg(typ, sym, obj string) *stream.Msg {
	frame := `[{"T":"` + typ + `","S":"` + sym + `",` + obj[1:] + `]`
	msgs, err := stream.DecodeFrame([]byte(frame), stream.JSON)
	if err != nil || len(msgs) != 1 {
		panic("alpacasim: bad stream message " + frame)
	}
	return msgs[0]
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, x := range b {
		found := false
		for _, y := range a {
			found = found || x == y
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

// burst sends n copies of symbol's current quote, in frames of up to 5,000,
// to every connection subscribed to its quotes.
func (st *Streams) burst(symbol string, n int) {
	st.mu.Lock()
	conns := make([]*simConn, 0, len(st.conns))
	for c := range st.conns {
		conns = append(conns, c)
	}
	st.mu.Unlock()
	for _, c := range conns {
		if !c.subscription().Has("quotes", symbol) {
			continue
		}
		stk, ok := st.s.lookup(symbol)
		ss := st.s.stockSessionAt(c.now())
		if !ok || !ss.ok {
			continue
		}
		q := jsonMsg("q", symbol, string(appendStockQuote(nil, stk, ss, strings.TrimPrefix(c.feed, "v2/"))))
		for sent := 0; sent < n; {
			k := min(5000, n-sent)
			batch := make([]*stream.Msg, k)
			for i := range batch {
				batch[i] = q
			}
			c.write(stream.Frame(c.framing, batch))
			sent += k
		}
	}
}
