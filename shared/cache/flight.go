package cache

import "sync"

// call is one in-flight fetch of one key. done is closed once res and err are
// set; they are read only after.
type call struct {
	done chan struct{}
	res  Result
	err  error
}

func (c *call) finish(res Result, err error) {
	c.res, c.err = res, err
	close(c.done)
}

// group tracks in-flight fetches by key, so concurrent misses of one key in
// one process share one fetch. Unlike x/sync/singleflight, one caller may own
// the fetches of many keys at once (a batch) while waiting on others'.
type group struct {
	mu sync.Mutex
	m  map[string]*call
}

// claim returns, for each key, its in-flight call and whether the caller
// created it (and so must run it and then call release). keys must be
// distinct.
func (g *group) claim(keys []string) (calls []*call, owned []bool) {
	calls = make([]*call, len(keys))
	owned = make([]bool, len(keys))
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = make(map[string]*call)
	}
	for i, k := range keys {
		if c, ok := g.m[k]; ok {
			calls[i] = c
			continue
		}
		c := &call{done: make(chan struct{})}
		g.m[k] = c
		calls[i], owned[i] = c, true
	}
	return calls, owned
}

// release forgets key's call, so the next miss starts a new fetch. It is
// called before the call is finished, so a caller arriving after the result
// is published never waits on a finished call it would not see.
func (g *group) release(key string) {
	g.mu.Lock()
	delete(g.m, key)
	g.mu.Unlock()
}
