package hotset

import (
	"context"
	"github.com/opitios/opitios-alpaca/shared/market"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
)

func fresh(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	// The hot set has one fixed key: tests using it run on a private server.
	if err := rdb.Del(context.Background(), Key).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestFeedBumpsAndFlushes(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb := srv.Client()
	fresh(t, rdb)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	f := NewFeed(rdb, FeedOptions{Interval: time.Hour, Clock: market.ClockFunc(func() time.Time { return now })})
	f.last = now // the interval has not passed: nothing is written in the background
	for range 5 {
		f.Bump("AAPL")
	}
	f.Bump("MSFT", "AAPL")
	if n, _ := rdb.Exists(ctx, Key).Result(); n != 0 {
		t.Fatal("Bump wrote before the interval passed")
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if s := rdb.ZScore(ctx, Key, "AAPL").Val(); s != 6 {
		t.Fatalf("AAPL score %v, want 6", s)
	}
	top, err := Top(ctx, rdb, 1)
	if err != nil || len(top) != 1 || top[0] != "AAPL" {
		t.Fatalf("top %v %v", top, err)
	}
	// Once the interval passes, a Bump writes in the background.
	now = now.Add(time.Hour)
	f.Bump("NVDA")
	deadline := time.Now().Add(5 * time.Second)
	for rdb.ZScore(ctx, Key, "NVDA").Val() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("background flush did not land")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDecay(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb := srv.Client()
	fresh(t, rdb)
	ctx := context.Background()
	rdb.ZAdd(ctx, Key, redis.Z{Score: 100, Member: "AAPL"}, redis.Z{Score: 10, Member: "MSFT"}, redis.Z{Score: 1, Member: "OLD"}, redis.Z{Score: 50, Member: "SPY"})
	if err := Decay(ctx, rdb, 0.5, 1, 2); err != nil {
		t.Fatal(err)
	}
	got := rdb.ZRevRangeWithScores(ctx, Key, 0, -1).Val()
	want := []redis.Z{{Score: 50, Member: "AAPL"}, {Score: 25, Member: "SPY"}}
	if len(got) != len(want) {
		t.Fatalf("after decay %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after decay %v, want %v", got, want)
		}
	}
	if err := Decay(ctx, rdb, 1.5, 1, 2); err == nil {
		t.Fatal("a growing factor was accepted")
	}
	rdb.Del(ctx, Key)
	if err := Decay(ctx, rdb, 0.5, 1, 2); err != nil {
		t.Fatalf("decay of an empty set: %v", err)
	}
}

func TestFeedBoundsPending(t *testing.T) {
	clk := market.NewManualClock(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC))
	f := NewFeed(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), FeedOptions{Interval: time.Hour, Clock: clk})
	f.last = clk.Now()
	for i := range maxPending + 500 {
		f.Bump(string(rune('A'+i%26)) + string(rune(i)))
	}
	if len(f.counts) > maxPending {
		t.Fatalf("pending %d > %d", len(f.counts), maxPending)
	}
}
