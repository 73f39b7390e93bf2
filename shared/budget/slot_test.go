package budget

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
)

// takeScript runs budget_take alone, as a caller's script would.
var takeScript = redis.NewScript(TakeLua + `
local ok, retry, reset = budget_take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
return {ok, retry, reset}`)

func scriptTake(t *testing.T, rdb redis.UniversalClient, s Slot) (bool, time.Duration) {
	t.Helper()
	v, err := takeScript.Run(context.Background(), rdb, []string{s.Key}, s.Burst, s.Rate, s.Period).Slice()
	if err != nil {
		t.Fatal(err)
	}
	reset, err := strconv.ParseFloat(v[2].(string), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v[0].(int64) == 1, time.Duration(reset * float64(time.Second))
}

// A script's takes and Wait's share one GCRA: B slots in all from idle,
// whoever takes them.
func TestScriptTakeSharesTheGCRA(t *testing.T) {
	rdb := redistest.Client(t)
	l := New(rdb, Options{PerMinute: 60, Key: redistest.Prefix(t) + "budget"}) // B = 6
	if _, ok := l.Slot(redistest.Client(t)); ok {
		t.Fatal("a slot for another client")
	}
	s, ok := l.Slot(rdb)
	if !ok || s.Burst != 6 || s.Rate != 54 || s.Period != 60 {
		t.Fatalf("Slot() = %+v, %v", s, ok)
	}
	for i := range 3 {
		if ok, _ := scriptTake(t, rdb, s); !ok {
			t.Fatalf("script take %d refused", i)
		}
	}
	if n := take(t, l, 10, short); n != 3 {
		t.Fatalf("Wait admitted %d after 3 script takes, want 3", n)
	}
	if ok, _ := scriptTake(t, rdb, s); ok {
		t.Fatal("a script take beyond the burst was allowed")
	}
}

// A slot a script took is used by the first Wait on its context only, and
// only by a view with the same limit.
func TestTakenSlotIsUsedOnce(t *testing.T) {
	rdb := redistest.Client(t)
	l := New(rdb, Options{PerMinute: 60, Key: redistest.Prefix(t) + "budget"}) // B = 6
	s, _ := l.Slot(rdb)
	ok, reset := scriptTake(t, rdb, s)
	if !ok {
		t.Fatal("refused")
	}
	ctx := l.Taken(context.Background(), true, reset)
	if l.Remaining() != 5 {
		t.Fatalf("Remaining() = %d after one take, want 5", l.Remaining())
	}
	if l.WithShare(0.5).usePrepaid(ctx) {
		t.Fatal("a view with another limit used the slot")
	}
	if !l.usePrepaid(ctx) || l.usePrepaid(ctx) {
		t.Fatal("the slot must be used exactly once")
	}
	// The slot and 5 Waits: 6 in all, the burst.
	ctx = l.Taken(context.Background(), true, reset)
	n := 0
	for range 8 {
		c, cancel := context.WithTimeout(ctx, short)
		if l.Wait(c) == nil {
			n++
		}
		cancel()
	}
	if n != 6 {
		t.Fatalf("%d admitted with a taken slot, want 6", n)
	}
	if _, ok := Local(Options{PerMinute: 60}).Slot(rdb); ok {
		t.Fatal("a local budget has no Redis slot")
	}
	if got := l.Taken(context.Background(), false, reset); got.Value(prepaidKey{}) != nil {
		t.Fatal("a refused take must carry no slot")
	}
}
