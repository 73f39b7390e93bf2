package alpacasim_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// TestServesEveryCatalogRoute: every route the service caches is answered
// by the simulator (a 200 with a body), so each can be tested end to end.
func TestServesEveryCatalogRoute(t *testing.T) {
	clk := market.NewManualClock(time.Date(2026, 11, 25, 11, 0, 0, 0, market.NewYork))
	s, ts := alpacasim.NewTestServer(t, alpacasim.Config{Clock: clk, KeyID: "k", SecretKey: "s"})
	samples := map[catalog.Symbols]string{
		catalog.Stock:  "AAPL",
		catalog.Option: s.OptionSymbols("SPY")[0],
		catalog.Crypto: "BTC/USD",
		catalog.Perp:   "BTC-PERP",
	}
	for _, r := range catalog.Routes {
		if r.Shape == catalog.Local {
			continue
		}
		param := samples[r.Param]
		if r.ParamWords != nil {
			param = r.ParamWords[0]
		}
		if r.Param == catalog.Stock && strings.Contains(r.Path, "{underlying}") {
			param = "SPY"
		}
		q := url.Values{}
		switch {
		case r.Multi():
			q.Set("symbols", samples[r.Symbols])
		case r.Shape == catalog.Latest: // a single-symbol form asks the multi-symbol origin
			q.Set("symbols", param)
		}
		for _, p := range r.Params {
			switch {
			case p.Name == "timeframe":
				q.Set(p.Name, "1Day")
			case p.Name == "currency_pairs":
				q.Set(p.Name, "USDJPY")
			case p.Name == "start" && r.Class == "historical_data":
				q.Set(p.Name, "2026-11-20")
			}
		}
		u := ts.URL + r.OriginPath(param) + "?" + q.Encode()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("APCA-API-KEY-ID", "k")
		req.Header.Set("APCA-API-SECRET-KEY", "s")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 {
			t.Errorf("%s: GET %s: %d %.200s", r.Path, u, resp.StatusCode, body)
		}
	}
}
