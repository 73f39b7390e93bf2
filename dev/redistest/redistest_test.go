package redistest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestServerStopStartIsEmpty(t *testing.T) {
	s := StartServer(t)
	c := s.Client()
	ctx := context.Background()
	if err := c.Set(ctx, Prefix(t)+"k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("a stopped server answered")
	}
	s.Start()
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("restarted server holds %d keys (%v), want an empty one", n, err)
	}
	if FreePort(t) <= 0 {
		t.Fatal("no free port")
	}
}

// TripHook sees a command as one round trip and a pipeline as one. (The
// commands a new connection sends to set itself up, HELLO and CLIENT, are
// left out here.)
func TestTripHookCountsRoundTrips(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: Addr(t)})
	defer c.Close()
	var trips [][]string
	c.AddHook(TripHook(func(cmds []redis.Cmder) {
		if n := cmds[0].Name(); n == "hello" || n == "client" {
			return
		}
		var names []string
		for _, cmd := range cmds {
			names = append(names, cmd.Name())
		}
		trips = append(trips, names)
	}))
	ctx := context.Background()
	k := Prefix(t) + "k"
	c.Set(ctx, k, "v", time.Minute)
	c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, k)
		p.Del(ctx, k)
		return nil
	})
	if want := [][]string{{"set"}, {"get", "del"}}; !reflect.DeepEqual(trips, want) {
		t.Fatalf("round trips %v, want %v", trips, want)
	}
}
