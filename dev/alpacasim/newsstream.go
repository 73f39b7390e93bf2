package alpacasim

import (
	"slices"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/stream"
)

// maxStreamNews caps the articles sent at one tick (the latest are kept)
// when the clock jumps, as REST caps a page, which also keeps a frame
// within a client's usual 32 KiB read limit.
const maxStreamNews = 50

// newsWindow bounds how far back a tick looks for articles after a jump of
// the clock.
const newsWindow = 7 * 24 * time.Hour

// newsTick is tick for the news feed: the articles created in (*at, now]
// (at most newsWindow back, the latest maxStreamNews) that name a symbol
// subscribed to news, or any for "*", oldest first; it sets *at to now.
// Each is the item /v1beta1/news answers for it with include_content=false
// (so "content" is empty), without "images", which Alpaca's news stream does
// not carry, and with "T":"n". A clock that went back sends nothing.
func (c *simConn) newsTick(at *time.Time) []*stream.Msg {
	now, lo := c.now(), *at
	*at = now
	sts := c.newsStocks()
	if !now.After(lo) || len(sts) == 0 {
		return nil
	}
	if back := now.Add(-newsWindow); lo.Before(back) {
		lo = back
	}
	nq := newsQuery{hq: histQuery{limit: maxStreamNews, desc: true}}
	var msgs []*stream.Msg
	c.st.s.walkNews(sts, nq, lo.Add(time.Nanosecond), now, func(it newsItem) {
		obj := strings.Replace(string(appendNewsItem(nil, it, false)), newsImages, "", 1)
		msgs = append(msgs, jsonMsg("n", "", obj))
	})
	slices.Reverse(msgs)
	return msgs
}

// newsStocks is the known stocks whose news the connection subscribes to:
// every one for "*".
func (c *simConn) newsStocks() []*stock {
	syms := c.subscription().List("news")
	if slices.Contains(syms, stream.Wildcard) {
		syms = Universe()
	}
	return c.st.s.knownStocks(syms)
}
