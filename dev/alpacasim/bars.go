package alpacasim

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"encoding/base64"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// tfUnit is a timeframe's unit.
type tfUnit uint8

const (
	tfMin tfUnit = iota
	tfHour
	tfDay
	tfWeek
	tfMonth
)

// timeframe is a bar resolution: n units.
type timeframe struct {
	n    int
	unit tfUnit
}

// parseTimeframe accepts Alpaca's forms: [1-59]Min|T, [1-23]Hour|H, 1Day|D,
// 1Week|W and [1,2,3,4,6,12]Month|M.
func parseTimeframe(s string) (timeframe, bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i > 2 || s[0] == '0' {
		return timeframe{}, false
	}
	n, _ := strconv.Atoi(s[:i])
	switch s[i:] {
	case "Min", "T":
		return timeframe{n, tfMin}, n <= 59
	case "Hour", "H":
		return timeframe{n, tfHour}, n <= 23
	case "Day", "D":
		return timeframe{n, tfDay}, n == 1
	case "Week", "W":
		return timeframe{n, tfWeek}, n == 1
	case "Month", "M":
		return timeframe{n, tfMonth}, n == 1 || n == 2 || n == 3 || n == 4 || n == 6 || n == 12
	}
	return timeframe{}, false
}

func (tf timeframe) intraday() bool { return tf.unit == tfMin || tf.unit == tfHour }

func (tf timeframe) duration() time.Duration {
	if tf.unit == tfHour {
		return time.Duration(tf.n) * time.Hour
	}
	return time.Duration(tf.n) * time.Minute
}

// bar is one aggregate, in Alpaca's fields.
type bar struct {
	t              time.Time
	o, h, l, c, vw float64
	v, n           uint64
}

// appendBar appends a stock bar in Alpaca's field order t o h l c v n vw.
func appendBar(b []byte, br bar) []byte {
	b = appendBarHead(b, br.t, br.o, br.h, br.l, br.c)
	b = appendUint(b, "v", br.v)
	return appendBarTail(b, br.n, br.vw)
}

// appendBarHead appends a bar's {"t":…,"o":…,"h":…,"l":…,"c":…, up to its
// volume, which is a count for stocks and a quantity for crypto.
func appendBarHead(b []byte, t time.Time, o, h, l, c float64) []byte {
	b = append(b, `{"t":`...)
	b = appendTime(b, t)
	b = comma(b)
	b = appendNum(b, "o", o)
	b = comma(b)
	b = appendNum(b, "h", h)
	b = comma(b)
	b = appendNum(b, "l", l)
	b = comma(b)
	b = appendNum(b, "c", c)
	return comma(b)
}

// appendBarTail closes a bar after its volume: ,"n":…,"vw":…}.
func appendBarTail(b []byte, n uint64, vw float64) []byte {
	b = comma(b)
	b = appendUint(b, "n", n)
	b = comma(b)
	b = appendNum(b, "vw", vw)
	return append(b, '}')
}

// sampleBar builds the bar stamped stamp over [a, z] from k+1 evenly spaced
// samples of price (unix seconds -> dollars), rounded to cents. volume is
// the expected volume; h seeds the bar's noise. The result satisfies
// l <= min(o, c), h >= max(o, c), l <= vw <= h, v >= n >= 1.
func sampleBar(stamp, a, z time.Time, k int, price func(float64) float64, volume, tradeSize float64, h uint64) bar {
	return sampleBarRounded(stamp, a, z, k, price, volume, tradeSize, h, func(x float64) float64 { return max(round2(x), 0.01) })
}

// sampleBarRounded is sampleBar with prices rounded by rnd instead of to
// cents.
func sampleBarRounded(stamp, a, z time.Time, k int, price func(float64) float64, volume, tradeSize float64, h uint64, rnd func(float64) float64) bar {
	if z.Before(a) {
		z = a
	}
	ta, tz := unixSeconds(a), unixSeconds(z)
	br := bar{t: stamp}
	var sw, spw float64
	for i := 0; i <= k; i++ {
		p := rnd(price(ta + (tz-ta)*float64(i)/float64(k)))
		if i == 0 {
			br.o, br.h, br.l = p, p, p
		}
		br.h, br.l, br.c = max(br.h, p), min(br.l, p), p
		w := 0.5 + unit(h, uint64(i))
		sw += w
		spw += w * p
	}
	br.vw = min(max(round4(spw/sw), br.l), br.h)
	br.v = uint64(max(math.Round(volume*(0.6+0.8*unit(h, 1000))), 1))
	br.n = min(uint64(max(math.Round(float64(br.v)/tradeSize), 1)), br.v)
	return br
}

// samplesFor picks how finely a span is sampled: enough for plausible highs
// and lows, few enough to stay cheap.
func samplesFor(d time.Duration) int {
	switch {
	case d <= time.Minute:
		return 3
	case d <= 15*time.Minute:
		return 4
	case d <= time.Hour:
		return 6
	case d <= 4*time.Hour:
		return 10
	default:
		return 16
	}
}

// extendedVolume is the share of the regular-session trading rate seen in
// pre-market and after hours.
const extendedVolume = 0.08

// historyStart is the first day with bars, as in Alpaca's own history.
var historyStart = market.Date{Year: 2016, Month: time.January, Day: 1}

// visible reports whether the bar stamped stamp is served at now: intraday
// bars once complete, longer bars once their first regular session opened.
func (s *Server) visible(tf timeframe, stamp, now time.Time) bool {
	d := s.days.day(market.DateOf(stamp))
	if tf.intraday() {
		return !earliest(stamp.Add(tf.duration()), d.AfterClose).After(now)
	}
	return d.Trading && !d.Open.After(now)
}

// after returns the first bar stamp at or after from, on a day no later than
// last.
func (s *Server) after(tf timeframe, from time.Time, last market.Date) (time.Time, bool) {
	switch tf.unit {
	case tfMin, tfHour:
		dur := tf.duration()
		for c := market.DateOf(from); !last.Before(c); c = c.AddDays(1) {
			h := s.days.day(c)
			if !h.Trading {
				continue
			}
			if !from.After(h.PreOpen) {
				return h.PreOpen, true
			}
			if from.Before(h.AfterClose) {
				k := (from.Sub(h.PreOpen) + dur - 1) / dur
				if t := h.PreOpen.Add(k * dur); t.Before(h.AfterClose) {
					return t, true
				}
			}
		}
	case tfDay:
		for c := market.DateOf(from); !last.Before(c); c = c.AddDays(1) {
			if s.days.day(c).Trading && !c.At(0, 0).Before(from) {
				return c.At(0, 0), true
			}
		}
	default:
		for b := s.bucketOf(tf, market.DateOf(from)); !last.Before(b); b = s.nextBucket(tf, b) {
			if d, ok := s.firstTrading(b, s.bucketEnd(tf, b)); ok && !d.At(0, 0).Before(from) && !last.Before(d) {
				return d.At(0, 0), true
			}
		}
	}
	return time.Time{}, false
}

// before returns the last bar stamp at or before from, on a day no earlier
// than first.
func (s *Server) before(tf timeframe, from time.Time, first market.Date) (time.Time, bool) {
	switch tf.unit {
	case tfMin, tfHour:
		dur := tf.duration()
		for c := market.DateOf(from); !c.Before(first); c = c.AddDays(-1) {
			h := s.days.day(c)
			if !h.Trading || from.Before(h.PreOpen) {
				continue
			}
			lim := from
			if !lim.Before(h.AfterClose) {
				lim = h.AfterClose.Add(-1)
			}
			return h.PreOpen.Add(lim.Sub(h.PreOpen) / dur * dur), true
		}
	case tfDay:
		for c := market.DateOf(from); !c.Before(first); c = c.AddDays(-1) {
			if s.days.day(c).Trading && !c.At(0, 0).After(from) {
				return c.At(0, 0), true
			}
		}
	default:
		for b := s.bucketOf(tf, market.DateOf(from)); !s.bucketEnd(tf, b).Before(first); b = s.prevBucket(tf, b) {
			if d, ok := s.firstTrading(b, s.bucketEnd(tf, b)); ok && !d.At(0, 0).After(from) && !d.Before(first) {
				return d.At(0, 0), true
			}
		}
	}
	return time.Time{}, false
}

// bucketOf returns the first day of the weekly or monthly bucket holding c.
func (s *Server) bucketOf(tf timeframe, c market.Date) market.Date {
	if tf.unit == tfWeek {
		return c.AddDays(-((int(c.Weekday()) + 6) % 7)) // Monday
	}
	mi := c.Year*12 + int(c.Month) - 1
	mi -= mi % tf.n
	return market.Date{Year: mi / 12, Month: time.Month(mi%12 + 1), Day: 1}
}

func (s *Server) nextBucket(tf timeframe, b market.Date) market.Date {
	if tf.unit == tfWeek {
		return b.AddDays(7)
	}
	return addMonths(b, tf.n)
}

func (s *Server) prevBucket(tf timeframe, b market.Date) market.Date {
	if tf.unit == tfWeek {
		return b.AddDays(-7)
	}
	return addMonths(b, -tf.n)
}

func (s *Server) bucketEnd(tf timeframe, b market.Date) market.Date {
	return s.nextBucket(tf, b).AddDays(-1)
}

// addMonths returns the first day of the month k months after b's.
func addMonths(b market.Date, k int) market.Date {
	mi := b.Year*12 + int(b.Month) - 1 + k
	return market.Date{Year: mi / 12, Month: time.Month(mi%12 + 1), Day: 1}
}

// firstTrading returns the first trading day in [a, z].
func (s *Server) firstTrading(a, z market.Date) (market.Date, bool) {
	for c := a; !z.Before(c); c = c.AddDays(1) {
		if s.days.day(c).Trading {
			return c, true
		}
	}
	return market.Date{}, false
}

// stockBar computes st's bar stamped stamp, which must be a visible stamp of
// tf at now.
func (s *Server) stockBar(st *stock, tf timeframe, stamp, now time.Time) bar {
	c := market.DateOf(stamp)
	switch tf.unit {
	case tfMin, tfHour:
		if tf.unit == tfMin && tf.n == 1 {
			return s.stockMinuteBar(st, stamp)
		}
		d := s.days.day(c)
		z := earliest(stamp.Add(tf.duration()), d.AfterClose)
		reg := overlap(stamp, z, d.Open, d.Close).Minutes()
		ext := z.Sub(stamp).Minutes() - reg
		return sampleBar(stamp, stamp, z, samplesFor(z.Sub(stamp)), st.price,
			st.perMinute*(reg+extendedVolume*ext), st.tradeSize, draw(st.hash, uint64(stamp.Unix())))
	case tfDay:
		return s.stockDaily(st, c, now)
	}
	// Weekly and monthly bars aggregate the daily bars of their bucket.
	var agg bar
	var pv float64
	for d := c; !s.bucketEnd(tf, s.bucketOf(tf, c)).Before(d); d = d.AddDays(1) {
		h := s.days.day(d)
		if !h.Trading || h.Open.After(now) {
			continue
		}
		db := s.stockDaily(st, d, now)
		if agg.v == 0 {
			agg = db
			agg.t = stamp
		} else {
			agg.h, agg.l, agg.c = max(agg.h, db.h), min(agg.l, db.l), db.c
			agg.v += db.v
			agg.n += db.n
		}
		pv += db.vw * float64(db.v)
	}
	agg.vw = min(max(round4(pv/float64(agg.v)), agg.l), agg.h)
	return agg
}

// stockDaily computes st's daily bar of trading day c: the regular session
// up to now.
func (s *Server) stockDaily(st *stock, c market.Date, now time.Time) bar {
	d := s.days.day(c)
	z := earliest(d.Close, now)
	return sampleBar(c.At(0, 0), d.Open, z, 16, st.price,
		st.perMinute*max(z.Sub(d.Open).Minutes(), 1), st.tradeSize, draw(st.hash, uint64(dateKey(c))))
}

// overlap is the length of [a, z) ∩ [p, q).
func overlap(a, z, p, q time.Time) time.Duration {
	lo, hi := a, z
	if p.After(lo) {
		lo = p
	}
	if q.Before(hi) {
		hi = q
	}
	if !hi.After(lo) {
		return 0
	}
	return hi.Sub(lo)
}

// barsQuery is a validated bars request.
type barsQuery struct {
	tf         timeframe
	start, end time.Time
	limit      int
	desc       bool
	token      *pageToken
}

// pageToken is the position of the next item: opaque to clients.
type pageToken struct {
	key string // symbol
	t   time.Time
}

func (p pageToken) encode() string {
	raw := p.key
	if !p.t.IsZero() {
		raw += "|" + strconv.FormatInt(p.t.UnixNano(), 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeToken(s string, timed bool) (*pageToken, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) == 0 {
		return nil, false
	}
	if !timed {
		return &pageToken{key: string(raw)}, true
	}
	key, ns, ok := strings.Cut(string(raw), "|")
	if !ok {
		return nil, false
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return nil, false
	}
	return &pageToken{key: key, t: time.Unix(0, n)}, true
}

func appendToken(b []byte, p *pageToken) []byte {
	b = append(b, `"next_page_token":`...)
	if p == nil {
		return append(b, "null"...)
	}
	return appendStr(b, p.encode())
}

// parseInstant parses RFC 3339 or YYYY-MM-DD; a date means the start of that
// New York day, or its last nanosecond when endOfDay.
func parseInstant(s string, endOfDay bool) (time.Time, bool) {
	if c, ok := parseDate(s); ok {
		if endOfDay {
			return c.AddDays(1).At(0, 0).Add(-1), true
		}
		return c.At(0, 0), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

var adjustments = map[string]bool{"raw": true, "split": true, "dividend": true, "spin-off": true, "all": true}

// parseBarsQuery validates the bar parameters shared by both routes.
func parseBarsQuery(q url.Values, now time.Time) (barsQuery, *apiError) {
	tfs := q.Get("timeframe")
	if tfs == "" {
		return barsQuery{}, badRequest("timeframe is required")
	}
	tf, ok := parseTimeframe(tfs)
	if !ok {
		return barsQuery{}, badRequest("invalid timeframe")
	}
	hq, e := parseHistQuery(q, now, 1000, 10000)
	if e != nil {
		return barsQuery{}, e
	}
	bq := barsQuery{tf: tf, start: hq.start, end: hq.end, limit: hq.limit, desc: hq.desc, token: hq.token}
	if v := q.Get("adjustment"); v != "" {
		for a := range strings.SplitSeq(v, ",") {
			if !adjustments[a] {
				return bq, badRequest("invalid adjustment")
			}
		}
	}
	switch q.Get("feed") {
	case "", "sip", "iex", "otc", "boats":
	default:
		return bq, badRequest("invalid feed")
	}
	if c := q.Get("currency"); c != "" && c != "USD" {
		return bq, badRequest("unsupported currency")
	}
	return bq, nil
}

// walkBars visits, in Alpaca's order (symbol, then time per sort), at most
// bq.limit bars of syms, which must be sorted, starting at bq.token. It returns
// the token of the next bar, or nil when there is none.
func (s *Server) walkBars(syms []*stock, bq barsQuery, now time.Time, emit func(i int, br bar)) *pageToken {
	start := bq.start
	if hs := historyStart.At(0, 0); start.Before(hs) {
		start = hs
	}
	end := bq.end
	if end.After(now) {
		end = now
	}
	first, last := market.DateOf(start), market.DateOf(end)
	// Resume at the token's symbol and time; a symbol gone since (vanished)
	// resumes at the next one.
	i0 := 0
	if bq.token != nil {
		i0, _ = slices.BinarySearchFunc(syms, bq.token.key, func(st *stock, key string) int {
			return strings.Compare(st.symbol, key)
		})
	}
	remaining := bq.limit
	for i := i0; i < len(syms); i++ {
		st := syms[i]
		cur := start
		if bq.desc {
			cur = end
		}
		if bq.token != nil && st.symbol == bq.token.key {
			cur = bq.token.t
		}
		for {
			var stamp time.Time
			var ok bool
			if bq.desc {
				stamp, ok = s.before(bq.tf, cur, first)
				if !ok || stamp.Before(start) {
					break
				}
				cur = stamp.Add(-1)
				if !s.visible(bq.tf, stamp, now) {
					continue
				}
			} else {
				stamp, ok = s.after(bq.tf, cur, last)
				if !ok || stamp.After(end) || !s.visible(bq.tf, stamp, now) {
					break
				}
				cur = stamp.Add(1)
			}
			if remaining == 0 {
				return &pageToken{st.symbol, stamp}
			}
			emit(i, s.stockBar(st, bq.tf, stamp, now))
			remaining--
		}
	}
	return nil
}

// stockBars answers GET /v2/stocks/{symbol}/bars:
// {"bars":[...],"symbol":"AAPL","next_page_token":...}.
func (s *Server) stockBars(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	bq, e := parseBarsQuery(q, req.now)
	if e != nil {
		return nil, e
	}
	st, e := s.pathStock(req.param)
	if e != nil {
		return nil, e
	}
	b = append(b, `{"bars":`...)
	n := 0
	next := s.walkBars([]*stock{st}, bq, req.now, func(_ int, br bar) {
		if n == 0 {
			b = append(b, '[')
		} else {
			b = comma(b)
		}
		n++
		b = appendBar(b, br)
	})
	if n == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, ']')
	}
	b = append(b, `,"symbol":`...)
	b = appendStr(b, st.symbol)
	b = comma(b)
	b = appendToken(b, next)
	return append(b, '}'), nil
}

// stockMultiBars answers GET /v2/stocks/bars?symbols=:
// {"bars":{"AAPL":[...],...},"next_page_token":...}; the limit counts bars
// across all symbols, and symbols without bars on the page are left out.
func (s *Server) stockMultiBars(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	bq, e := parseBarsQuery(q, req.now)
	if e != nil {
		return nil, e
	}
	known, e := s.queryStocks(q)
	if e != nil {
		return nil, e
	}
	b = append(b, `{"bars":{`...)
	open := -1
	next := s.walkBars(known, bq, req.now, func(i int, br bar) {
		if i != open {
			if open >= 0 {
				b = append(b, "],"...)
			}
			open = i
			b = appendKey(b, known[i].symbol)
			b = append(b, '[')
		} else {
			b = comma(b)
		}
		b = appendBar(b, br)
	})
	if open >= 0 {
		b = append(b, ']')
	}
	b = append(b, "},"...)
	b = appendToken(b, next)
	return append(b, '}'), nil
}
