package cache

import (
	"slices"
	"sync"
)

// pending is one key of a read in progress, from the L1 lookup to its
// answer. Exactly one of res and err is set once resolved is true.
type pending struct {
	id       string
	key      string // the Redis key
	l1       l1Key
	call     *call // the in-process flight it waits on, once claimed
	owner    bool  // this read started call and must finish it
	res      Result
	err      error
	resolved bool
}

// makePending returns the unresolved record of id.
func makePending(dt DataType, id string) pending {
	return pending{id: id, key: Key(dt, id), l1: newL1Key(dt, id)}
}

func newPending(dt DataType, id string) *pending {
	p := makePending(dt, id)
	return &p
}

func (p *pending) resolve(r Result, err error) {
	p.res, p.err, p.resolved = r, err, true
}

// openOf returns the records of ps not yet resolved: ps itself when none
// is.
func openOf(ps []*pending) []*pending {
	if !slices.ContainsFunc(ps, func(p *pending) bool { return p.resolved }) {
		return ps
	}
	var open []*pending
	for _, p := range ps {
		if !p.resolved {
			open = append(open, p)
		}
	}
	return open
}

// keysOf returns the Redis keys of ps.
func keysOf(ps []*pending) []string {
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.key
	}
	return keys
}

// call is one in-flight fetch of one key. done is closed once res and err are
// set; they are read only after.
type call struct {
	done chan struct{}
	res  Result
	err  error
}

// group tracks in-flight fetches by key, so concurrent misses of one key in
// one process share one fetch. Unlike x/sync/singleflight, one caller may own
// the fetches of many keys at once (a batch) while waiting on others'.
type group struct {
	mu sync.Mutex
	m  map[string]*call
}

// claim sets each record's in-flight call, creating the ones that do not
// exist yet, and returns the records whose call it created: their caller
// must run them and finish each with group.finish. ps's keys must be
// distinct.
func (g *group) claim(ps []*pending) (mine []*pending) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = make(map[string]*call)
	}
	for _, p := range ps {
		if c, ok := g.m[p.key]; ok {
			p.call, p.owner = c, false
			continue
		}
		p.call, p.owner = &call{done: make(chan struct{})}, true
		g.m[p.key] = p.call
		mine = append(mine, p)
	}
	return mine
}

// finish publishes the answer of an owned record's call. It forgets the
// call first, so a caller arriving after the answer is published starts a
// new fetch rather than waiting on a finished call it would not see.
func (g *group) finish(p *pending, res Result, err error) {
	g.mu.Lock()
	delete(g.m, p.key)
	g.mu.Unlock()
	p.call.res, p.call.err = res, err
	close(p.call.done)
}
