package redistest

import (
	"context"
	"testing"
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
