package api_test

import (
	"net/url"
	"testing"
)

// refused asserts that each query on path is a 400 in Alpaca's error shape
// that wrote no key and made no origin call.
func refused(t *testing.T, b *bed, path string, queries ...string) {
	t.Helper()
	for _, q := range queries {
		keys, calls := b.keys(), b.calls()
		r := b.get(t, path, q)
		if r.StatusCode != 400 {
			t.Errorf("%s?%s: %d, want 400 (%s)", path, q, r.StatusCode, r.Body)
			continue
		}
		checkErrorShape(t, r.StatusCode, r.Headers, r.Body)
		if b.keys() != keys || b.calls() != calls {
			t.Errorf("%s?%s: refused, yet a key was written or the origin called", path, q)
		}
	}
}

// TestNonFiniteNumbersAreRefused: a numeric parameter that is not a finite
// decimal (NaN, infinities, values beyond float64, hexadecimal floats) is
// bad input, refused before any cache or origin work.
func TestNonFiniteNumbersAreRefused(t *testing.T) {
	b := newBed(t)
	var qs []string
	for _, name := range []string{"strike_price_gte", "strike_price_lte"} {
		for _, v := range []string{"NaN", "nan", "-NaN", "Inf", "+Inf", "-Inf", "inf", "Infinity", "1e400", "-1e400",
			"0x1p3", "0X10", "0x1.8p1", "1_000", "", " 5", "5 ", "1e", "--1", "-5", "1000001", "1e7"} {
			qs = append(qs, name+"="+url.QueryEscape(v))
		}
	}
	refused(t, b, "/v1beta1/options/snapshots/SPY", qs...)
	for _, v := range []string{"NaN", "Inf", "1e3", "1e400", "0x10", "1.5"} {
		refused(t, b, "/v1beta1/options/snapshots/SPY", "limit="+url.QueryEscape(v))
		refused(t, b, "/v2/stocks/AAPL/bars", "timeframe=1Day&limit="+url.QueryEscape(v))
	}
	for _, v := range []string{"0", "152.5", "1e2", "+100", ".5", "1000000", "1e-3"} {
		if r := b.get(t, "/v1beta1/options/snapshots/SPY", "strike_price_gte="+url.QueryEscape(v)); r.StatusCode != 200 {
			t.Errorf("strike_price_gte=%s: %d, want 200 (%s)", v, r.StatusCode, r.Body)
		}
	}
}

// TestChainUpdatedSinceTakesADate: the chain's updated_since is RFC 3339 or
// YYYY-MM-DD, as Alpaca documents, and reaches the origin as given.
func TestChainUpdatedSinceTakesADate(t *testing.T) {
	b := newBed(t)
	for _, v := range []string{"2026-11-27", "2026-11-27T14:30:00Z", "2026-11-27T09:30:00.5-05:00"} {
		r := b.get(t, "/v1beta1/options/snapshots/SPY", "updated_since="+url.QueryEscape(v))
		if r.StatusCode != 200 {
			t.Errorf("updated_since=%s: %d, want 200 (%s)", v, r.StatusCode, r.Body)
			continue
		}
		if got := b.origin.chainParams().UpdatedSince; got != v {
			t.Errorf("updated_since=%s reached the origin as %q", v, got)
		}
	}
	refused(t, b, "/v1beta1/options/snapshots/SPY", "updated_since=yesterday", "updated_since=2026-13-01",
		"updated_since="+url.QueryEscape("2026-11-27 14:30:00"), "updated_since=1764253800")
}

// TestOptionSnapshotsPagingIsHonouredOrRefused: on the multi-snapshot
// route, a limit that covers every symbol is the unlimited answer (same
// key: a hit), a smaller one, page_token and updated_since are refused
// before any cache or origin work.
func TestOptionSnapshotsPagingIsHonouredOrRefused(t *testing.T) {
	b := newBed(t)
	const path = "/v1beta1/options/snapshots"
	const two = "symbols=SPY261127C00600000,SPY261127P00600000"
	refused(t, b, path, two+"&limit=1", two+"&limit=0", two+"&limit=1001", two+"&limit=NaN",
		two+"&page_token=abc", two+"&page_token=", two+"&updated_since=2026-11-27",
		two+"&updated_since=2026-11-27T14:30:00Z", two+"&limit=1000&updated_since=2026-11-27")
	if r := b.get(t, path, two); r.StatusCode != 200 || b.calls() != 1 {
		t.Fatalf("plain: %d after %d calls (%s)", r.StatusCode, b.calls(), r.Body)
	}
	for _, q := range []string{two + "&limit=2", two + "&limit=1000", two + ",spy261127c00600000&limit=2"} {
		r := b.get(t, path, q)
		if r.StatusCode != 200 || b.calls() != 1 {
			t.Errorf("%s: %d after %d origin calls, want 200 from the plain query's entries", q, r.StatusCode, b.calls())
		}
	}
}
