// Package cache is the service's two-level cache of origin market data: an
// in-process L1 in front of a shared Redis L2, in front of a fetch function
// that calls the origin.
//
// # Contract
//
// An entry is fresh while now < FetchedAt + TTL and the market session now is
// the session the entry was fetched in (see [Entry.Fresh]). No layer ever
// returns an entry that is not fresh: L1 keeps an entry for at most the L1
// lifetime and never past the entry's own expiry, and both layers re-check
// freshness against the injected clock on every read. A stale L2 entry is
// deleted and counted "stale"; a value that does not decode is deleted and
// counted "error".
//
// Only what the fetch function returned is ever stored. A fetch error is
// never cached: the callers that were waiting for it receive the error.
//
// # Coalescing
//
// Concurrent misses for one key in one process make one fetch: the first
// caller (the owner) starts it, later callers wait for its result. The fetch
// runs on a context detached from the owner's cancellation (bounded by
// Options.FetchTimeout), so an owner whose context ends returns its context's
// error at once while the others still receive the result. Each waiter stops
// waiting when its own context ends.
//
// Across processes, the owner takes a short Redis lock per key (SET NX PX)
// before fetching. A process that finds the lock taken polls L2 until the
// value appears, the lock is released or expires (then it takes the lock
// itself), or the fetch timeout ends. So a fleet makes one origin call per key
// per TTL under a stampede, while a process whose peer died waits at most one
// lock lifetime.
//
// # Round trips
//
// Counting a command or a pipeline as one round trip to Redis, and with
// Redis answering:
//
//   - A Get or GetMany whose ids are all in L1 makes none.
//   - One that reads L2 makes exactly one for all its L1 misses (GET for
//     one, MGET for several; a pipeline of GETs on a cluster), plus one DEL
//     pipeline only if some value was stale or corrupt.
//   - A miss makes at most three beside the origin call, whatever the
//     number of ids it fetches together: the L2 read; the lock step, which
//     takes the ids' locks and reads their values again (so a value stored
//     by a previous holder is seen) and, when Options.Budget is set and the
//     server is standalone, takes the fetch's slot of the origin budget in
//     the same script; and one pipeline that writes the answers and then
//     releases the locks (owner-checked: only a lock still holding this
//     fill's token is deleted). The slot reaches the fetch function in its
//     context, where the budget's Wait uses it instead of asking Redis.
//   - Beside those, a fetch that outlives a third of Options.LockTTL renews
//     its locks once per third; a read that finds a lock held elsewhere
//     polls with one lock step per wait; a lock step that finds the value
//     already there releases its lock in one more; and the budget is asked
//     apart when the slot was refused (the budget is spent) or cannot be
//     taken with the locks (no Budget, or a cluster, whose slots keep the
//     budget's key and the locks apart: four round trips there).
//
// The first use of a script on a server costs one more round trip
// (NOSCRIPT, then EVAL); later uses send its SHA only.
//
// # Redis trouble
//
// Every L2 operation has a short timeout, and a circuit breaker stops paying
// that timeout on each request while Redis is down (half-opening to find it
// back). While L2 is unavailable, reads are misses, writes are skipped and
// locks are not taken: callers still get data from L1 or the fetch function.
package cache
