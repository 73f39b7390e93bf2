package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/dev/redistest"
)

// TestNewRedisModes: a standalone URL gives a *redis.Client (batch reads are
// one MGET), a cluster URL a *redis.ClusterClient that reaches every slot.
func TestNewRedisModes(t *testing.T) {
	ctx := context.Background()
	std, err := NewRedis(RedisConfig{URL: "redis://" + redistest.Addr(t), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer std.Close()
	if _, ok := std.(*redis.Client); !ok {
		t.Fatalf("standalone: %T", std)
	}
	if err := std.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	cl, err := NewRedis(RedisConfig{URL: "redis://" + redistest.ClusterAddrs(t)[0], Cluster: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, ok := cl.(*redis.ClusterClient); !ok {
		t.Fatalf("cluster: %T", cl)
	}
	prefix := redistest.Prefix(t)
	for i := range 30 { // keys in many slots, on every master
		k := fmt.Sprintf("%s%d", prefix, i)
		if err := cl.Set(ctx, k, i, time.Minute).Err(); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
		if v, err := cl.Get(ctx, k).Int(); err != nil || v != i {
			t.Fatalf("get %s: %v %v", k, v, err)
		}
	}
	if _, err := NewRedis(RedisConfig{URL: "http://nope"}); err == nil {
		t.Fatal("a non-Redis URL was accepted")
	}
}
