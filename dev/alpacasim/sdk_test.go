package alpacasim_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// The official SDK decodes every endpoint the simulator serves: these tests
// are the shape contract.

func TestSDKLatestQuote(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	q, err := sdk(ts).GetLatestQuote("AAPL", marketdata.GetLatestQuoteRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if q == nil {
		t.Fatal("no quote for AAPL")
	}
	checkQuote(t, "AAPL", *q, friday)
	if friday.Sub(q.Timestamp) > 2*time.Second {
		t.Errorf("quote at %v is stale for a session in progress at %v", q.Timestamp, friday)
	}
	// The SDK asks the multi-symbol route, which leaves unknown symbols out.
	if q, err := sdk(ts).GetLatestQuote("ZZZZQ", marketdata.GetLatestQuoteRequest{}); q != nil || err != nil {
		t.Errorf("unknown symbol: %+v, %v", q, err)
	}
}

func TestSDKLatestQuotes(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	syms := []string{"AAPL", "MSFT", "SPY", "BRK.B", "BF.B", "ZZZZQ"}
	qs, err := sdk(ts).GetLatestQuotes(syms, marketdata.GetLatestQuoteRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 5 {
		t.Errorf("got %d quotes, want 5 (the unknown symbol absent)", len(qs))
	}
	if _, ok := qs["ZZZZQ"]; ok {
		t.Error("unknown symbol present")
	}
	for sym, q := range qs {
		checkQuote(t, sym, q, friday)
	}
	if qs["SPY"].Tape != "B" || qs["AAPL"].Tape != "C" || qs["BRK.B"].Tape != "A" {
		t.Errorf("tapes SPY %q AAPL %q BRK.B %q", qs["SPY"].Tape, qs["AAPL"].Tape, qs["BRK.B"].Tape)
	}
}

func TestSDKLatestQuotesWholeUniverse(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	u := alpacasim.Universe()
	if len(u) < 300 {
		t.Fatalf("universe has %d symbols, want 300+", len(u))
	}
	got := 0
	for chunk := range slices.Chunk(u, 100) {
		qs, err := sdk(ts).GetLatestQuotes(chunk, marketdata.GetLatestQuoteRequest{Feed: marketdata.IEX})
		if err != nil {
			t.Fatal(err)
		}
		for sym, q := range qs {
			checkQuote(t, sym, q, friday)
			if q.AskExchange != "V" || q.BidExchange != "V" {
				t.Errorf("%s: IEX feed quote from %q/%q", sym, q.AskExchange, q.BidExchange)
			}
		}
		got += len(qs)
	}
	if got != len(u) {
		t.Errorf("got %d quotes for %d symbols", got, len(u))
	}
}

// allBars fetches bars with a page size of pageLimit and reports how many
// requests it took.
func allBars(t *testing.T, s *alpacasim.Server, c *marketdata.Client, syms []string, req marketdata.GetBarsRequest) (map[string][]marketdata.Bar, int64) {
	t.Helper()
	s.Reset()
	got, err := c.GetMultiBars(syms, req)
	if err != nil {
		t.Fatal(err)
	}
	return got, s.Stats().ByPath["/v2/stocks/bars"]
}

func TestSDKGetBarsPaginates(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	req := marketdata.GetBarsRequest{
		TimeFrame: marketdata.NewTimeFrame(5, marketdata.Min),
		Start:     time.Date(2026, 11, 24, 0, 0, 0, 0, market.NewYork),
		End:       friday.Add(time.Hour), // past now: nothing after now is served
	}
	whole, err := c.GetBars("AAPL", req)
	if err != nil {
		t.Fatal(err)
	}
	req.PageLimit = 37
	s.Reset()
	paged, err := c.GetBars("AAPL", req)
	if err != nil {
		t.Fatal(err)
	}
	pages := s.Stats().ByPath["/v2/stocks/bars"]
	if want := int64((len(whole) + 36) / 37); pages != want || pages < 3 {
		t.Errorf("%d bars took %d pages of 37, want %d (and at least 3)", len(whole), pages, want)
	}
	if !slices.Equal(whole, paged) {
		t.Error("paged bars differ from one big page")
	}
	checkIntradayBars(t, "AAPL", whole, 5*time.Minute, friday)
	// Two trading days of 16 hours of 5-minute bars before the 27th (the
	// 26th is Thanksgiving), and the 27th from 04:00 to 10:00.
	if want := 2*16*12 + 6*12; len(whole) != want {
		t.Errorf("got %d bars, want %d", len(whole), want)
	}
}

func checkIntradayBars(t *testing.T, sym string, bars []marketdata.Bar, dur time.Duration, now time.Time) {
	t.Helper()
	for i, b := range bars {
		checkBar(t, sym, b)
		if !inExtendedSession(b.Timestamp) {
			t.Errorf("%s: bar at %v outside the sessions", sym, b.Timestamp)
		}
		if b.Timestamp.Add(dur).After(now) {
			t.Errorf("%s: bar at %v not complete at %v", sym, b.Timestamp, now)
		}
		if i > 0 && !b.Timestamp.After(bars[i-1].Timestamp) {
			t.Errorf("%s: bars out of order at %d", sym, i)
		}
		if b.Timestamp.In(market.NewYork).Format(time.DateOnly) == "2026-11-26" {
			t.Errorf("%s: bar on Thanksgiving: %v", sym, b.Timestamp)
		}
	}
}

func TestSDKGetMultiBarsPaginatesAcrossSymbols(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	syms := []string{"MSFT", "AAPL", "NOPE", "SPY"}
	req := marketdata.GetBarsRequest{
		TimeFrame: marketdata.OneDay,
		Start:     time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
		End:       time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
	}
	whole, n := allBars(t, s, c, syms, req)
	if n != 1 {
		t.Errorf("default page took %d requests", n)
	}
	req.PageLimit = 7
	paged, n := allBars(t, s, c, syms, req)
	if n < 3 {
		t.Errorf("page limit 7 took only %d requests", n)
	}
	if len(whole) != 3 || whole["NOPE"] != nil {
		t.Errorf("symbols %v, want the three known ones", len(whole))
	}
	for sym, bars := range whole {
		if !slices.Equal(bars, paged[sym]) {
			t.Errorf("%s: paged bars differ", sym)
		}
		// October 2026 has 22 trading days; November up to the 27th has 19
		// (the 26th is Thanksgiving).
		if len(bars) != 22+19 {
			t.Errorf("%s: %d daily bars, want 41", sym, len(bars))
		}
		for _, b := range bars {
			checkBar(t, sym, b)
			if !nyMidnightOfTradingDay(b.Timestamp) {
				t.Errorf("%s: daily bar stamped %v, not New York midnight of a trading day", sym, b.Timestamp)
			}
		}
		last := bars[len(bars)-1].Timestamp
		if want := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC); !last.Equal(want) {
			t.Errorf("%s: last daily bar %v, want today's, %v", sym, last, want)
		}
	}
	if got := whole["AAPL"][0].Timestamp; !got.Equal(time.Date(2026, 10, 1, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("first bar %v, want 2026-10-01T04:00:00Z (EDT midnight)", got)
	}
}

func TestSDKBarsSortDesc(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	req := marketdata.GetBarsRequest{
		TimeFrame: marketdata.OneHour,
		Start:     time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		PageLimit: 10,
	}
	asc, err := c.GetBars("NVDA", req)
	if err != nil {
		t.Fatal(err)
	}
	req.Sort = marketdata.SortDesc
	desc, err := c.GetBars("NVDA", req)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(desc)
	if len(asc) == 0 || !slices.Equal(asc, desc) {
		t.Errorf("desc (%d bars) is not asc (%d bars) reversed", len(desc), len(asc))
	}
	checkIntradayBars(t, "NVDA", asc, time.Hour, friday)
}

func TestSDKLongBars(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	for _, tf := range []marketdata.TimeFrame{
		marketdata.OneWeek, marketdata.OneMonth, marketdata.NewTimeFrame(3, marketdata.Month), marketdata.NewTimeFrame(12, marketdata.Month),
	} {
		bars, err := c.GetBars("QQQ", marketdata.GetBarsRequest{
			TimeFrame: tf,
			Start:     time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		})
		if err != nil {
			t.Fatal(tf, err)
		}
		if len(bars) == 0 {
			t.Fatalf("%v: no bars", tf)
		}
		for _, b := range bars {
			checkBar(t, tf.String(), b)
			if !nyMidnightOfTradingDay(b.Timestamp) {
				t.Errorf("%v: bar stamped %v", tf, b.Timestamp)
			}
		}
	}
	// Monday 19 January 2026 is Martin Luther King Day: that week's bar is
	// stamped on Tuesday.
	w, err := c.GetBars("QQQ", marketdata.GetBarsRequest{
		TimeFrame: marketdata.OneWeek, Start: time.Date(2026, 1, 19, 0, 0, 0, 0, market.NewYork), TotalLimit: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 1 || !w[0].Timestamp.Equal(time.Date(2026, 1, 20, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("weekly bar of MLK week: %+v", w)
	}
}

func TestSDKLatestOptionQuotes(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	syms := s.OptionSymbols("SPY")
	if len(syms) < 100 {
		t.Fatalf("SPY chain has %d contracts", len(syms))
	}
	ask := append(slices.Clone(syms[:99]), "SPY991231C00100000")
	qs, err := sdk(ts).GetLatestOptionQuotes(ask, marketdata.GetLatestOptionQuoteRequest{Feed: marketdata.Indicative})
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 99 {
		t.Errorf("got %d quotes, want 99 (the unlisted contract absent)", len(qs))
	}
	for sym, q := range qs {
		checkOptionQuote(t, sym, q, friday)
	}
	one, err := sdk(ts).GetLatestOptionQuote(syms[0], marketdata.GetLatestOptionQuoteRequest{})
	if err != nil || one == nil || *one != qs[syms[0]] {
		t.Errorf("single quote %+v, %v; want %+v", one, err, qs[syms[0]])
	}
}

func TestSDKOptionSnapshots(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	var syms []string
	for _, u := range []string{"AAPL", "TSLA", "IWM", "GLD"} {
		all := s.OptionSymbols(u)
		syms = append(syms, all[len(all)/2-10:len(all)/2+10]...)
	}
	syms = append(syms, "ZZZ261127C00100000")
	s.Reset()
	snaps, err := sdk(ts).GetOptionSnapshots(syms, marketdata.GetOptionSnapshotRequest{PageLimit: 15})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 80 {
		t.Errorf("got %d snapshots, want 80", len(snaps))
	}
	if n := s.Stats().ByPath["/v1beta1/options/snapshots"]; n != 6 {
		t.Errorf("80 snapshots in pages of 15 took %d requests, want 6", n)
	}
	for sym, snap := range snaps {
		checkOptionSnapshot(t, sym, snap, friday)
	}
}

func TestSDKOptionChain(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	all, err := c.GetOptionChain("SPY", marketdata.GetOptionChainRequest{})
	if err != nil {
		t.Fatal(err)
	}
	listed := s.OptionSymbols("SPY")
	if len(all) != len(listed) {
		t.Fatalf("chain has %d contracts, OptionSymbols %d", len(all), len(listed))
	}
	for sym := range all {
		if !occPattern.MatchString(sym) {
			t.Errorf("invalid OCC symbol %q", sym)
		}
	}
	for _, sym := range listed {
		snap, ok := all[sym]
		if !ok {
			t.Fatalf("%s missing from the chain", sym)
		}
		checkOptionSnapshot(t, sym, snap, friday)
	}

	// Filters, across pages.
	lte := civil.Date{Year: 2026, Month: 12, Day: 11}
	s.Reset()
	calls, err := c.GetOptionChain("SPY", marketdata.GetOptionChainRequest{
		Type:              marketdata.Call,
		StrikePriceGte:    0.9 * strikeOf(listed[len(listed)/2]),
		StrikePriceLte:    1.1 * strikeOf(listed[len(listed)/2]),
		ExpirationDateLte: lte,
		PageLimit:         7,
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, sym := range listed {
		k := strikeOf(sym)
		if sym[len(sym)-9] == 'C' && k >= 0.9*strikeOf(listed[len(listed)/2]) && k <= 1.1*strikeOf(listed[len(listed)/2]) &&
			sym[3:9] <= "261211" {
			want = append(want, sym)
		}
	}
	if len(calls) != len(want) || len(want) == 0 {
		t.Errorf("filtered chain has %d contracts, want %d", len(calls), len(want))
	}
	for _, sym := range want {
		if _, ok := calls[sym]; !ok {
			t.Errorf("%s missing from the filtered chain", sym)
		}
	}
	if n := s.Stats().ByPath["/v1beta1/options/snapshots/{underlying}"]; n != int64((len(want)+6)/7) {
		t.Errorf("%d contracts in pages of 7 took %d requests", len(want), n)
	}

	unknown, err := c.GetOptionChain("ZZZZQ", marketdata.GetOptionChainRequest{})
	if err != nil || len(unknown) != 0 {
		t.Errorf("unknown underlying: %d contracts, %v", len(unknown), err)
	}
}

func strikeOf(occ string) float64 {
	n, _ := strconv.Atoi(occ[len(occ)-8:])
	return float64(n) / 1000
}

// The SDK's OptionSnapshot has no bars; decode them directly.
func TestOptionSnapshotBars(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	syms := s.OptionSymbols("NVDA")
	r := get(t, ts, "/v1beta1/options/snapshots?symbols="+strings.Join(syms[:50], ","))
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var body struct {
		Snapshots map[string]struct {
			MinuteBar, DailyBar, PrevDailyBar *marketdata.Bar
		} `json:"snapshots"`
		NextPageToken *string `json:"next_page_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Snapshots) != 50 || body.NextPageToken != nil {
		t.Fatalf("%d snapshots, token %v", len(body.Snapshots), body.NextPageToken)
	}
	for sym, snap := range body.Snapshots {
		if snap.MinuteBar == nil || snap.DailyBar == nil || snap.PrevDailyBar == nil {
			t.Fatalf("%s: missing bars", sym)
		}
		checkBar(t, sym+" minute", *snap.MinuteBar)
		checkBar(t, sym+" daily", *snap.DailyBar)
		checkBar(t, sym+" previous daily", *snap.PrevDailyBar)
		if !inRegularSession(snap.MinuteBar.Timestamp) || snap.MinuteBar.Timestamp.After(friday) {
			t.Errorf("%s: minute bar at %v", sym, snap.MinuteBar.Timestamp)
		}
		if !snap.DailyBar.Timestamp.Equal(time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)) ||
			!snap.PrevDailyBar.Timestamp.Equal(time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: daily bars at %v and %v", sym, snap.DailyBar.Timestamp, snap.PrevDailyBar.Timestamp)
		}
	}
}
