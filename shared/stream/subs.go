package stream

import (
	"slices"
	"sync"
)

// Wildcard subscribes a channel to every symbol.
const Wildcard = "*"

// set is a set of symbols.
type set map[string]struct{}

func setOf(syms []string) set {
	s := make(set, len(syms))
	for _, x := range syms {
		s[x] = struct{}{}
	}
	return s
}

// Subs is a subscription: channel name ("trades", "quotes", "bars", ...)
// to symbols; Wildcard matches every symbol.
type Subs map[string]set

// List returns the symbols of channel c, sorted (empty, not nil, when none).
func (s Subs) List(c string) []string {
	out := make([]string, 0, len(s[c]))
	for x := range s[c] {
		out = append(out, x)
	}
	slices.Sort(out)
	return out
}

// Has reports whether channel c carries symbol sym.
func (s Subs) Has(c, sym string) bool {
	set := s[c]
	if len(set) == 0 {
		return false
	}
	if _, ok := set[Wildcard]; ok {
		return true
	}
	_, ok := set[sym]
	return ok
}

// clone returns a deep copy.
func (s Subs) clone() Subs {
	out := make(Subs, len(s))
	for c, set := range s {
		if len(set) == 0 {
			continue
		}
		cp := make(map[string]struct{}, len(set))
		for x := range set {
			cp[x] = struct{}{}
		}
		out[c] = cp
	}
	return out
}

// minus returns what s has and o does not.
func (s Subs) minus(o Subs) Subs {
	out := Subs{}
	for c, set := range s {
		for x := range set {
			if _, ok := o[c][x]; !ok {
				if out[c] == nil {
					out[c] = set0()
				}
				out[c][x] = struct{}{}
			}
		}
	}
	return out
}

func set0() set { return make(set) }

// add adds o's symbols to s.
func (s Subs) add(o Subs) {
	for c, set := range o {
		for x := range set {
			if s[c] == nil {
				s[c] = set0()
			}
			s[c][x] = struct{}{}
		}
	}
}

// remove removes o's symbols from s; removing Wildcard removes only the
// wildcard, as Alpaca does.
func (s Subs) remove(o Subs) {
	for c, set := range o {
		for x := range set {
			delete(s[c], x)
		}
		if len(s[c]) == 0 {
			delete(s, c)
		}
	}
}

// empty reports whether s subscribes nothing.
func (s Subs) empty() bool {
	for _, set := range s {
		if len(set) > 0 {
			return false
		}
	}
	return true
}

// limited are the channels whose symbols count against the plan's symbol
// limit.
var limited = []string{"trades", "quotes"}

// tqSymbols returns the symbols of s in the limited channels.
func (s Subs) tqSymbols() set {
	out := set0()
	for _, c := range limited {
		for x := range s[c] {
			out[x] = struct{}{}
		}
	}
	return out
}

// registry holds the subscriptions of a feed's clients and derives the
// upstream subscription from them. It is safe for concurrent use.
type registry struct {
	feed  feedInfo
	limit int      // symbol limit of trades and quotes; <= 0 means none
	hot   []string // configured hot symbols, in priority order

	mu      sync.Mutex
	clients map[*client]Subs
	order   []string       // client trade/quote symbols, first requested first
	refs    map[string]int // client trade/quote symbol -> clients holding it
	remote  Subs           // the other hubs' clients' subscription (relay)
	changed chan struct{}  // signalled (non-blocking) on every change
}

func newRegistry(f feedInfo, limit int, hot []string) *registry {
	return &registry{feed: f, limit: limit, hot: hot, clients: map[*client]Subs{},
		refs: map[string]int{}, changed: make(chan struct{}, 1)}
}

// apply applies a client's subscribe or unsubscribe and returns the client's
// whole subscription after it, or an error code (405, 410) with nothing
// changed. A subscribe is refused with 405 when it would take the clients'
// trade and quote symbols past the limit, or asks the wildcard for them
// under a limit.
func (r *registry) apply(c *client, subscribe bool, req Subs) (Subs, int) {
	for ch := range req {
		if !r.feed.allows(ch) {
			return nil, CodeInvalidForFeed
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.clients[c]
	if cur == nil {
		cur = Subs{}
	}
	next := cur.clone()
	if subscribe {
		next.add(req)
	} else {
		next.remove(req)
	}
	r.feed.follow(next)
	if code := r.admit(cur, next); code != 0 {
		return nil, code
	}
	r.setLocked(c, cur, next)
	return next.clone(), 0
}

// admit checks next, replacing cur, against the symbol limit.
func (r *registry) admit(cur, next Subs) int {
	if r.limit <= 0 {
		return 0
	}
	remote := r.remoteOnly()
	added := 0
	for x := range next.tqSymbols() {
		if x == Wildcard {
			return CodeSymbolLimit
		}
		_, had := cur.tqSymbols()[x]
		_, elsewhere := remote[x]
		if !had && !elsewhere && r.refs[x] == 0 {
			added++
		}
	}
	if added > 0 && len(r.refs)+len(remote)+added > r.limit {
		return CodeSymbolLimit
	}
	return 0
}

// setLocked replaces c's subscription cur by next.
func (r *registry) setLocked(c *client, cur, next Subs) {
	old, now := cur.tqSymbols(), next.tqSymbols()
	for x := range now {
		if _, ok := old[x]; !ok {
			if r.refs[x] == 0 {
				r.order = append(r.order, x)
			}
			r.refs[x]++
		}
	}
	for x := range old {
		if _, ok := now[x]; !ok {
			if r.refs[x]--; r.refs[x] <= 0 {
				delete(r.refs, x)
				r.order = slices.DeleteFunc(r.order, func(s string) bool { return s == x })
			}
		}
	}
	if next.empty() {
		delete(r.clients, c)
	} else {
		r.clients[c] = next
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// drop removes a client that left.
func (r *registry) drop(c *client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.clients[c]; ok {
		r.setLocked(c, cur, Subs{})
	}
}

// remoteOnly returns the other hubs' trade and quote symbols that no
// local client holds.
func (r *registry) remoteOnly() set {
	out := set0()
	for x := range r.remote.tqSymbols() {
		if r.refs[x] == 0 {
			out[x] = struct{}{}
		}
	}
	return out
}

// setRemote records the other hubs' subscription and signals a change
// when it differs.
func (r *registry) setRemote(s Subs) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(s.minus(r.remote))+len(r.remote.minus(s)) == 0 {
		return
	}
	r.remote = s
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// local returns the union of this hub's clients' subscriptions.
func (r *registry) local() Subs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.localLocked()
}

// localLocked is local; r.mu is held.
func (r *registry) localLocked() Subs {
	out := Subs{}
	for _, s := range r.clients {
		out.add(s)
	}
	return out
}

// want returns the upstream subscription: the union of the clients' (this
// hub's, then the other hubs'), with the hot symbols filling the room left
// under the limit for trades and quotes, in priority order: this hub's
// clients' symbols first requested first, the other hubs' (sorted), then
// the hot list. Channels without a limit take every symbol asked.
func (r *registry) want() Subs {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.localLocked()
	room := -1 // unlimited
	if r.limit > 0 {
		room = max(r.limit-len(r.refs), 0)
	}
	for c, syms := range r.remote {
		if !slices.Contains(limited, c) {
			out.Add(c, sortedSet(syms)...)
		}
	}
	for _, x := range sortedSet(r.remoteOnly()) {
		if room == 0 {
			break
		}
		room--
		for _, c := range limited {
			if _, ok := r.remote[c][x]; ok {
				out.Add(c, x)
			}
		}
	}
	r.addHot(out, room)
	for _, ch := range r.feed.followers {
		delete(out, ch)
	}
	return out
}

// addHot adds the hot symbols to out, within room new trade and quote
// symbols (-1: no limit); a hot symbol already there still gets the
// channels without a limit.
func (r *registry) addHot(out Subs, room int) {
	have := out.tqSymbols()
	for _, x := range r.hot {
		_, there := have[x]
		for _, ch := range r.feed.hotChannels {
			if slices.Contains(limited, ch) && !there && room == 0 {
				continue
			}
			out.Add(ch, x)
		}
		if !there && room > 0 {
			room--
		}
	}
}

// count is how many symbols s subscribes in the limited channels.
func count(s Subs) int { return len(s.tqSymbols()) }

// Add adds syms to channel c.
func (s Subs) Add(c string, syms ...string) {
	for _, x := range syms {
		if s[c] == nil {
			s[c] = set0()
		}
		s[c][x] = struct{}{}
	}
}

// Remove removes syms from channel c.
func (s Subs) Remove(c string, syms ...string) {
	for _, x := range syms {
		delete(s[c], x)
	}
	if len(s[c]) == 0 {
		delete(s, c)
	}
}
