package alpacasim

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// Corporate actions: /v1/corporate-actions and /v1beta1/corporate-actions.
// Both answer {"corporate_actions":{"cash_dividends":[...],...},
// "next_page_token":...}, the shape the JavaScript SDK's v1beta1 client also
// reads; v1 items carry an "id", v1beta1 items do not. The simulator has
// three kinds: quarterly cash dividends (about 60 % of symbols), and rare
// forward and reverse splits; prices are not adjusted for them. Actions are
// filtered and ordered by process date (the ex-date), then symbol, then type;
// start and end default to today; limit is 1–1000, default 100, counted
// across types.

var corporateActionTypes = [...]string{
	"reverse_split", "forward_split", "unit_split", "cash_dividend", "stock_dividend", "spin_off", "cash_merger",
	"stock_merger", "stock_and_cash_merger", "redemption", "name_change", "worthless_removal", "rights_distribution",
}

// corpAction is one action.
type corpAction struct {
	date     market.Date // process and ex-date
	symbol   string
	kind     string // "cash_dividend", "forward_split", "reverse_split"
	rate     float64
	newRate  float64
	oldRate  float64
	payable  market.Date
	recordOn market.Date
}

func (a corpAction) token() string {
	return strconv.Itoa(int(dateKey(a.date))) + "|" + a.symbol + "|" + a.kind
}

// weekdayOnOrAfter moves a weekend date to the Monday after.
func weekdayOnOrAfter(c market.Date) market.Date {
	for c.Weekday() == time.Saturday || c.Weekday() == time.Sunday {
		c = c.AddDays(1)
	}
	return c
}

// actionsOf appends st's actions with dates in [from, to].
func actionsOf(st *stock, from, to market.Date, out []corpAction) []corpAction {
	h := draw(st.hash, 0xc0a)
	if unit(h, 1) < 0.6 {
		m0 := 1 + int(draw(h, 2)%3)
		yield := 0.005 + 0.035*unit(h, 3)
		for y := from.Year; y <= to.Year; y++ {
			for q := range 4 {
				ex := weekdayOnOrAfter(market.Date{Year: y, Month: time.Month(m0 + 3*q), Day: 5 + int(draw(h, 4)%20)})
				if ex.Before(from) || to.Before(ex) {
					continue
				}
				rate := math.Round(st.basePrice()*yield/4*1e4) / 1e4
				out = append(out, corpAction{date: ex, symbol: st.symbol, kind: "cash_dividend", rate: max(rate, 0.01),
					recordOn: ex, payable: weekdayOnOrAfter(ex.AddDays(14 + int(draw(h, uint64(y*4+q))%16)))})
			}
		}
	}
	if k := draw(h, 5) % 40; k < 2 {
		ex := weekdayOnOrAfter(market.Date{Year: 2016, Month: time.January, Day: 1}.AddDays(int(draw(h, 6) % 4700)))
		if !ex.Before(from) && !to.Before(ex) {
			a := corpAction{date: ex, symbol: st.symbol, kind: "forward_split", newRate: float64(2 + draw(h, 7)%3), oldRate: 1,
				recordOn: ex.AddDays(-7), payable: ex.AddDays(-1)}
			if k == 1 {
				a.kind, a.newRate, a.oldRate = "reverse_split", 1, float64([3]int{5, 10, 20}[draw(h, 8)%3])
			}
			out = append(out, a)
		}
	}
	return out
}

// corpQuery is a validated corporate actions request.
type corpQuery struct {
	symbols  []string // empty: all
	types    map[string]bool
	from, to market.Date
	limit    int
	desc     bool
	after    string // page token
}

func parseCorpQuery(q url.Values, now time.Time) (corpQuery, *apiError) {
	cq := corpQuery{from: market.DateOf(now), to: market.DateOf(now), limit: 100, types: map[string]bool{}}
	if q.Get("symbols") != "" {
		syms, e := symbolList(q, validStockSymbol, 0)
		if e != nil {
			return cq, e
		}
		cq.symbols = syms
	}
	if v := q.Get("types"); v != "" {
		for t := range strings.SplitSeq(v, ",") {
			if !slices.Contains(corporateActionTypes[:], t) {
				return cq, badRequest("invalid types")
			}
			cq.types[t] = true
		}
	}
	for name, dst := range map[string]*market.Date{"start": &cq.from, "end": &cq.to} {
		if v := q.Get(name); v != "" {
			c, ok := parseDate(v)
			if !ok {
				return cq, badRequest("invalid " + name)
			}
			*dst = c
		}
	}
	if cq.to.Before(cq.from) {
		return cq, badRequest("end should not be before start")
	}
	if cq.to.Year-cq.from.Year > 100 {
		return cq, badRequest("the range is too long")
	}
	hq, e := parseHistQuery(url.Values{"limit": q["limit"], "sort": q["sort"]}, now, 100, 1000)
	if e != nil {
		return cq, e
	}
	cq.limit, cq.desc = hq.limit, hq.desc
	if v := q.Get("page_token"); v != "" {
		p, ok := decodeToken(v, false)
		if !ok {
			return cq, badRequest("invalid page_token")
		}
		cq.after = p.key
	}
	return cq, nil
}

// corporateActions answers both routes; withID adds v1's ids.
func (s *Server) corporateActions(b []byte, req request, withID bool) ([]byte, *apiError) {
	cq, e := parseCorpQuery(req.r.URL.Query(), req.now)
	if e != nil {
		return nil, e
	}
	sts := s.knownStocks(Universe())
	if cq.symbols != nil {
		sts = s.knownStocks(cq.symbols)
	}
	var all []corpAction
	for _, st := range sts {
		all = actionsOf(st, cq.from, cq.to, all)
	}
	all = slices.DeleteFunc(all, func(a corpAction) bool { return len(cq.types) > 0 && !cq.types[a.kind] })
	slices.SortFunc(all, func(a, b corpAction) int { return strings.Compare(a.token(), b.token()) })
	if cq.desc {
		slices.Reverse(all)
	}
	var page []corpAction
	var next *pageToken
	for _, a := range all {
		if cq.after != "" && ((!cq.desc && a.token() < cq.after) || (cq.desc && a.token() > cq.after)) {
			continue
		}
		if len(page) == cq.limit {
			next = &pageToken{key: a.token()}
			break
		}
		page = append(page, a)
	}
	b = append(b, `{"corporate_actions":{`...)
	first := true
	for _, kind := range [...]string{"cash_dividend", "forward_split", "reverse_split"} {
		n := 0
		for _, a := range page {
			if a.kind != kind {
				continue
			}
			if n == 0 {
				if !first {
					b = comma(b)
				}
				first = false
				b = appendKey(b, kind+"s")
				b = append(b, '[')
			} else {
				b = comma(b)
			}
			n++
			b = appendCorpAction(b, a, withID)
		}
		if n > 0 {
			b = append(b, ']')
		}
	}
	b = append(b, "},"...)
	b = appendToken(b, next)
	return append(b, '}'), nil
}

func appendDateField(b []byte, key string, c market.Date) []byte {
	b = appendKey(b, key)
	b = append(b, '"')
	b = appendDate(b, c)
	return append(b, '"')
}

func appendCorpAction(b []byte, a corpAction, withID bool) []byte {
	b = append(b, '{')
	if withID {
		h := hashString(0, a.token())
		b = append(b, `"id":"`...)
		for i, n := range [5]int{8, 4, 4, 4, 12} {
			if i > 0 {
				b = append(b, '-')
			}
			for k := range n {
				b = append(b, "0123456789abcdef"[draw(h, uint64(i*16+k))%16])
			}
		}
		b = append(b, `",`...)
	}
	b = append(b, `"symbol":`...)
	b = appendStr(b, a.symbol)
	b = comma(b)
	if a.kind == "cash_dividend" {
		b = appendNum(b, "rate", a.rate)
		b = append(b, `,"special":false,"foreign":false,`...)
	} else {
		b = appendNum(b, "new_rate", a.newRate)
		b = comma(b)
		b = appendNum(b, "old_rate", a.oldRate)
		b = comma(b)
	}
	b = appendDateField(b, "process_date", a.date)
	b = comma(b)
	b = appendDateField(b, "ex_date", a.date)
	b = comma(b)
	b = appendDateField(b, "record_date", a.recordOn)
	b = comma(b)
	b = appendDateField(b, "payable_date", a.payable)
	return append(b, '}')
}

func (s *Server) corporateActionsV1(b []byte, req request) ([]byte, *apiError) {
	return s.corporateActions(b, req, true)
}

func (s *Server) corporateActionsV1Beta1(b []byte, req request) ([]byte, *apiError) {
	return s.corporateActions(b, req, false)
}
