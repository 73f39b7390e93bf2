package catalog

import "testing"

func TestEntryID(t *testing.T) {
	for _, c := range []struct {
		sym       string
		k         Kind
		feed, def string
		want      string
	}{
		{"AAPL", Quote, "iex", "iex", "AAPL"},
		{"AAPL", Quote, "", "iex", "AAPL"},
		{"AAPL", Quote, "sip", "iex", "AAPL:SIP"},
		{"AAPL", Trade, "iex", "iex", "AAPL:TRADE"},
		{"AAPL", Bar, "sip", "iex", "AAPL:BAR:SIP"},
		{"AAPL240426C00152500", Snapshot, "opra", "indicative", "AAPL240426C00152500:SNAPSHOT:OPRA"},
		{"BTC/USD", Orderbook, "", "", "BTC/USD:BOOK"},
	} {
		got := EntryID(c.sym, c.k, c.feed, c.def)
		if got != c.want {
			t.Errorf("EntryID(%q, %q, %q, %q) = %q, want %q", c.sym, c.k, c.feed, c.def, got, c.want)
		}
		if b := BaseOf(got); b != c.sym {
			t.Errorf("BaseOf(%q) = %q, want %q", got, b, c.sym)
		}
	}
}
