package stream_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// restQuote is the simulator's REST latest quote of symbol at clock's
// instant, from a second simulator of the same market (so the first one
// counts no REST request).
func restQuote(t *testing.T, clock market.Clock, symbol string) string {
	t.Helper()
	s := alpacasim.New(alpacasim.Config{Clock: clock})
	req := httptest.NewRequest("GET", "/v2/stocks/"+symbol+"/quotes/latest?feed=iex", nil)
	req.Header.Set("APCA-API-KEY-ID", "k")
	req.Header.Set("APCA-API-SECRET-KEY", "s")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	var body struct{ Quote json.RawMessage }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 200 {
		t.Fatalf("REST latest quote: %d %s", w.Code, w.Body)
	}
	return string(body.Quote)
}

// A streamed symbol's entry is what the REST route would store, stays at
// most 1 s old while the upstream is healthy although the symbol is quiet,
// costs no REST request, and ages out when the upstream falls silent.
func TestStreamedEntryFreshWithoutREST(t *testing.T) {
	// The market the simulator sees stands still at session (a quiet
	// symbol: one quote, never another); the hub's clock moves.
	simClock := clockFunc(func() time.Time { return session })
	hubClock := market.NewManualClock(session)
	s := startSim(t, simClock)
	rdb := newRedis(t)
	// Other tests on this Redis stream AAPL too: start from no entry.
	rdb.Del(context.Background(), cache.Key(cache.StockQuote, "AAPL"), cache.Key(cache.StockQuote, "AAPL:TRADE"))
	o := testOptions(s, hubClock, rdb)
	o.RefreshInterval = 200 * time.Millisecond
	h := startHub(t, o)
	var c counts
	sdkClient(t, h.url, &c, "AAPL")
	ctx := context.Background()
	peek := func() *cache.Entry {
		m, err := h.cache.Peek(ctx, cache.StockQuote, []string{"AAPL"})
		if err != nil {
			t.Fatal(err)
		}
		return m["AAPL"]
	}
	eventually(t, 5*time.Second, "the quote in L2", func() bool { return peek() != nil })
	e := peek()
	if want := restQuote(t, simClock, "AAPL"); string(e.Data) != want {
		t.Fatalf("entry data %s, want the REST object %s", e.Data, want)
	}
	if e.DataSource != "alpaca-sim+stream" || e.Session != market.Regular {
		t.Fatalf("entry source %q session %q", e.DataSource, e.Session)
	}
	// 45 s later (past the 30 s TTL), the quiet entry is still fresh and
	// at most 1 s old: re-stored on the healthy stream.
	hubClock.Advance(45 * time.Second)
	eventually(t, 3*time.Second, "the quiet entry re-stored", func() bool {
		e := peek()
		return e != nil && e.Age(hubClock.Now()) <= time.Second
	})
	res, err := h.cache.Get(ctx, cache.StockQuote, "AAPL", func(context.Context, []string) (map[string]cache.Item, error) {
		t.Error("the cache fetched from the origin")
		return nil, nil
	})
	if err != nil || res.Entry.Age(hubClock.Now()) > time.Second {
		t.Fatalf("cache.Get: %v, %+v", err, res)
	}
	if n := s.srv.Stats().TotalRequests; n != 0 {
		t.Fatalf("REST requests to the simulator = %d, want 0", n)
	}
	// The upstream falls silent: nothing is refreshed any more, and 31 s
	// later the entry has aged out rather than being served stale.
	drops := h.hub.Stats().UpstreamDrops.Load()
	simPost(t, s, "/_sim/stream/silence?on=true")
	t.Cleanup(func() { s.streams.SetSilent(false) })
	eventually(t, 5*time.Second, "the silence detected", func() bool { return h.hub.Stats().UpstreamDrops.Load() > drops })
	time.Sleep(3 * o.RefreshInterval)
	hubClock.Advance(31 * time.Second)
	if e := peek(); e != nil {
		t.Fatalf("entry still fresh 31 s after the upstream fell silent: fetched %v", e.FetchedAt)
	}
}
