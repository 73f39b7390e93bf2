// Package stream is the stream hub: it holds the one real-time WebSocket per
// feed that Alpaca allows an account, writes every quote, trade and bar it
// carries into the shared cache (L2) as the REST API's entries, and serves
// any number of clients with Alpaca's own stream protocol.
//
// Contracts:
//   - Upstream: across every hub sharing one Redis, at most one holds a
//     feed's upstream connection at a time, by a lease (lease.go). A hub
//     that cannot renew its lease closes its connection before the lease
//     could lapse, so two upstream connections never overlap for long.
//   - Subscriptions: the upstream subscription is the union of the
//     clients' subscriptions and the configured hot symbols. Trades and
//     quotes are capped at the plan's symbol limit: a client's subscribe
//     that would take the union of clients' trade and quote symbols past it
//     is refused with Alpaca's 405 "symbol limit exceeded" and changes
//     nothing; hot symbols only fill the room clients leave.
//   - L2: each quote, trade and bar is stored under the entry the REST
//     latest route reads (catalog.EntryID), with the REST object as data,
//     coalesced per entry over Options.FlushInterval. While the upstream is
//     connected and has been heard from within Options.SilenceTimeout, the
//     last value of each subscribed entry is stored again every
//     Options.RefreshInterval with a fresh FetchedAt: nothing newer exists,
//     or the stream would have carried it. When the upstream is down,
//     nothing is refreshed and the entries age out under the cache's TTLs.
//   - Clients: each gets Alpaca's greeting, authentication (10 s), subscribe
//     and unsubscribe answers and error codes, in JSON or, when the
//     handshake carries Content-Type: application/msgpack, in MessagePack.
//     Each has a bounded send queue; a client whose queue is full is sent
//     407 "slow client" and disconnected, and nobody else waits for it.
//
// Time: every instant (FetchedAt, lease bookkeeping) comes from the
// injected market.Clock; waits (timers, deadlines) are real durations.
package stream
