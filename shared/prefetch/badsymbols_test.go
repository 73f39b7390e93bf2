package prefetch_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opitios/opitios-alpaca/shared/prefetch"
)

// TestMalformedSymbolsInRedisAreDropped feeds the symbols prefetch reads
// back from Redis (the kept option contracts and the hot set) with entries
// whose Unicode case mapping changes their length: the run completes, uses
// the well-formed entries only and writes no key for the others.
func TestMalformedSymbolsInRedisAreDropped(t *testing.T) {
	e := newEnv(t, preMarket)
	ctx := context.Background()
	bad := []string{strings.Repeat("ſ", 9) + "AB", strings.Repeat("ſ", 4) + "261127C00600000", "ſPY", "ıBM", "AAPL\xff"}
	const good = "SPY261127C00600000"
	kept := `["` + strings.Join(append(append([]string(nil), bad...), good), `","`) + `"]`
	if err := e.rdb.Set(ctx, prefetch.ContractsKeyPrefix+"SPY", kept, 0).Err(); err != nil {
		t.Fatal(err)
	}
	e.bump(5, bad...)
	j := prefetch.New(e.deps(), onePass(prefetch.Config{TopN: 10, Underlyings: []string{"SPY"}}))
	rep := e.run(j)

	if rep.Considered != 1 || rep.Options.Considered != 1 {
		t.Errorf("report %+v, want the underlying SPY and the one well-formed contract", rep)
	}
	if o := rep.Options; o.Refreshed+o.NotFound != 1 {
		t.Errorf("options %+v, want the well-formed contract %s asked for", o, good)
	}
	if len(logLines(e.logs, "malformed symbols in the hot set are ignored")) == 0 {
		t.Error("the malformed hot-set members were not reported")
	}
	keys, err := e.rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		for i := 0; i < len(k); i++ {
			if k[i] >= 0x80 {
				t.Errorf("key %q holds a non-ASCII byte", k)
				break
			}
		}
	}
}
