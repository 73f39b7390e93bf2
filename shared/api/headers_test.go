package api_test

import (
	"context"
	"encoding/json"

	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// rfcFreshFor is how long a standard HTTP cache keeps a response it has
// just received, by RFC 9111: freshness_lifetime is max-age (§4.2.1), the
// current_age of a response received with no delay is its Age header
// (§4.2.3), and the response stays fresh while freshness_lifetime >
// current_age (§4.2), so for max-age − Age seconds.
func rfcFreshFor(t *testing.T, h http.Header) time.Duration {
	t.Helper()
	age, err := strconv.Atoi(h.Get("Age"))
	if err != nil || age < 0 {
		t.Fatalf("Age %q", h.Get("Age"))
	}
	cc := h.Get("Cache-Control")
	maxAge, err := strconv.Atoi(strings.TrimPrefix(cc, "private, max-age="))
	if err != nil || !strings.HasPrefix(cc, "private, max-age=") {
		t.Fatalf("Cache-Control %q", cc)
	}
	return time.Duration(maxAge-age) * time.Second
}

// checkRFC fails unless a downstream cache would keep the response for the
// entry's real freshness left, in whole seconds rounded down (never longer).
func checkRFC(t *testing.T, what string, h http.Header, left time.Duration) {
	t.Helper()
	if got, want := rfcFreshFor(t, h), left.Truncate(time.Second); got != want {
		t.Fatalf("%s: a downstream cache keeps it %v (Age %s, %s), the entry has %v left", what, got,
			h.Get("Age"), h.Get("Cache-Control"), left)
	}
}

func TestCacheHeadersFollowRFC9111(t *testing.T) {
	routes := []struct {
		path string
		ttl  time.Duration
	}{
		{"/v2/stocks/AAPL/quotes/latest", 30 * time.Second},
		{"/v2/stocks/quotes/latest?symbols=AAPL,MSFT", 30 * time.Second},
		{"/v2/stocks/AAPL/bars?timeframe=1Day", time.Hour},
		{"/v2/stocks/bars?symbols=AAPL,MSFT&timeframe=1Day", time.Hour},
		{"/v1beta1/options/quotes/latest?symbols={opt}", time.Minute},
		{"/v1beta1/options/snapshots?symbols={opt}", time.Minute},
		{"/v1beta1/options/snapshots/AAPL", time.Minute},
	}
	for _, rt := range routes {
		t.Run(rt.path, func(t *testing.T) {
			s := newStack(t)
			path := strings.ReplaceAll(rt.path, "{opt}", s.sim.OptionSymbols("AAPL")[0])
			resp, body := s.get(t, path)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			checkRFC(t, "miss", resp.Header, rt.ttl)
			for _, step := range []time.Duration{7400 * time.Millisecond, 1600 * time.Millisecond} {
				s.clk.Advance(step)
				resp, body = s.get(t, path)
				if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("X-Cache"), "HIT") {
					t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("X-Cache"), body)
				}
				checkRFC(t, "hit", resp.Header, rt.ttl-s.clk.Now().Sub(regular))
			}
		})
	}
}

// A batch answered from entries of different ages: Age is the oldest's, and
// max-age − Age the least freshness left.
func TestCacheHeadersOfAMixedBatch(t *testing.T) {
	s := newStack(t)
	s.get(t, "/v2/stocks/AAPL/quotes/latest")
	s.clk.Advance(5 * time.Second)
	s.get(t, "/v2/stocks/MSFT/quotes/latest")
	s.clk.Advance(7500 * time.Millisecond) // AAPL 12.5 s old, MSFT 7.5 s
	resp, body := s.get(t, "/v2/stocks/quotes/latest?symbols=AAPL,MSFT")
	if resp.StatusCode != 200 || resp.Header.Get("Age") != "13" {
		t.Fatalf("%d Age %q %s", resp.StatusCode, resp.Header.Get("Age"), body)
	}
	checkRFC(t, "batch", resp.Header, 17500*time.Millisecond)
}

// A session end cuts an entry's freshness: the headers say so.
func TestCacheHeadersBeforeTheClose(t *testing.T) {
	s := newStack(t)
	s.clk.Set(time.Date(2026, 11, 25, 15, 59, 40, 0, market.NewYork))
	resp, _ := s.get(t, "/v2/stocks/AAPL/quotes/latest")
	checkRFC(t, "miss before the close", resp.Header, 20*time.Second)
	s.clk.Advance(3 * time.Second)
	resp, _ = s.get(t, "/v2/stocks/AAPL/quotes/latest")
	checkRFC(t, "hit before the close", resp.Header, 17*time.Second)
}

// quoteOrigin answers latest stock quotes; a call that includes SLOW moves
// the injected clock on by delay, as a slow origin would.
type quoteOrigin struct {
	api.Origin // the other endpoints are not called
	clk        *market.ManualClock
	delay      time.Duration
	mu         sync.Mutex
	calls      [][]string
}

func (o *quoteOrigin) Latest(_ context.Context, _ alpaca.LatestCall, symbols []string) (alpaca.Multi, error) {
	o.mu.Lock()
	o.calls = append(o.calls, symbols)
	o.mu.Unlock()
	m := alpaca.Multi{Values: map[string]json.RawMessage{}, Source: "alpaca/iex"}
	for _, s := range symbols {
		m.Values[s] = json.RawMessage(`{"t":"` + o.clk.Now().UTC().Format(time.RFC3339Nano) + `","ap":1,"bp":1}`)
		if s == "SLOW" {
			defer o.clk.Advance(o.delay)
		}
	}
	return m, nil
}

// AAPL cached at 14:00:00 with a 30 s TTL; a batch of AAPL and SLOW at
// 14:00:28 whose origin call takes 6 s. AAPL expired while the batch
// waited: it is fetched again, and every header and meta field is reckoned
// at 14:00:34, when the response is assembled.
func TestBatchHitThatExpiresWhileWaitingIsFetchedAgain(t *testing.T) {
	clk := market.NewManualClock(regular)
	o := &quoteOrigin{clk: clk, delay: 6 * time.Second}
	c := cache.New(cache.Options{Redis: redistest.Client(t), Clock: clk, L2: cache.L2Options{Timeout: time.Second}})
	h := api.New(api.Config{Cache: c, Origin: o, Clock: clk})
	get := func(path, query string) events.APIGatewayV2HTTPResponse {
		ev := events.APIGatewayV2HTTPRequest{RawPath: path, RawQueryString: query}
		ev.RequestContext.HTTP.Method = http.MethodGet
		resp, err := h.Handle(context.Background(), ev)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s?%s: %d %v %s", path, query, resp.StatusCode, err, resp.Body)
		}
		return resp
	}
	get("/v2/stocks/AAPL/quotes/latest", "")
	clk.Set(regular.Add(28 * time.Second))
	resp := get("/v2/stocks/quotes/latest", "symbols=AAPL,SLOW")
	assembled := regular.Add(34 * time.Second)
	var body struct {
		Meta map[string]struct {
			FetchedAt time.Time `json:"fetched_at"`
			AgeMS     int64     `json:"age_ms"`
			Cache     string    `json:"cache"`
		} `json:"meta"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatal(err)
	}
	aapl := body.Meta["AAPL"]
	if !aapl.FetchedAt.Equal(assembled) || aapl.AgeMS != 0 || aapl.Cache != "MISS" {
		t.Fatalf("AAPL meta %+v: want fetched again at %v", aapl, assembled)
	}
	if slow := body.Meta["SLOW"]; slow.AgeMS != 6000 {
		t.Fatalf("SLOW meta %+v: want 6 s old at assembly", slow)
	}
	if resp.Headers["Age"] != "6" || resp.Headers["Cache-Control"] != "private, max-age=30" {
		t.Fatalf("headers %v: want Age 6 and max-age 30 (24 s left)", resp.Headers)
	}
	if len(o.calls) != 3 {
		t.Fatalf("origin calls %v: want AAPL, SLOW, then AAPL again", o.calls)
	}
}

// An entry fetched a fraction of a second into the last seconds of a
// session can be served only until the close: the headers never promise a
// second past it.
func TestCacheHeadersNeverPastTheClose(t *testing.T) {
	s := newStack(t)
	s.clk.Set(time.Date(2026, 11, 25, 15, 59, 40, 300_000_000, market.NewYork))
	resp, _ := s.get(t, "/v2/stocks/AAPL/quotes/latest")
	checkRFC(t, "miss", resp.Header, 19700*time.Millisecond)
	s.clk.Advance(9900 * time.Millisecond) // 9.8 s to the close
	resp, _ = s.get(t, "/v2/stocks/AAPL/quotes/latest")
	checkRFC(t, "hit", resp.Header, 9800*time.Millisecond)
}

// Retry-After is reckoned on the service's clock, the one the origin's
// rate-limit reset is read against, whatever the wall clock says.
func TestRetryAfterOnTheServiceClock(t *testing.T) {
	s := newStack(t)
	s.clk.Set(time.Date(2028, 6, 7, 14, 0, 30, 0, market.NewYork)) // a Wednesday, far from today
	s.sim.SetFault(alpacasim.RateLimitStorm)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/v2/stocks/AAPL/quotes/latest"}
	ev.RequestContext.HTTP.Method = http.MethodGet
	resp, err := s.svc.API.Handle(ctx, ev)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%d %v %s", resp.StatusCode, err, resp.Body)
	}
	if ra, err := strconv.Atoi(resp.Headers["Retry-After"]); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q: want the seconds to the origin's next minute, at most 60", resp.Headers["Retry-After"])
	}
}
