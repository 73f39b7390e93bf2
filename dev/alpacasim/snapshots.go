package alpacasim

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// expirationSet is the list of listed expirations on one date.
type expirationSet struct {
	date   market.Date
	dates  []market.Date // ascending
	closes []float64     // unix seconds of each expiration day's regular close
}

// Weekly expirations listed ahead, then monthly ones after them.
const (
	weeklyExpirations  = 6
	monthlyExpirations = 3
)

// expirations returns the expirations listed on date today: the next six
// Fridays (today's included) and the next three monthly expirations (third
// Fridays) after the last of them. An expiration falling on a holiday moves to
// the trading day before, and is dropped if that is already past.
func (s *Server) expirations(today market.Date) *expirationSet {
	if e := s.exps.Load(); e != nil && e.date == today {
		return e
	}
	e := &expirationSet{date: today}
	add := func(c market.Date) {
		if !s.days.day(c).Trading {
			if _, p, ok := s.days.prevTrading(c); ok {
				c = p
			}
		}
		if c.Before(today) || slices.Contains(e.dates, c) {
			return
		}
		e.dates = append(e.dates, c)
		e.closes = append(e.closes, unixSeconds(s.days.day(c).Close))
	}
	friday := today.AddDays((int(time.Friday) - int(today.Weekday()) + 7) % 7)
	for k := range weeklyExpirations {
		add(friday.AddDays(7 * k))
	}
	lastWeekly := friday.AddDays(7 * (weeklyExpirations - 1))
	for k, n := 0, 0; n < monthlyExpirations; k++ {
		m := addMonths(market.Date{Year: lastWeekly.Year, Month: lastWeekly.Month, Day: 1}, k)
		if third := m.AddDays((int(time.Friday)-int(m.Weekday())+7)%7 + 14); lastWeekly.Before(third) {
			add(third)
			n++
		}
	}
	s.exps.Store(e)
	return e
}

func (e *expirationSet) index(c market.Date) int {
	for i, d := range e.dates {
		if d == c {
			return i
		}
	}
	return -1
}

// optionSession is the latest regular session at an instant, when options
// trade.
type optionSession struct {
	day    market.DayHours
	date   market.Date
	anchor time.Time // now inside the session, else the close of the last one
	prev   market.DayHours
	prevOK bool
	ok     bool
}

func (s *Server) optionSessionAt(now time.Time) optionSession {
	day, c, anchor, ok := s.days.lastSession(now, regularOpen, regularClose)
	sess := optionSession{day: day, date: c, anchor: anchor, ok: ok}
	if ok {
		sess.prev, _, sess.prevOK = s.days.prevTrading(c)
	}
	return sess
}

// listed is a contract known to the simulator at one instant.
type listed struct {
	st        *stock
	k         contract
	expiresAt float64 // unix seconds
	hash      uint64
}

// findContract returns the listed contract named by a well-formed OCC symbol.
func (s *Server) findContract(sym string, exps *expirationSet) (listed, bool) {
	k, ok := parseOCC(sym)
	if !ok {
		return listed{}, false
	}
	st, ok := s.lookup(k.root)
	if !ok || st.chain == nil || s.isVanished(sym) || !st.chain.hasStrike(k.strike) {
		return listed{}, false
	}
	i := exps.index(k.expiry)
	if i < 0 {
		return listed{}, false
	}
	return newListed(st, k, exps.closes[i]), true
}

func newListed(st *stock, k contract, expiresAt float64) listed {
	x := uint64(dateKey(k.expiry))<<32 ^ uint64(k.strike)<<1
	if k.put {
		x |= 1
	}
	return listed{st: st, k: k, expiresAt: expiresAt, hash: draw(st.hash, x)}
}

func (l listed) value(t time.Time) valuation {
	return l.st.chain.value(l.st, l.k, unixSeconds(t), l.expiresAt)
}

// spread returns the bid and ask around a theoretical value: at least a cent
// each, ask above bid.
func (l listed) spread(v float64, u float64) (bid, ask float64) {
	hs := (0.01 + 0.02*v) * (0.7 + 0.6*u)
	bid = max(floor2(v-hs), 0.01)
	ask = max(ceil2(v+hs), round2(bid+0.01))
	return bid, ask
}

var (
	optionExchanges       = [...]string{"A", "B", "C", "D", "E", "H", "I", "J", "M", "N", "O", "P", "Q", "S", "T", "W", "X", "Z"}
	optionQuoteConditions = [...]string{"A", "B", "C"}
	optionTradeConditions = [...]string{"a", "f", "g", "I"}
)

func pick(list []string, h uint64) string { return list[h%uint64(len(list))] }

// optionQuote is a contract's latest quote with the valuation behind it.
type optionQuote struct {
	t        time.Time
	bid, ask float64
	bs, as   uint64
	bx, ax   string
	cond     string
	val      valuation
}

// quoteAt is the contract's latest quote as of sess: stamped at most 3 s
// before the anchor, never before the session opened.
func (l listed) quoteAt(sess optionSession) optionQuote {
	h := draw(l.hash, uint64(sess.anchor.UnixMilli()))
	t := sess.anchor.Add(-time.Duration(1e6 + h%3e9))
	if t.Before(sess.day.Open) {
		t = sess.day.Open
	}
	q := optionQuote{t: t, val: l.value(t)}
	q.bid, q.ask = l.spread(q.val.value, unit(h, 1))
	q.bs, q.as = 1+draw(h, 2)%300, 1+draw(h, 3)%300
	q.bx, q.ax = pick(optionExchanges[:], draw(h, 4)), pick(optionExchanges[:], draw(h, 5))
	q.cond = pick(optionQuoteConditions[:], draw(h, 6))
	return q
}

func appendOptionQuote(b []byte, q optionQuote) []byte {
	b = append(b, '{')
	b = appendNum(b, "ap", q.ask)
	b = comma(b)
	b = appendUint(b, "as", q.as)
	b = append(b, `,"ax":`...)
	b = appendStr(b, q.ax)
	b = comma(b)
	b = appendNum(b, "bp", q.bid)
	b = comma(b)
	b = appendUint(b, "bs", q.bs)
	b = append(b, `,"bx":`...)
	b = appendStr(b, q.bx)
	b = append(b, `,"c":`...)
	b = appendStr(b, q.cond)
	b = append(b, `,"t":`...)
	b = appendTime(b, q.t)
	return append(b, '}')
}

// appendOptionBar appends a bar with fields in alphabetical order, as
// Alpaca's option snapshots have them.
func appendOptionBar(b []byte, br bar) []byte {
	b = append(b, '{')
	b = appendNum(b, "c", br.c)
	b = comma(b)
	b = appendNum(b, "h", br.h)
	b = comma(b)
	b = appendNum(b, "l", br.l)
	b = comma(b)
	b = appendUint(b, "n", br.n)
	b = comma(b)
	b = appendNum(b, "o", br.o)
	b = append(b, `,"t":`...)
	b = appendTime(b, br.t)
	b = comma(b)
	b = appendUint(b, "v", br.v)
	b = comma(b)
	b = appendNum(b, "vw", br.vw)
	return append(b, '}')
}

// optionBar samples the contract's value over [a, z].
func (l listed) bar(stamp, a, z time.Time, k int) bar {
	strike := float64(l.k.strike) / 1000
	perMinute := 0.2 + 25*math.Exp(-8*math.Abs(math.Log(strike/l.st.basePrice())))
	price := func(t float64) float64 {
		return l.st.chain.value(l.st, l.k, t, l.expiresAt).value
	}
	return sampleBar(stamp, a, z, k, price, perMinute*max(z.Sub(a).Minutes(), 1), 3, draw(l.hash, uint64(stamp.Unix())))
}

// appendOptionSnapshot appends the snapshot of l as of sess, fields in
// alphabetical order as Alpaca sends them. The latest trade is the one
// /v1beta1/options/trades/latest answers, the minute bar aggregates the
// trades of its minute up to then; the daily bars are sampled from the
// contract's value.
func (s *Server) appendOptionSnapshot(b []byte, l listed, sess optionSession) []byte {
	q := l.quoteAt(sess)
	tr, hasTrade := s.latestOptionTrade(l, sess.anchor)
	var minuteBar bar
	if hasTrade {
		m := tr.t.Truncate(time.Minute)
		minuteBar, _ = s.optionAggregate(l, m, m, m.Add(time.Minute), sess.anchor)
	}
	daily := l.bar(sess.date.At(0, 0), sess.day.Open, sess.anchor, 6)

	b = append(b, `{"dailyBar":`...)
	b = appendOptionBar(b, daily)
	b = append(b, `,"greeks":{`...)
	g := q.val.g
	b = appendNum(b, "delta", g.delta)
	b = comma(b)
	b = appendNum(b, "gamma", g.gamma)
	b = comma(b)
	b = appendNum(b, "rho", g.rho)
	b = comma(b)
	b = appendNum(b, "theta", g.theta)
	b = comma(b)
	b = appendNum(b, "vega", g.vega)
	b = append(b, "},"...)
	b = appendNum(b, "impliedVolatility", q.val.iv)
	b = append(b, `,"latestQuote":`...)
	b = appendOptionQuote(b, q)
	if hasTrade {
		b = append(b, `,"latestTrade":{"c":`...)
		b = appendStr(b, tr.c)
		b = comma(b)
		b = appendNum(b, "p", tr.p)
		b = comma(b)
		b = appendUint(b, "s", tr.s)
		b = append(b, `,"t":`...)
		b = appendTime(b, tr.t)
		b = append(b, `,"x":`...)
		b = appendStr(b, tr.x)
		b = append(b, `},"minuteBar":`...)
		b = appendOptionBar(b, minuteBar)
	}
	if sess.prevOK {
		b = append(b, `,"prevDailyBar":`...)
		pc := market.DateOf(sess.prev.Open)
		b = appendOptionBar(b, l.bar(pc.At(0, 0), sess.prev.Open, sess.prev.Close, 6))
	}
	return append(b, '}')
}

func validOCC(s string) bool {
	_, ok := parseOCC(s)
	return ok
}

func optionFeed(q url.Values) *apiError {
	switch q.Get("feed") {
	case "", "opra", "indicative":
		return nil
	}
	return badRequest("invalid feed")
}

// maxOptionSymbols is Alpaca's cap on symbols per option request.
const maxOptionSymbols = 100

// optionQuotes answers GET /v1beta1/options/quotes/latest?symbols=:
// {"quotes":{OCC:{...}}}, unknown contracts left out.
func (s *Server) optionQuotes(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	if e := optionFeed(q); e != nil {
		return nil, e
	}
	syms, e := symbolList(q, validOCC, maxOptionSymbols)
	if e != nil {
		return nil, e
	}
	sess := s.optionSessionAt(req.now)
	exps := s.expirations(market.DateOf(req.now))
	b = append(b, `{"quotes":{`...)
	first := true
	for _, sym := range syms {
		l, ok := s.findContract(sym, exps)
		if !ok || !sess.ok {
			continue
		}
		if !first {
			b = comma(b)
		}
		first = false
		b = appendKey(b, sym)
		b = appendOptionQuote(b, l.quoteAt(sess))
	}
	return append(b, "}}"...), nil
}

// pageLimit parses limit for the snapshot endpoints: 1–1000, default 100.
func pageLimit(q url.Values) (int, *apiError) {
	v := q.Get("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, badRequest("invalid limit: must be between 1 and 1000")
	}
	return n, nil
}

func keyToken(q url.Values) (string, *apiError) {
	v := q.Get("page_token")
	if v == "" {
		return "", nil
	}
	p, ok := decodeToken(v, false)
	if !ok {
		return "", badRequest("invalid page_token")
	}
	return p.key, nil
}

// optionSnapshots answers GET /v1beta1/options/snapshots?symbols=:
// {"snapshots":{OCC:{...}},"next_page_token":...}, unknown contracts left out,
// pages of limit snapshots in symbol order.
func (s *Server) optionSnapshots(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	if e := optionFeed(q); e != nil {
		return nil, e
	}
	syms, e := symbolList(q, validOCC, maxOptionSymbols)
	if e != nil {
		return nil, e
	}
	limit, e := pageLimit(q)
	if e != nil {
		return nil, e
	}
	from, e := keyToken(q)
	if e != nil {
		return nil, e
	}
	sess := s.optionSessionAt(req.now)
	exps := s.expirations(market.DateOf(req.now))
	b = append(b, `{"snapshots":{`...)
	var next *pageToken
	n := 0
	for _, sym := range syms {
		if sym < from {
			continue
		}
		l, ok := s.findContract(sym, exps)
		if !ok || !sess.ok {
			continue
		}
		if n == limit {
			next = &pageToken{key: sym}
			break
		}
		if n > 0 {
			b = comma(b)
		}
		n++
		b = appendKey(b, sym)
		b = s.appendOptionSnapshot(b, l, sess)
	}
	b = append(b, "},"...)
	b = appendToken(b, next)
	return append(b, '}'), nil
}

// chainFilter is the validated filters of a chain request.
type chainFilter struct {
	calls, puts          bool
	strikeMin, strikeMax int64       // thousandths, inclusive
	expiryMin, expiryMax market.Date // inclusive
	root                 string
	limit                int
	from                 string // page token: the first symbol to return
	hasExpMin, hasExpMax bool
	empty                bool // the filters contradict each other
}

func parseChainFilter(q url.Values) (chainFilter, *apiError) {
	f := chainFilter{calls: true, puts: true, strikeMin: math.MinInt64, strikeMax: math.MaxInt64}
	switch q.Get("type") {
	case "":
	case "call":
		f.puts = false
	case "put":
		f.calls = false
	default:
		return f, badRequest("invalid type: must be call or put")
	}
	strike := func(name string, round func(float64) float64, dst *int64) *apiError {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return badRequest("invalid " + name)
		}
		*dst = int64(round(x * 1000))
		return nil
	}
	if e := strike("strike_price_gte", math.Ceil, &f.strikeMin); e != nil {
		return f, e
	}
	if e := strike("strike_price_lte", math.Floor, &f.strikeMax); e != nil {
		return f, e
	}
	date := func(name string) (market.Date, bool, *apiError) {
		v := q.Get(name)
		if v == "" {
			return market.Date{}, false, nil
		}
		c, ok := parseDate(v)
		if !ok {
			return market.Date{}, false, badRequest("invalid " + name)
		}
		return c, true, nil
	}
	exact, hasExact, e := date("expiration_date")
	if e != nil {
		return f, e
	}
	if f.expiryMin, f.hasExpMin, e = date("expiration_date_gte"); e != nil {
		return f, e
	}
	if f.expiryMax, f.hasExpMax, e = date("expiration_date_lte"); e != nil {
		return f, e
	}
	if hasExact {
		if (f.hasExpMin && exact.Before(f.expiryMin)) || (f.hasExpMax && f.expiryMax.Before(exact)) {
			f.empty = true
		}
		f.expiryMin, f.expiryMax, f.hasExpMin, f.hasExpMax = exact, exact, true, true
	}
	if v := q.Get("updated_since"); v != "" {
		if _, ok := parseInstant(v, false); !ok {
			return f, badRequest("invalid updated_since")
		}
	}
	f.root = q.Get("root_symbol")
	if f.limit, e = pageLimit(q); e != nil {
		return f, e
	}
	if f.from, e = keyToken(q); e != nil {
		return f, e
	}
	return f, nil
}

// optionChain answers GET /v1beta1/options/snapshots/{underlying}: the
// snapshots of the listed contracts that pass the filters, in OCC symbol
// order, limit per page. An unknown underlying has an empty chain.
func (s *Server) optionChain(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	if e := optionFeed(q); e != nil {
		return nil, e
	}
	if !validStockSymbol(req.param) {
		return nil, invalidSymbol(req.param)
	}
	f, e := parseChainFilter(q)
	if e != nil {
		return nil, e
	}
	b = append(b, `{"snapshots":{`...)
	var next *pageToken
	st, ok := s.lookup(req.param)
	sess := s.optionSessionAt(req.now)
	if ok && st.chain != nil && sess.ok && !f.empty && (f.root == "" || f.root == st.chain.root) {
		next = s.walkChain(st, f, market.DateOf(req.now), func(l listed, sym []byte, first bool) {
			if !first {
				b = comma(b)
			}
			b = append(b, '"')
			b = append(b, sym...)
			b = append(b, '"', ':')
			b = s.appendOptionSnapshot(b, l, sess)
		})
	}
	b = append(b, "},"...)
	b = appendToken(b, next)
	return append(b, '}'), nil
}

// walkChain visits up to f.limit contracts of st's chain that pass f, in OCC
// order (expiration, calls before puts, strike), and returns the token of the
// next one, or nil.
func (s *Server) walkChain(st *stock, f chainFilter, today market.Date, emit func(l listed, sym []byte, first bool)) *pageToken {
	c := st.chain
	exps := s.expirations(today)
	var sym [32]byte
	n := 0
	for i, exp := range exps.dates {
		if (f.hasExpMin && exp.Before(f.expiryMin)) || (f.hasExpMax && f.expiryMax.Before(exp)) {
			continue
		}
		for _, put := range [2]bool{false, true} {
			if (put && !f.puts) || (!put && !f.calls) {
				continue
			}
			for j := -c.n; j <= c.n; j++ {
				k := contract{root: c.root, expiry: exp, put: put, strike: c.center + j*c.inc}
				if k.strike < f.strikeMin || k.strike > f.strikeMax {
					continue
				}
				occ := k.appendTo(sym[:0])
				if string(occ) < f.from {
					continue
				}
				if vm := *s.vanished.Load(); len(vm) > 0 {
					if _, gone := vm[string(occ)]; gone {
						continue
					}
				}
				if n == f.limit {
					return &pageToken{key: string(occ)}
				}
				emit(newListed(st, k, exps.closes[i]), occ, n == 0)
				n++
			}
		}
	}
	return nil
}

// OptionSymbols returns the OCC symbols of the contracts listed on
// underlying at the clock's now, sorted; nil for an unknown or vanished
// underlying or one without options. The answer changes when the clock's New
// York date does, as expirations roll.
func (s *Server) OptionSymbols(underlying string) []string {
	st, ok := s.lookup(underlying)
	if !ok || st.chain == nil {
		return nil
	}
	var out []string
	f := chainFilter{calls: true, puts: true, strikeMin: math.MinInt64, strikeMax: math.MaxInt64, limit: math.MaxInt}
	s.walkChain(st, f, market.DateOf(s.clock.Now()), func(_ listed, sym []byte, _ bool) { out = append(out, string(sym)) })
	return out
}
