package alpacasim

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// News: /v1beta1/news. Every known stock has 2–5 articles on each New York
// calendar day, at instants spread over the day; an article names one
// symbol. Ids grow with created_at (ties broken by symbol), so paging and
// sort=desc order by id. One article in five has no content. Without start
// the range begins on 2015-01-01, where Alpaca's archive begins; the default
// sort is desc, as Alpaca's.

var newsEpoch = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

// newsItem is one article.
type newsItem struct {
	id      int64
	st      *stock
	created time.Time
	h       uint64
}

// newsOfDay appends the articles of sts on day c.
func newsOfDay(sts []*stock, index map[string]int, c market.Date, out []newsItem) []newsItem {
	start := c.At(0, 0)
	day := c.AddDays(1).At(0, 0).Sub(start)
	for _, st := range sts {
		h := draw(st.hash^0x4e3e5, uint64(dateKey(c)))
		k := 2 + int(h%4)
		for j := range k {
			off := time.Duration((float64(j) + 0.1 + 0.8*unit(h, uint64(j+1))) * float64(day) / float64(k))
			t := start.Add(off).Truncate(time.Second)
			id := int64(t.Sub(newsEpoch)/time.Second)*1024 + int64(index[st.symbol])
			out = append(out, newsItem{id: id, st: st, created: t, h: draw(h, uint64(100+j))})
		}
	}
	slices.SortFunc(out, func(a, b newsItem) int { return int(a.id - b.id) })
	return out
}

var (
	newsHeadlines = [...]string{
		"%s Shares Move Higher In Early Trading", "Analyst Raises %s Price Target", "%s Announces Quarterly Results",
		"Options Traders Eye %s Ahead Of Earnings", "%s Reaffirms Full-Year Outlook", "Why %s Is Trading Lower Today",
		"%s Files 8-K With The SEC", "Unusual Volume Seen In %s", "%s Names New Chief Financial Officer",
		"Institutional Investors Add To %s Positions",
	}
	newsAuthors = [...]string{"Benzinga Newsdesk", "Benzinga Insights", "Erica Kollmann", "Priya Nigam", "Tom Reyes"}
)

// newsImages is the images field of every article: none.
const newsImages = `"images":[],`

// appendNewsItem appends the REST object of it; its content is empty
// unless withContent.
func appendNewsItem(b []byte, it newsItem, withContent bool) []byte {
	headline := strings.ReplaceAll(newsHeadlines[it.h%uint64(len(newsHeadlines))], "%s", it.st.symbol)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, it.id, 10)
	b = append(b, `,"headline":`...)
	b = appendStr(b, headline)
	b = append(b, `,"author":`...)
	b = appendStr(b, newsAuthors[draw(it.h, 1)%uint64(len(newsAuthors))])
	b = append(b, `,"created_at":`...)
	b = appendTime(b, it.created)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, it.created.Add(time.Duration(draw(it.h, 2)%1800)*time.Second))
	b = append(b, `,"summary":`...)
	b = appendStr(b, headline+": a simulated article.")
	b = append(b, `,"content":`...)
	if withContent && it.hasContent() {
		b = appendStr(b, "<p>"+headline+". This article is simulated market news about "+it.st.symbol+".</p>")
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"url":`...)
	b = appendStr(b, "https://www.benzinga.com/news/"+strconv.FormatInt(it.id, 10))
	b = append(b, ',')
	b = append(b, newsImages...)
	b = append(b, `"symbols":[`...)
	b = appendStr(b, it.st.symbol)
	b = append(b, `],"source":"benzinga"}`...)
	return b
}

func (it newsItem) hasContent() bool { return draw(it.h, 3)%5 != 0 }

// newsQuery is a validated news request.
type newsQuery struct {
	hq                  histQuery
	content, contentful bool
	fromID              int64 // the page token's id, 0 for none
}

func parseNewsQuery(q url.Values, now time.Time) (newsQuery, *apiError) {
	nq := newsQuery{}
	qq := url.Values{}
	for k, v := range q {
		qq[k] = v
	}
	if qq.Get("start") == "" {
		qq.Set("start", newsEpoch.Format(time.RFC3339))
	}
	if qq.Get("sort") == "" {
		qq.Set("sort", "desc")
	}
	qq.Del("page_token")
	hq, e := parseHistQuery(qq, now, 10, 50)
	if e != nil {
		return nq, e
	}
	nq.hq = hq
	for name, dst := range map[string]*bool{"include_content": &nq.content, "exclude_contentless": &nq.contentful} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nq, badRequest("invalid " + name)
			}
			*dst = b
		}
	}
	if v := q.Get("page_token"); v != "" {
		p, ok := decodeToken(v, false)
		if !ok {
			return nq, badRequest("invalid page_token")
		}
		id, err := strconv.ParseInt(p.key, 10, 64)
		if err != nil || id <= 0 {
			return nq, badRequest("invalid page_token")
		}
		nq.fromID = id
	}
	return nq, nil
}

// news answers GET /v1beta1/news.
func (s *Server) news(b []byte, req request) ([]byte, *apiError) {
	q := req.r.URL.Query()
	nq, e := parseNewsQuery(q, req.now)
	if e != nil {
		return nil, e
	}
	sts := s.knownStocks(Universe())
	if q.Get("symbols") != "" {
		if sts, e = s.queryStocks(q); e != nil {
			return nil, e
		}
	}
	hq := nq.hq
	lo, hi := hq.start, earliest(hq.end, req.now)
	if nq.fromID > 0 {
		if at := newsEpoch.Add(time.Duration(nq.fromID/1024) * time.Second); hq.desc {
			hi = earliest(hi, at)
		} else if at.After(lo) {
			lo = at
		}
	}
	b = append(b, `{"news":`...)
	w := &listWriter{b: b}
	var next *pageToken
	if len(sts) > 0 && !hi.Before(lo) {
		next = s.walkNews(sts, nq, lo, hi, func(it newsItem) {
			w.item()
			w.b = appendNewsItem(w.b, it, nq.content)
		})
	}
	b = w.close()
	if w.n == 0 {
		b = append(b[:len(b)-4], "[]"...)
	}
	b = comma(b)
	b = appendToken(b, next)
	return append(b, '}'), nil
}

// walkNews visits up to the limit articles in [lo, hi], day by day.
func (s *Server) walkNews(sts []*stock, nq newsQuery, lo, hi time.Time, emit func(newsItem)) *pageToken {
	index := universeIndex()
	first, last := market.DateOf(lo), market.DateOf(hi)
	n := 0
	var buf []newsItem
	for i := 0; ; i++ {
		c := first.AddDays(i)
		if nq.hq.desc {
			c = last.AddDays(-i)
		}
		if c.Before(first) || last.Before(c) {
			break
		}
		buf = newsOfDay(sts, index, c, buf[:0])
		for k := range buf {
			it := buf[k]
			if nq.hq.desc {
				it = buf[len(buf)-1-k]
			}
			if it.created.Before(lo) || it.created.After(hi) || (nq.contentful && !it.hasContent()) ||
				(nq.fromID > 0 && ((nq.hq.desc && it.id > nq.fromID) || (!nq.hq.desc && it.id < nq.fromID))) {
				continue
			}
			if n == nq.hq.limit {
				return &pageToken{key: strconv.FormatInt(it.id, 10)}
			}
			emit(it)
			n++
		}
	}
	return nil
}

var (
	universeIndexOnce sync.Once
	universeIdx       map[string]int
)

func universeIndex() map[string]int {
	universeIndexOnce.Do(func() {
		universeIdx = make(map[string]int)
		for i, sym := range Universe() {
			universeIdx[sym] = i
		}
	})
	return universeIdx
}
