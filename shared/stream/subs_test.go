package stream

import (
	"reflect"
	"testing"
)

// The upstream subscription is the clients' union, then the other hubs',
// then the hot symbols, within the limit for trades and quotes; bars take
// every hot symbol.
func TestWantPriority(t *testing.T) {
	f, _ := feedOf(FeedIEX)
	r := newRegistry(f, 4, []string{"SPY", "AAPL", "QQQ", "IWM"})
	c1, c2 := &client{}, &client{}
	if _, code := r.apply(c1, true, Subs{"quotes": setOf([]string{"MSFT"})}); code != 0 {
		t.Fatal(code)
	}
	if _, code := r.apply(c2, true, Subs{"trades": setOf([]string{"AAPL"})}); code != 0 {
		t.Fatal(code)
	}
	r.setRemote(Subs{"quotes": setOf([]string{"NVDA"}), "bars": setOf([]string{"*"})})
	w := r.want()
	want := Subs{
		"quotes": setOf([]string{"MSFT", "NVDA", "SPY", "AAPL"}), // AAPL is counted already
		"trades": setOf([]string{"AAPL", "SPY"}),
		"bars":   setOf([]string{"*", "SPY", "AAPL", "QQQ", "IWM"}),
	}
	if !reflect.DeepEqual(w, want) {
		t.Fatalf("want() = %v, want %v", w, want)
	}
	if n := count(w); n != 4 {
		t.Fatalf("%d trade and quote symbols upstream, want the limit 4", n)
	}
	// A fifth client symbol is refused: MSFT, AAPL (local) and NVDA
	// (remote) leave room for one.
	if _, code := r.apply(c1, true, Subs{"quotes": setOf([]string{"TSLA", "AMD"})}); code != CodeSymbolLimit {
		t.Fatalf("code %d, want 405", code)
	}
	if _, code := r.apply(c1, true, Subs{"quotes": setOf([]string{"TSLA"})}); code != 0 {
		t.Fatalf("code %d, want 0", code)
	}
	r.drop(c1)
	r.drop(c2)
	if got := r.want().List("trades"); !reflect.DeepEqual(got, []string{"AAPL", "QQQ", "SPY"}) { // NVDA (remote) holds the fourth
		t.Fatalf("after the clients left, trades %v", got)
	}
}
