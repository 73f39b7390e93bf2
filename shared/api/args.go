package api

import (
	"cmp"
	"net/url"
	"strconv"
	"time"

	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/symbol"
)

// args are a request's validated parameters: what the origin is sent (the
// client's spellings) and the key form of the query (every declared
// parameter in its canonical spelling, an absent one as its default), so
// equal queries share a key and different ones never do.
type args struct {
	origin url.Values
	key    []string
	feed   string    // the feed asked for, resolved to the default; "" for none
	end    time.Time // the end parameter, zero when absent
}

// args validates the route's feed and declared parameters.
func (h *Handler) args(r *request) (args, error) {
	a := args{origin: url.Values{}, key: make([]string, 0, len(r.rt.Params)+1)}
	feed, err := h.feedParam(r.rt.Feed, r.q)
	if err != nil {
		return a, err
	}
	if feed != "" {
		a.feed = feed
		a.origin.Set("feed", feed)
		a.key = append(a.key, "feed="+feed)
	}
	var start time.Time
	for _, p := range r.rt.Params {
		raw, present := r.q[p.Name]
		if !present {
			if p.Required {
				return a, required(p)
			}
			a.key = append(a.key, p.Name+"="+p.Default)
			continue
		}
		k, t, err := check(p, raw)
		if err != nil {
			return a, err
		}
		switch p.Name {
		case "start":
			start = t
		case "end":
			a.end = t
		}
		a.origin.Set(p.Name, raw)
		a.key = append(a.key, p.Name+"="+k)
	}
	if !start.IsZero() && !a.end.IsZero() && a.end.Before(start) {
		return a, badf("end is before start")
	}
	return a, nil
}

// feedParam validates the feed (and, for stocks, currency) of a route and
// resolves an absent feed to the deployment's default.
func (h *Handler) feedParam(f catalog.Feed, q query) (string, error) {
	switch f {
	case catalog.StockFeed:
		feed, err := q.oneOf("feed", stockFeeds)
		if err != nil {
			return "", err
		}
		if c, ok := q["currency"]; ok && c != "USD" {
			return "", badf("currency %s is not supported: only USD", excerpt(c))
		}
		return cmp.Or(feed, h.stockFeed), nil
	case catalog.OptionFeed:
		feed, err := q.oneOf("feed", optionFeeds)
		return cmp.Or(feed, h.optionFeed), err
	}
	return "", nil
}

// required is the refusal of an absent required parameter.
func required(p catalog.Param) error {
	if p.Type == catalog.Timeframe {
		return badf("timeframe is required, e.g. 1Min, 15Min, 1Hour, 1Day")
	}
	return badf("%s is required", p.Name)
}

// check validates one present parameter and returns its key form and, for
// a time, its instant.
func check(p catalog.Param, raw string) (key string, t time.Time, err error) {
	q := query{p.Name: raw}
	switch p.Type {
	case catalog.Time:
		ta, err := q.timeParam(p.Name)
		return ta.key, ta.t, err
	case catalog.Int:
		n, err := q.limit(p.Name, p.Min, p.Max)
		return strconv.Itoa(n), t, err
	case catalog.Number:
		k, err := q.number(p.Name, float64(p.Min), float64(p.Max))
		return k, t, err
	case catalog.Enum:
		for _, v := range p.Values {
			if v == raw {
				return raw, t, nil
			}
		}
		return "", t, badf("invalid %s %s", p.Name, excerpt(raw))
	}
	k, err := checkWord(p, raw)
	return k, t, err
}

// checkWord validates the parameter types that are single words.
func checkWord(p catalog.Param, raw string) (string, error) {
	switch p.Type {
	case catalog.Timeframe:
		if k, ok := canonicalTimeframe(raw); ok {
			return k, nil
		}
		return "", badf("invalid timeframe %s: use [1-59]Min, [1-23]Hour, 1Day, 1Week or [1,2,3,4,6,12]Month", excerpt(raw))
	case catalog.Adjustment:
		if k, ok := canonicalAdjustment(raw); ok {
			return k, nil
		}
		return "", badf("invalid adjustment %s: use raw, split, dividend, spin-off or all (comma-separated)", excerpt(raw))
	case catalog.Date, catalog.Asof:
		if _, err := time.Parse(time.DateOnly, raw); err == nil || (p.Type == catalog.Asof && raw == "-") {
			return raw, nil
		}
		return "", badf("%s must be YYYY-MM-DD", p.Name)
	case catalog.Token:
		if validPageToken(raw) {
			return raw, nil
		}
		return "", badf("invalid %s", p.Name)
	case catalog.Bool:
		if raw == "true" || raw == "false" {
			return raw, nil
		}
		return "", badf("%s must be true or false", p.Name)
	case catalog.Symbol:
		if s, ok := symbol.Stock(raw); ok {
			return s, nil
		}
		return "", badf("invalid %s %s", p.Name, excerpt(raw))
	}
	if validText(raw) {
		return raw, nil
	}
	return "", badf("invalid %s %s", p.Name, excerpt(raw))
}

// maxText bounds a free-text parameter.
const maxText = 4096

// validText reports whether s is non-empty printable ASCII of at most
// maxText bytes.
func validText(s string) bool {
	if s == "" || len(s) > maxText {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
