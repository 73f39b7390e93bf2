package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestHostileInputs sends malformed and hostile requests: each gets a 4xx
// with Alpaca's error shape, and none creates a Redis key or reaches the
// origin.
func TestHostileInputs(t *testing.T) {
	s := newStack(t)
	many := strings.Repeat("AAPL,", 1000) + "MSFT"
	tenK := strings.TrimSuffix(strings.Repeat("A,", 10000), ",")
	manyOCC := strings.TrimSuffix(strings.Repeat("SPY261127C00600000,", 101), ",")
	cases := []struct {
		name, path, query string
		want              int
	}{
		{"empty symbol list", "/v2/stocks/quotes/latest", "symbols=", 400},
		{"no symbols param", "/v2/stocks/quotes/latest", "", 400},
		{"only commas", "/v2/stocks/quotes/latest", "symbols=,,,", 400},
		{"only invalid", "/v2/stocks/quotes/latest", "symbols=" + url.QueryEscape("$$,**"), 400},
		{"1001 symbols", "/v2/stocks/quotes/latest", "symbols=" + many, 400},
		{"10,000 symbols", "/v2/stocks/quotes/latest", "symbols=" + tenK, 400},
		{"too long symbol", "/v2/stocks/ABCDEFGHIJK/quotes/latest", "", 400},
		{"star", "/v2/stocks/*/quotes/latest", "", 400},
		{"colon", "/v2/stocks/AA:PL/quotes/latest", "", 400},
		{"dot dot", "/v2/stocks/../quotes/latest", "", 400},
		{"percent-encoded slash", "/v2/stocks/..%2F..%2Fetc/quotes/latest", "", 400},
		{"unicode symbol", "/v2/stocks/" + url.PathEscape("ÄPPL") + "/quotes/latest", "", 400},
		{"raw unicode symbol", "/v2/stocks/ÄPPL/quotes/latest", "", 400},
		{"CRLF in symbol", "/v2/stocks/AAPL%0D%0AX/quotes/latest", "", 400},
		{"leading dot", "/v2/stocks/.AAPL/quotes/latest", "", 400},
		{"trailing dash", "/v2/stocks/AAPL-/quotes/latest", "", 400},
		{"double dot in symbol", "/v2/stocks/BRK..B/quotes/latest", "", 400},
		{"space", "/v2/stocks/AA%20PL/quotes/latest", "", 400},
		{"null byte", "/v2/stocks/AA%00PL/quotes/latest", "", 400},
		{"bad feed", "/v2/stocks/AAPL/quotes/latest", "feed=nasdaq", 400},
		{"bad currency", "/v2/stocks/AAPL/quotes/latest", "currency=JPY", 400},
		{"duplicate feed", "/v2/stocks/AAPL/quotes/latest", "feed=iex&feed=sip", 400},
		{"duplicate symbols param", "/v2/stocks/quotes/latest", "symbols=AAPL&symbols=MSFT", 400},
		{"malformed query", "/v2/stocks/quotes/latest", "symbols=%zz", 400},
		{"100 KB query", "/v2/stocks/quotes/latest", "symbols=AAPL&pad=" + strings.Repeat("x", 100<<10), 400},
		{"bars without timeframe", "/v2/stocks/AAPL/bars", "", 400},
		{"bad timeframe", "/v2/stocks/AAPL/bars", "timeframe=5Sec", 400},
		{"timeframe 60Min", "/v2/stocks/AAPL/bars", "timeframe=60Min", 400},
		{"timeframe 24Hour", "/v2/stocks/AAPL/bars", "timeframe=24Hour", 400},
		{"timeframe 5Month", "/v2/stocks/AAPL/bars", "timeframe=5Month", 400},
		{"timeframe 0Min", "/v2/stocks/AAPL/bars", "timeframe=0Min", 400},
		{"bad start", "/v2/stocks/AAPL/bars", "timeframe=1Day&start=yesterday", 400},
		{"end before start", "/v2/stocks/AAPL/bars", "timeframe=1Day&start=2026-11-20&end=2026-11-10", 400},
		{"limit zero", "/v2/stocks/AAPL/bars", "timeframe=1Day&limit=0", 400},
		{"limit too big", "/v2/stocks/AAPL/bars", "timeframe=1Day&limit=10001", 400},
		{"limit not a number", "/v2/stocks/AAPL/bars", "timeframe=1Day&limit=ten", 400},
		{"bad adjustment", "/v2/stocks/AAPL/bars", "timeframe=1Day&adjustment=magic", 400},
		{"bad sort", "/v2/stocks/AAPL/bars", "timeframe=1Day&sort=up", 400},
		{"bad page token", "/v2/stocks/AAPL/bars", "timeframe=1Day&page_token=" + url.QueryEscape("<script>"), 400},
		{"bad asof", "/v2/stocks/AAPL/bars", "timeframe=1Day&asof=2026-13-01", 400},
		{"multi bars no symbols", "/v2/stocks/bars", "timeframe=1Day", 400},
		{"option bad OCC only", "/v1beta1/options/quotes/latest", "symbols=AAPL", 400},
		{"option bad date", "/v1beta1/options/quotes/latest", "symbols=SPY261332C00600000", 400},
		{"option 101 symbols", "/v1beta1/options/quotes/latest", "symbols=" + manyOCC, 400},
		{"option bad feed", "/v1beta1/options/snapshots", "symbols=SPY261127C00600000&feed=iex", 400},
		{"chain bad type", "/v1beta1/options/snapshots/SPY", "type=straddle", 400},
		{"chain bad strike", "/v1beta1/options/snapshots/SPY", "strike_price_gte=-5", 400},
		{"chain bad expiration", "/v1beta1/options/snapshots/SPY", "expiration_date=2026-02-30", 400},
		{"chain limit", "/v1beta1/options/snapshots/SPY", "limit=1001", 400},
		{"chain bad underlying", "/v1beta1/options/snapshots/SP$Y", "", 400},
		{"status bad at", "/v1/market/status", "at=" + url.QueryEscape("2026-11-27 12:00"), 400},
		{"unknown route", "/v3/stocks/AAPL/trades/latest", "", 404},
		{"traversal", "/v2/../../etc/passwd", "", 400},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		r := s.invoke(t, "GET", c.path, c.query)
		if r.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.StatusCode, c.want, r.Body)
			continue
		}
		m := decode(t, r.Body)
		if _, ok := m["code"]; !ok {
			t.Errorf("%s: body lacks Alpaca's code: %s", c.name, r.Body)
		}
		if _, ok := m["message"]; !ok || len(r.Body) > 400 {
			t.Errorf("%s: message missing or too long: %s", c.name, r.Body)
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "HEAD", "OPTIONS"} {
		if r := s.invoke(t, m, "/v2/stocks/quotes/latest", "symbols=AAPL"); r.StatusCode != 405 {
			t.Errorf("%s: %d", m, r.StatusCode)
		}
	}
	// 10,000 headers' worth of bytes.
	big := map[string]string{}
	for i := range 10000 {
		big[fmt.Sprintf("x-h-%d", i)] = "v"
	}
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/v2/stocks/AAPL/quotes/latest", Headers: big}
	ev.RequestContext.HTTP.Method = "GET"
	if r, err := s.svc.API.Handle(s.ctx, ev); err != nil || r.StatusCode != 431 {
		t.Errorf("huge headers: %d %v", r.StatusCode, err)
	}
	req, _ := http.NewRequest("GET", s.srv.URL+"/v2/stocks/AAPL/quotes/latest", nil)
	for i := range 2000 {
		req.Header.Set(fmt.Sprintf("X-H-%d", i), strings.Repeat("v", 8))
	}
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 431 {
		t.Errorf("huge headers over HTTP: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if ks := s.keys(t); len(ks) != 0 {
		t.Fatalf("hostile input created Redis keys: %v", ks)
	}
	if n := s.sim.Stats().TotalRequests; n != 0 {
		t.Fatalf("hostile input reached the origin %d times", n)
	}
}

// TestMixedBatchServesTheRest: a batch with a few bad entries is served for
// the good ones.
func TestMixedBatchServesTheRest(t *testing.T) {
	s := newStack(t)
	q := "symbols=" + url.QueryEscape("AAPL,../x,MSFT,*,AAPL,ÄPPL,a\r\nb")
	r := s.invoke(t, "GET", "/v2/stocks/quotes/latest", q)
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	for _, want := range []string{`"AAPL":{`, `"MSFT":{`, `"../x":{"status":"invalid"`, `"*":{"status":"invalid"`, `"ÄPPL":{"status":"invalid"`, `"a\r\nb":{"status":"invalid"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("body lacks %s: %s", want, r.Body)
		}
	}
}
