package catalog

import (
	"strings"
	"testing"

	"github.com/opitios/opitios-alpaca/shared/cache"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		path, route, param string
	}{
		{"/v2/stocks/AAPL/quotes/latest", PathStockQuote, "AAPL"},
		{"/v2/stocks/quotes/latest", PathStockQuotes, ""},
		{"/v2/stocks/bars", "/v2/stocks/bars", ""},
		{"/v2/stocks/bars/latest", "/v2/stocks/bars/latest", ""},
		{"/v2/stocks/BARS/bars", "/v2/stocks/{symbol}/bars", "BARS"},
		{"/v2/stocks/meta/exchanges", "/v2/stocks/meta/exchanges", ""},
		{"/v2/stocks/meta/conditions/trade", "/v2/stocks/meta/conditions/{ticktype}", "trade"},
		{"/v1beta3/crypto/us/latest/orderbooks", "/v1beta3/crypto/{loc}/latest/orderbooks", "us"},
		{"/v1beta1/options/snapshots/SPY", "/v1beta1/options/snapshots/{underlying}", "SPY"},
		{"/v1beta1/screener/crypto/movers", "/v1beta1/screener/{market}/movers", "crypto"},
		{"/healthz", PathHealth, ""},
	} {
		id, param, ok := Match(c.path)
		if !ok || Routes[id].Path != c.route || param != c.param {
			t.Errorf("Match(%q) = %q %q %v, want %q %q", c.path, Routes[id].Path, param, ok, c.route, c.param)
		}
	}
	for _, p := range []string{"/", "/v2/stocks", "/v2/stocks//quotes/latest", "/v2/stocks/A/B/quotes/latest",
		"/v2/stocks/AAPL/quotes/latest/", "/v3/stocks/quotes/latest", "/healthz/"} {
		if id, _, ok := Match(p); ok {
			t.Errorf("Match(%q) = %q, want no route", p, Routes[id].Path)
		}
	}
}

// TestRowsAreComplete: every row can be served by its shape's path.
func TestRowsAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Routes {
		if seen[r.Path] {
			t.Errorf("%s declared twice", r.Path)
		}
		seen[r.Path] = true
		if !strings.HasPrefix(r.Path, "/") || strings.Count(r.Path, "{") > 1 {
			t.Errorf("%s: a template is absolute with at most one parameter", r.Path)
		}
		hasParam := strings.Contains(r.Path, "{")
		if hasParam != (r.Param != NoSymbols || r.ParamWords != nil) {
			t.Errorf("%s: the {parameter} and its grammar must come together", r.Path)
		}
		switch r.Shape {
		case Latest:
			if !r.Class.Valid() || r.Origin == "" && !r.Multi() || r.Multi() == (r.Param != NoSymbols) {
				t.Errorf("%s: a Latest row needs a class, an origin, and symbols either in the path or in symbols=", r.Path)
			}
		case Page:
			if !r.Class.Valid() {
				t.Errorf("%s: a Page row needs a class", r.Path)
			}
		case Local:
			if r.Class != "" {
				t.Errorf("%s: a Local row is not cached", r.Path)
			}
		default:
			t.Errorf("%s: no shape", r.Path)
		}
	}
}

// TestSingleAndMultiFormsShareEntries: both forms of a Latest route write
// the same kind under the same class, and their origin is the multi form.
func TestSingleAndMultiFormsShareEntries(t *testing.T) {
	byOrigin := map[string][]Route{}
	for _, r := range Routes {
		if r.Shape == Latest && r.Origin != "" {
			byOrigin[r.Origin] = append(byOrigin[r.Origin], r)
		}
	}
	for origin, rs := range byOrigin {
		for _, r := range rs[1:] {
			if r.Kind != rs[0].Kind || r.Class != rs[0].Class || r.Wrap != rs[0].Wrap {
				t.Errorf("%s and %s ask %s but store different entries", rs[0].Path, r.Path, origin)
			}
		}
	}
	id, _, _ := Match("/v2/stocks/AAPL/trades/latest")
	if r := Routes[id]; r.Class != cache.StockQuote || r.Kind != Trade || r.OriginPath("AAPL") != "/v2/stocks/trades/latest" {
		t.Errorf("stock latest trade row %+v", r)
	}
}

func TestTemplatesEndWithPassThrough(t *testing.T) {
	ts := Templates()
	if len(ts) != len(Routes)+len(VersionPrefixes) {
		t.Fatalf("%d templates", len(ts))
	}
	for i, p := range VersionPrefixes {
		if got := ts[len(Routes)+i]; got != p+"{proxy+}" {
			t.Errorf("template %q, want %q", got, p+"{proxy+}")
		}
		if !UnderAPI(p + "x") {
			t.Errorf("%sx not under the API", p)
		}
	}
	if UnderAPI("/v3/x") || UnderAPI("/v2") {
		t.Error("UnderAPI too wide")
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"/v2/stocks/AAPL/quotes/latest", "/v1beta3/crypto/us/latest/quotes", "/v2/stocks//bars", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		id, param, ok := Match(p)
		if !ok {
			return
		}
		if strings.Contains(param, "/") {
			t.Fatalf("%q: parameter %q holds a slash", p, param)
		}
		if got := fill(Routes[id].Path, param); got != p {
			t.Fatalf("%q matched %q with %q, which fills back to %q", p, Routes[id].Path, param, got)
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Match("/v2/stocks/AAPL/quotes/latest")
		Match("/v2/stocks/quotes/latest")
		Match("/v1beta1/screener/crypto/movers")
	}
}
