package alpacasim

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

func at(t time.Time) market.Clock { return market.ClockFunc(func() time.Time { return t }) }

func TestParseOCC(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want contract
		ok   bool
	}{
		{"AAPL240426C00152500", contract{"AAPL", market.Date{Year: 2024, Month: 4, Day: 26}, false, 152500}, true},
		{"SPXW240327P04925000", contract{"SPXW", market.Date{Year: 2024, Month: 3, Day: 27}, true, 4925000}, true},
		{"F261127P00012500", contract{"F", market.Date{Year: 2026, Month: 11, Day: 27}, true, 12500}, true},
		{"AAPL1240426C00152500", contract{"AAPL1", market.Date{Year: 2024, Month: 4, Day: 26}, false, 152500}, true},
		{"GOOGLX261127C00100000", contract{"GOOGLX", market.Date{Year: 2026, Month: 11, Day: 27}, false, 100000}, true},
		{"GOOGLXY261127C00100000", contract{}, false}, // root of 7
		{"261127C00100000", contract{}, false},        // no root
		{"1AAPL261127C00100000", contract{}, false},   // root starts with a digit
		{"aapl261127C00100000", contract{}, false},
		{"AAPL261127X00100000", contract{}, false},
		{"AAPL261327C00100000", contract{}, false}, // month 13
		{"AAPL260230C00100000", contract{}, false}, // 30 February
		{"AAPL261127C0010000", contract{}, false},  // 7 strike digits
		{"AAPL261127C001000000", contract{}, false},
		{"AAPL 261127C00100000", contract{}, false},
	} {
		got, ok := parseOCC(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseOCC(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && got.String() != tc.in {
			t.Errorf("%q formats back as %q", tc.in, got.String())
		}
	}
}

var occRE = regexp.MustCompile(`^([A-Z]{1,6})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$`)

// Every listed contract of every underlying is a valid OCC symbol whose
// expiration is listed, not past, and whose strike is around the price.
func TestChainSymbolsValid(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC), // Friday: 0DTE listed
		time.Date(2026, 3, 28, 15, 0, 0, 0, time.UTC),  // Saturday before Good Friday week
		time.Date(2027, 12, 30, 15, 0, 0, 0, time.UTC), // year end
	} {
		s := New(Config{Clock: at(now)})
		today := market.DateOf(now)
		underlyings := OptionUnderlyings()
		if len(underlyings) < 30 {
			t.Fatalf("%d option underlyings", len(underlyings))
		}
		for _, u := range underlyings {
			syms := s.OptionSymbols(u)
			if len(syms) < 100 {
				t.Errorf("%s: only %d contracts", u, len(syms))
			}
			if !slices.IsSorted(syms) {
				t.Errorf("%s: chain not in symbol order", u)
			}
			st := s.stocks[u]
			spot := st.price(unixSeconds(now))
			var lo, hi float64 = math.Inf(1), 0
			for _, sym := range syms {
				m := occRE.FindStringSubmatch(sym)
				if m == nil || m[1] != u {
					t.Fatalf("%s: invalid OCC symbol %q", u, sym)
				}
				y, _ := strconv.Atoi(m[2])
				mo, _ := strconv.Atoi(m[3])
				d, _ := strconv.Atoi(m[4])
				exp := market.Date{Year: 2000 + y, Month: time.Month(mo), Day: d}
				if exp.AddDays(0) != exp || exp.Before(today) || !s.days.day(exp).Trading {
					t.Errorf("%s: expiration %v (today %v)", sym, exp, today)
				}
				k, _ := strconv.Atoi(m[6])
				lo, hi = min(lo, float64(k)/1000), max(hi, float64(k)/1000)
				if _, ok := s.findContract(sym, s.expirations(today)); !ok {
					t.Errorf("%s: listed but not found", sym)
				}
			}
			if spot < lo || spot > hi || lo <= 0 {
				t.Errorf("%s: spot %.2f outside strikes [%v, %v]", u, spot, lo, hi)
			}
		}
	}
}

func TestExpirations(t *testing.T) {
	s := New(Config{})
	list := func(c market.Date) []string {
		var out []string
		for _, d := range s.expirations(c).dates {
			out = append(out, d.String())
		}
		return out
	}
	// Week of Good Friday 2026 (3 April): that week's expiration moves to
	// Thursday 2 April; June's monthly moves off Juneteenth (Friday 19 June).
	got := list(market.Date{Year: 2026, Month: 3, Day: 30})
	want := []string{"2026-04-02", "2026-04-10", "2026-04-17", "2026-04-24", "2026-05-01", "2026-05-08", "2026-05-15", "2026-06-18", "2026-07-17"}
	if !slices.Equal(got, want) {
		t.Errorf("from 2026-03-30: %v, want %v", got, want)
	}
	// On Good Friday itself, the Thursday expiration is past.
	if got := list(market.Date{Year: 2026, Month: 4, Day: 3}); got[0] != "2026-04-10" || len(got) != 8 {
		t.Errorf("on Good Friday: %v", got)
	}
	// A Friday lists itself (0DTE); Christmas and New Year's Day move their
	// weeks' expirations to the Thursdays.
	got = list(market.Date{Year: 2026, Month: 11, Day: 27})
	want = []string{"2026-11-27", "2026-12-04", "2026-12-11", "2026-12-18", "2026-12-24", "2026-12-31", "2027-01-15", "2027-02-19", "2027-03-19"}
	if !slices.Equal(got, want) {
		t.Errorf("from 2026-11-27: %v, want %v", got, want)
	}
}

func TestParseTimeframe(t *testing.T) {
	for s, want := range map[string]timeframe{
		"1Min": {1, tfMin}, "59T": {59, tfMin}, "1Hour": {1, tfHour}, "23H": {23, tfHour},
		"1Day": {1, tfDay}, "1D": {1, tfDay}, "1Week": {1, tfWeek}, "1W": {1, tfWeek},
		"1Month": {1, tfMonth}, "2M": {2, tfMonth}, "3Month": {3, tfMonth}, "4M": {4, tfMonth}, "6M": {6, tfMonth}, "12Month": {12, tfMonth},
	} {
		if got, ok := parseTimeframe(s); !ok || got != want {
			t.Errorf("parseTimeframe(%q) = %v, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "Min", "0Min", "60Min", "100Min", "24Hour", "2Day", "2Week", "5Month", "7M", "01Min", "1min", "1Minute", "1S", "-1Min"} {
		if got, ok := parseTimeframe(s); ok {
			t.Errorf("parseTimeframe(%q) = %v, accepted", s, got)
		}
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.01, 143.71, 1e-7, -3.2e-9, 123456789.125, 1e21, 0.1 + 0.2, 0.000001, 5e-324} {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f); string(got) != string(want) {
			t.Errorf("appendFloat(%v) = %s, want %s", f, got, want)
		}
	}
	if got := string(appendFloat(nil, math.NaN())); got != "0" {
		t.Errorf("NaN formats as %s", got)
	}
}

func TestOptionValuation(t *testing.T) {
	s := New(Config{})
	st := s.stocks["AAPL"]
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	spot := st.price(unixSeconds(now))
	exp := unixSeconds(now.Add(30 * 24 * time.Hour))
	strike := (st.chain.center / st.chain.inc) * st.chain.inc
	call := st.chain.value(st, contract{root: "AAPL", put: false, strike: strike}, unixSeconds(now), exp)
	put := st.chain.value(st, contract{root: "AAPL", put: true, strike: strike}, unixSeconds(now), exp)
	// Put–call parity: C − P = S − K e^{−rT}.
	T := (exp - unixSeconds(now)) / yearSeconds
	parity := spot - float64(strike)/1000*math.Exp(-riskFree*T)
	if d := call.value - put.value - parity; math.Abs(d) > 1e-6*spot {
		t.Errorf("put-call parity off by %v", d)
	}
	if call.g.delta <= 0 || call.g.delta >= 1 || put.g.delta >= 0 || put.g.delta <= -1 ||
		math.Abs(call.g.delta-put.g.delta-1) > 1e-6 {
		t.Errorf("deltas call %v put %v", call.g.delta, put.g.delta)
	}
	if call.g.gamma <= 0 || call.g.gamma != put.g.gamma || call.g.vega <= 0 || call.g.theta >= 0 || call.g.rho <= 0 || put.g.rho >= 0 {
		t.Errorf("greeks call %+v put %+v", call.g, put.g)
	}
	// Far from the money at expiry, delta stays strictly inside its range.
	deep := st.chain.value(st, contract{root: "AAPL", strike: 1000}, exp, exp)
	if deep.g.delta <= 0 || deep.g.delta >= 1 || deep.value <= 0 {
		t.Errorf("deep call %+v", deep)
	}
}

func TestUniverseData(t *testing.T) {
	u := Universe()
	if len(u) < 300 || !slices.IsSorted(u) || len(slices.Compact(slices.Clone(u))) != len(u) {
		t.Fatalf("universe: %d symbols, sorted %v", len(u), slices.IsSorted(u))
	}
	for _, must := range []string{"SPY", "QQQ", "IWM", "DIA", "BRK.B", "BF.B", "AAPL", "MSFT", "JPM"} {
		if _, ok := slices.BinarySearch(u, must); !ok {
			t.Errorf("%s missing from the universe", must)
		}
	}
	for _, must := range []string{"SPY", "QQQ", "AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META", "GOOGL", "AMD"} {
		if !slices.Contains(OptionUnderlyings(), must) {
			t.Errorf("%s has no options", must)
		}
	}
}
