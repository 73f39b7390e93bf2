package alpacasim_test

import (
	"encoding/json"
	"reflect"
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

// need fails the test on err.
func need(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// near reports whether ts lies in [now-d, now].
func near(ts, now time.Time, d time.Duration) bool { return !ts.After(now) && now.Sub(ts) <= d }

func checkTrade(t *testing.T, what string, tr marketdata.Trade, now time.Time, d time.Duration) {
	t.Helper()
	if tr.Price <= 0 || tr.Size == 0 || tr.ID == 0 || tr.Exchange == "" || len(tr.Conditions) == 0 || tr.Tape == "" || !near(tr.Timestamp, now, d) {
		t.Errorf("%s: trade %+v", what, tr)
	}
}

func TestSDKStockLatestAndSnapshots(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	tr, err := c.GetLatestTrade("AAPL", marketdata.GetLatestTradeRequest{})
	need(t, "GetLatestTrade", err)
	checkTrade(t, "AAPL", *tr, friday, time.Minute)
	trs, err := c.GetLatestTrades([]string{"AAPL", "MSFT", "ZZZZQ"}, marketdata.GetLatestTradeRequest{})
	need(t, "GetLatestTrades", err)
	if len(trs) != 2 || !reflect.DeepEqual(trs["AAPL"], *tr) {
		t.Errorf("GetLatestTrades: %+v", trs)
	}
	b, err := c.GetLatestBar("AAPL", marketdata.GetLatestBarRequest{})
	need(t, "GetLatestBar", err)
	checkBar(t, "latest AAPL", *b)
	if !b.Timestamp.Equal(friday.Add(-time.Minute)) {
		t.Errorf("latest bar at %v", b.Timestamp)
	}
	bs, err := c.GetLatestBars([]string{"AAPL", "SPY"}, marketdata.GetLatestBarRequest{})
	need(t, "GetLatestBars", err)
	if len(bs) != 2 || bs["AAPL"] != *b {
		t.Errorf("GetLatestBars: %+v", bs)
	}
	q, err := c.GetLatestQuote("AAPL", marketdata.GetLatestQuoteRequest{})
	need(t, "GetLatestQuote", err)
	sn, err := c.GetSnapshot("AAPL", marketdata.GetSnapshotRequest{})
	need(t, "GetSnapshot", err)
	if sn == nil || !reflect.DeepEqual(*sn.LatestTrade, *tr) || !reflect.DeepEqual(*sn.LatestQuote, *q) || *sn.MinuteBar != *b {
		t.Fatalf("GetSnapshot: %+v", sn)
	}
	checkBar(t, "daily", *sn.DailyBar)
	checkBar(t, "previous daily", *sn.PrevDailyBar)
	sns, err := c.GetSnapshots([]string{"AAPL", "KO", "ZZZZQ"}, marketdata.GetSnapshotRequest{})
	need(t, "GetSnapshots", err)
	if len(sns) != 3 || sns["ZZZZQ"] != nil || sns["KO"] == nil || !reflect.DeepEqual(*sns["AAPL"], *sn) {
		t.Errorf("GetSnapshots: %+v", sns)
	}
}

func TestSDKStockHistory(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	start := friday.Add(-15 * time.Minute)
	trades, err := c.GetTrades("AAPL", marketdata.GetTradesRequest{Start: start, PageLimit: 50})
	need(t, "GetTrades", err)
	multi, err := c.GetMultiTrades([]string{"AAPL", "MSFT"}, marketdata.GetTradesRequest{Start: start})
	need(t, "GetMultiTrades", err)
	if len(trades) < 15 || !reflect.DeepEqual(trades, multi["AAPL"]) || len(multi["MSFT"]) == 0 {
		t.Errorf("GetTrades: %d, multi %d", len(trades), len(multi["AAPL"]))
	}
	for _, tr := range trades {
		checkTrade(t, "AAPL history", tr, friday, 15*time.Minute)
	}
	quotes, err := c.GetQuotes("SPY", marketdata.GetQuotesRequest{Start: start, TotalLimit: 250, PageLimit: 100})
	need(t, "GetQuotes", err)
	mq, err := c.GetMultiQuotes([]string{"SPY", "QQQ"}, marketdata.GetQuotesRequest{Start: start, Sort: marketdata.SortDesc, TotalLimit: 10})
	need(t, "GetMultiQuotes", err)
	if len(quotes) != 250 || len(mq["SPY"])+len(mq["QQQ"]) != 10 {
		t.Errorf("GetQuotes %d, multi %d+%d", len(quotes), len(mq["SPY"]), len(mq["QQQ"]))
	}
	for _, q := range quotes {
		checkQuote(t, "SPY history", q, friday)
	}
	au, err := c.GetAuctions("AAPL", marketdata.GetAuctionsRequest{Start: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)})
	need(t, "GetAuctions", err)
	mau, err := c.GetMultiAuctions([]string{"AAPL", "KO"}, marketdata.GetAuctionsRequest{Start: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)})
	need(t, "GetMultiAuctions", err)
	if len(au) != 4 || !reflect.DeepEqual(au, mau["AAPL"]) || len(mau["KO"]) != 4 {
		t.Fatalf("GetAuctions %d, multi %d/%d", len(au), len(mau["AAPL"]), len(mau["KO"]))
	}
	for _, d := range au {
		if len(d.Opening) == 0 || d.Opening[0].Price <= 0 || d.Opening[0].Condition == "" || d.Opening[0].Exchange != "Q" {
			t.Errorf("auction %+v", d)
		}
	}
}

func TestSDKOptionHistory(t *testing.T) {
	s, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	syms := s.OptionSymbols("SPY")
	occ := syms[len(syms)/2]
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	bars, err := c.GetOptionBars(occ, marketdata.GetOptionBarsRequest{TimeFrame: marketdata.OneHour, Start: start})
	need(t, "GetOptionBars", err)
	mb, err := c.GetMultiOptionBars([]string{occ, syms[3]}, marketdata.GetOptionBarsRequest{TimeFrame: marketdata.OneDay, Start: start})
	need(t, "GetMultiOptionBars", err)
	if len(bars) < 5 || len(mb[occ]) != 2 {
		t.Errorf("GetOptionBars %d, daily %d", len(bars), len(mb[occ]))
	}
	for _, b := range bars {
		if b.Open <= 0 || b.High < b.Low || b.Volume == 0 || b.TradeCount == 0 || !inExtendedSession(b.Timestamp) {
			t.Errorf("option bar %+v", b)
		}
	}
	trades, err := c.GetOptionTrades(occ, marketdata.GetOptionTradesRequest{Start: start, PageLimit: 100})
	need(t, "GetOptionTrades", err)
	mt, err := c.GetOptionMultiTrades([]string{occ}, marketdata.GetOptionTradesRequest{Start: start})
	need(t, "GetOptionMultiTrades", err)
	if len(trades) < 10 || !reflect.DeepEqual(trades, mt[occ]) {
		t.Errorf("GetOptionTrades %d, multi %d", len(trades), len(mt[occ]))
	}
	lt, err := c.GetLatestOptionTrade(occ, marketdata.GetLatestOptionTradeRequest{})
	need(t, "GetLatestOptionTrade", err)
	lts, err := c.GetLatestOptionTrades([]string{occ, syms[0]}, marketdata.GetLatestOptionTradeRequest{})
	need(t, "GetLatestOptionTrades", err)
	if lt == nil || *lt != trades[len(trades)-1] || lts[occ] != *lt || lt.Price <= 0 || lt.Exchange == "" || lt.Condition == "" {
		t.Errorf("GetLatestOptionTrade %+v, history ends %+v", lt, trades[len(trades)-1])
	}
	lq, err := c.GetLatestOptionQuote(occ, marketdata.GetLatestOptionQuoteRequest{})
	need(t, "GetLatestOptionQuote", err)
	checkOptionQuote(t, occ, *lq, friday)
	sn, err := c.GetOptionSnapshot(occ, marketdata.GetOptionSnapshotRequest{})
	need(t, "GetOptionSnapshot", err)
	checkOptionSnapshot(t, occ, *sn, friday)
	if *sn.LatestTrade != *lt {
		t.Errorf("snapshot trade %+v, latest %+v", sn.LatestTrade, lt)
	}
}

func TestSDKCrypto(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{Clock: fixed(christmas)})
	c := sdk(ts)
	start := christmas.Add(-10 * time.Minute)
	trades, err := c.GetCryptoTrades("BTC/USD", marketdata.GetCryptoTradesRequest{Start: start, PageLimit: 7})
	need(t, "GetCryptoTrades", err)
	mtr, err := c.GetCryptoMultiTrades([]string{"BTC/USD", "ETH/USD"}, marketdata.GetCryptoTradesRequest{Start: start})
	need(t, "GetCryptoMultiTrades", err)
	quotes, err := c.GetCryptoQuotes("BTC/USD", marketdata.GetCryptoQuotesRequest{Start: start})
	need(t, "GetCryptoQuotes", err)
	mq, err := c.GetCryptoMultiQuotes([]string{"BTC/USD", "ETH/USD"}, marketdata.GetCryptoQuotesRequest{Start: start})
	need(t, "GetCryptoMultiQuotes", err)
	bars, err := c.GetCryptoBars("BTC/USD", marketdata.GetCryptoBarsRequest{TimeFrame: marketdata.OneMin, Start: start})
	need(t, "GetCryptoBars", err)
	mb, err := c.GetCryptoMultiBars([]string{"BTC/USD", "ETH/USD"}, marketdata.GetCryptoBarsRequest{TimeFrame: marketdata.OneMin, Start: start})
	need(t, "GetCryptoMultiBars", err)
	if len(trades) < 10 || !reflect.DeepEqual(trades, mtr["BTC/USD"]) || len(quotes) != 600 || len(mq["ETH/USD"]) != 600 ||
		len(bars) != 10 || !reflect.DeepEqual(bars, mb["BTC/USD"]) {
		t.Fatalf("crypto history: %d trades, %d quotes, %d bars", len(trades), len(quotes), len(bars))
	}
	for _, tr := range trades {
		if tr.Price < 10000 || tr.Size <= 0 || !near(tr.Timestamp, christmas, 10*time.Minute) {
			t.Errorf("crypto trade %+v", tr)
		}
	}
	lt, err := c.GetLatestCryptoTrade("BTC/USD", marketdata.GetLatestCryptoTradeRequest{})
	need(t, "GetLatestCryptoTrade", err)
	lts, err := c.GetLatestCryptoTrades([]string{"BTC/USD"}, marketdata.GetLatestCryptoTradeRequest{})
	need(t, "GetLatestCryptoTrades", err)
	lq, err := c.GetLatestCryptoQuote("BTC/USD", marketdata.GetLatestCryptoQuoteRequest{})
	need(t, "GetLatestCryptoQuote", err)
	lqs, err := c.GetLatestCryptoQuotes([]string{"BTC/USD"}, marketdata.GetLatestCryptoQuoteRequest{})
	need(t, "GetLatestCryptoQuotes", err)
	lb, err := c.GetLatestCryptoBar("BTC/USD", marketdata.GetLatestCryptoBarRequest{})
	need(t, "GetLatestCryptoBar", err)
	lbs, err := c.GetLatestCryptoBars([]string{"BTC/USD"}, marketdata.GetLatestCryptoBarRequest{})
	need(t, "GetLatestCryptoBars", err)
	if *lt != trades[len(trades)-1] || lts["BTC/USD"] != *lt || *lq != quotes[len(quotes)-1] || lqs["BTC/USD"] != *lq ||
		*lb != bars[len(bars)-1] || lbs["BTC/USD"] != *lb {
		t.Errorf("latest crypto: trade %+v quote %+v bar %+v", lt, lq, lb)
	}
	sn, err := c.GetCryptoSnapshot("BTC/USD", marketdata.GetCryptoSnapshotRequest{})
	need(t, "GetCryptoSnapshot", err)
	sns, err := c.GetCryptoSnapshots([]string{"BTC/USD", "ETH/USD"}, marketdata.GetCryptoSnapshotRequest{})
	need(t, "GetCryptoSnapshots", err)
	if *sn.LatestTrade != *lt || *sn.LatestQuote != *lq || *sn.MinuteBar != *lb || len(sns) != 2 ||
		sn.DailyBar.Volume <= 0 || !sn.DailyBar.Timestamp.Equal(time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("crypto snapshot %+v", sn)
	}
}

func TestSDKCryptoPerps(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{Clock: fixed(saturday)})
	c := sdk(ts)
	syms := []string{"BTC-PERP", "ETH-PERP"}
	b, err := c.GetLatestCryptoPerpBar("BTC-PERP", marketdata.GetLatestCryptoBarRequest{})
	need(t, "GetLatestCryptoPerpBar", err)
	bs, err := c.GetLatestCryptoPerpBars(syms, marketdata.GetLatestCryptoBarRequest{})
	need(t, "GetLatestCryptoPerpBars", err)
	tr, err := c.GetLatestCryptoPerpTrade("BTC-PERP", marketdata.GetLatestCryptoTradeRequest{})
	need(t, "GetLatestCryptoPerpTrade", err)
	trs, err := c.GetLatestCryptoPerpTrades(syms, marketdata.GetLatestCryptoTradeRequest{})
	need(t, "GetLatestCryptoPerpTrades", err)
	q, err := c.GetLatestCryptoPerpQuote("BTC-PERP", marketdata.GetLatestCryptoQuoteRequest{})
	need(t, "GetLatestCryptoPerpQuote", err)
	qs, err := c.GetLatestCryptoPerpQuotes(syms, marketdata.GetLatestCryptoQuoteRequest{})
	need(t, "GetLatestCryptoPerpQuotes", err)
	p, err := c.GetLatestCryptoPerpPricing("BTC-PERP", marketdata.GetLatestCryptoPerpPricingRequest{})
	need(t, "GetLatestCryptoPerpPricing", err)
	// GetLatestCryptoPerpPricingData, called directly, cannot set the SDK's
	// unexported perpetual flag and asks /v1beta3/crypto/us/latest/pricing,
	// which Alpaca does not serve either: it must fail. The perpetual route
	// is checked through GetLatestCryptoPerpPricing, which sets the flag.
	if _, err := c.GetLatestCryptoPerpPricingData(syms, marketdata.GetLatestCryptoPerpPricingRequest{}); err == nil {
		t.Error("GetLatestCryptoPerpPricingData reached a pricing route on the spot path")
	}
	ps := fetch[struct {
		Pricing map[string]marketdata.CryptoPerpPricing
	}](t, ts, "/v1beta1/crypto-perps/global/latest/pricing?symbols=BTC-PERP,ETH-PERP").Pricing
	if b.Close <= 0 || b.Volume <= 0 || bs["BTC-PERP"] != *b || len(bs) != 2 || tr.Price <= 0 || trs["BTC-PERP"] != *tr ||
		q.BidPrice >= q.AskPrice || qs["ETH-PERP"].BidPrice <= 0 || ps["BTC-PERP"] != *p || len(ps) != 2 {
		t.Errorf("perps: bar %+v trade %+v quote %+v", b, tr, q)
	}
	if p.IndexPrice <= 0 || p.MarkPrice <= 0 || p.OpenInterest <= 0 || !p.NextFundingTime.After(p.Timestamp) ||
		q.BidPrice > p.MarkPrice*1.01 || q.AskPrice < p.MarkPrice*0.99 {
		t.Errorf("pricing %+v, quote %+v", p, q)
	}
}

func TestSDKNewsAndCorporateActions(t *testing.T) {
	_, ts := newSim(t, alpacasim.Config{})
	c := sdk(ts)
	news, err := c.GetNews(marketdata.GetNewsRequest{Symbols: []string{"TSLA"}, Start: friday.Add(-72 * time.Hour), NoTotalLimit: true, PageLimit: 4})
	need(t, "GetNews", err)
	if len(news) < 6 {
		t.Fatalf("%d articles", len(news))
	}
	for i, n := range news {
		if n.ID == 0 || n.Headline == "" || n.Symbols[0] != "TSLA" || !near(n.CreatedAt, friday, 72*time.Hour) || (i > 0 && n.ID >= news[i-1].ID) {
			t.Errorf("article %+v", n)
		}
	}
	ca, err := c.GetCorporateActions(marketdata.GetCorporateActionsRequest{
		Start: civil.Date{Year: 2026, Month: 1, Day: 1}, End: civil.Date{Year: 2026, Month: 12, Day: 31}, PageLimit: 200})
	need(t, "GetCorporateActions", err)
	if len(ca.CashDividends) < 300 {
		t.Errorf("%d dividends", len(ca.CashDividends))
	}
	for _, d := range ca.CashDividends {
		if d.Symbol == "" || d.Rate <= 0 || d.ExDate.Year != 2026 {
			t.Errorf("dividend %+v", d)
		}
	}
}
