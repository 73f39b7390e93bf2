package alpacasim

import (
	"slices"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

// emit sends, every tick, what changed for the connection's subscription.
func (c *simConn) emit() {
	t := time.NewTicker(c.st.cfg.Tick)
	defer t.Stop()
	_, delay := stockFeedOf(c.feed)
	now := c.now()
	ts := &tickState{last: map[string]*streamed{}, minute: now.Add(-delay).Truncate(time.Minute), at: now}
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		if c.st.silent.Load() {
			continue
		}
		if msgs := c.tick(ts); len(msgs) > 0 {
			c.write(stream.Frame(c.framing, msgs))
		}
	}
}

// tickState is what a connection's ticks remember between them.
type tickState struct {
	last   map[string]*streamed // what was sent of each symbol
	minute time.Time            // the last tick's minute, feed's delay applied: the bar before it was sent
	at     time.Time            // the clock's instant at the last tick (news)
}

// streamedOf returns what was sent of sym, an empty record the first time.
func streamedOf(last map[string]*streamed, sym string) *streamed {
	sd := last[sym]
	if sd == nil {
		sd = &streamed{}
		last[sym] = sd
	}
	return sd
}

// changedQuote appends the quote message of sym whose fields are the JSON
// object q, unless q is the quote last sent.
func (sd *streamed) changedQuote(msgs []*stream.Msg, sym, q string) []*stream.Msg {
	if q == sd.quote {
		return msgs
	}
	sd.quote = q
	return append(msgs, jsonMsg("q", sym, q))
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

// streamed is what a connection last sent of one symbol.
type streamed struct {
	quote string    // the last quote object
	trade time.Time // the last trade's instant
	any   bool      // a trade was sent
}

// stockFeedOf is the REST feed parameter of a stock stream feed and the
// delay it lags the clock by.
func stockFeedOf(feed string) (string, time.Duration) {
	f := strings.TrimPrefix(feed, "v2/")
	if f == "delayed_sip" {
		return f, 15 * time.Minute
	}
	return f, 0
}

// tick returns what the connection's feed carries since the last tick:
// see stockTick, cryptoTick, optionTick and newsTick.
func (c *simConn) tick(ts *tickState) []*stream.Msg {
	switch {
	case c.feed == stream.FeedCrypto:
		return c.cryptoTick(ts.last, &ts.minute)
	case c.feed == stream.FeedNews:
		return c.newsTick(&ts.at)
	case c.feed == stream.FeedIndicative || c.feed == stream.FeedOPRA:
		return c.optionTick(ts.last)
	case strings.HasPrefix(c.feed, "v2/"):
		return c.stockTick(ts.last, &ts.minute)
	}
	return nil
}

// stockTick is tick for a stock feed: the quotes that changed since the
// last tick, the trades made since, and the minute bars completed since.
func (c *simConn) stockTick(last map[string]*streamed, minute *time.Time) []*stream.Msg {
	feed, delay := stockFeedOf(c.feed)
	now, subs := c.now().Add(-delay), c.subscription()
	var msgs []*stream.Msg
	for _, sym := range union(subs.List("quotes"), subs.List("trades")) {
		st, ok := c.st.s.lookup(sym)
		if !ok {
			continue
		}
		sd := streamedOf(last, sym)
		if subs.Has("quotes", sym) {
			msgs = c.st.s.appendStreamQuote(msgs, st, sd, now, feed)
		}
		if subs.Has("trades", sym) {
			msgs = c.st.s.appendStreamTrades(msgs, st, sd, now, feed)
		}
	}
	if m := now.Truncate(time.Minute); m.After(*minute) {
		*minute = m
		msgs = append(msgs, c.bars(subs.List("bars"), m.Add(-time.Minute))...)
	}
	return msgs
}

// appendStreamQuote appends st's REST latest quote at now, if it is not the
// one last sent.
func (s *Server) appendStreamQuote(msgs []*stream.Msg, st *stock, sd *streamed, now time.Time, feed string) []*stream.Msg {
	b, ok := s.appendLatestQuote(nil, st, now, feed)
	if !ok {
		return msgs
	}
	return sd.changedQuote(msgs, st.symbol, string(b))
}

// maxStreamTrades caps the trades of one symbol sent at one tick (the
// latest ones are kept) when the clock jumps.
const maxStreamTrades = 200

// appendStreamTrades appends st's trades after the last one sent, up to
// now, oldest first; the first time, the REST latest trade at now alone.
func (s *Server) appendStreamTrades(msgs []*stream.Msg, st *stock, sd *streamed, now time.Time, feed string) []*stream.Msg {
	return sd.newTrades(msgs, s.stockSeries([]*stock{st}, true), now, lookback,
		func(m time.Time, j int) (time.Time, *stream.Msg) {
			tr := s.stockTradeAt(st, m, j, feed)
			return tr.t, jsonMsg("t", st.symbol, string(appendStockTrade(nil, tr, st.tape)))
		})
}

// newTrades appends the trades of the one-key series sr after the last one
// sent, up to now, oldest first and at most maxStreamTrades (the latest);
// the first time, or when the clock went back, the latest one at now
// alone, looking back at most back. trade makes trade j of bucket m.
func (sd *streamed) newTrades(msgs []*stream.Msg, sr *series, now time.Time, back time.Duration,
	trade func(m time.Time, j int) (time.Time, *stream.Msg)) []*stream.Msg {
	type ref struct {
		m time.Time
		j int
	}
	var found []ref
	if !sd.any || now.Before(sd.trade) {
		if m, j, _, ok := sr.latest(0, now, back); ok {
			found = append(found, ref{m, j})
		}
	} else {
		hq := histQuery{start: sd.trade.Add(1), end: now, limit: maxStreamTrades, desc: true}
		sr.walk(hq, now, func(_ int, m time.Time, j int, _ time.Time) { found = append(found, ref{m, j}) })
		slices.Reverse(found)
	}
	for _, r := range found {
		t, msg := trade(r.m, r.j)
		msgs = append(msgs, msg)
		sd.trade, sd.any = t, true
	}
	return msgs
}

// bars returns the 1Min bars stamped stamp of syms, as the REST bars route
// serves them, if stamp is inside the extended session.
func (c *simConn) bars(syms []string, stamp time.Time) []*stream.Msg {
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
		out = append(out, jsonMsg("b", st.symbol, string(appendBar(nil, s.stockMinuteBar(st, stamp)))))
	}
	return out
}

// jsonMsg is the stream message of type typ for sym (none when empty)
// whose other fields are the JSON object obj.
func jsonMsg(typ, sym, obj string) *stream.Msg {
	head := `[{"T":"` + typ + `",`
	if sym != "" {
		head += `"S":"` + sym + `",`
	}
	frame := head + obj[1:] + `]`
	msgs, err := stream.DecodeFrame([]byte(frame), stream.JSON)
	if err != nil || len(msgs) != 1 {
		panic("alpacasim: bad stream message " + frame)
	}
	return msgs[0]
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, x := range b {
		if !slices.Contains(a, x) {
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
	stk, ok := st.s.lookup(symbol)
	if !ok {
		return
	}
	for _, c := range conns {
		if !c.subscription().Has("quotes", symbol) || !strings.HasPrefix(c.feed, "v2/") {
			continue
		}
		feed, delay := stockFeedOf(c.feed)
		b, ok := st.s.appendLatestQuote(nil, stk, c.now().Add(-delay), feed)
		if !ok {
			continue
		}
		q := jsonMsg("q", stk.symbol, string(b))
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
