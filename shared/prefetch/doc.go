// Package prefetch is the scheduled job that keeps the hot symbols fresh in
// L2 before anyone asks for them, and the optimizer that tunes it
// from the hit rates the API records (a performance optimizer, made
// safe).
//
// # Schedule
//
// The job runs once a minute from 04:00 to 20:00 New York time on weekdays,
// in both daylight-saving regimes. EventBridge cron is in UTC, so the stack
// declares two rules:
//
//	cron(* 8-23 ? * MON-FRI *)   08:00–23:59 UTC, Monday to Friday
//	cron(* 0 ? * TUE-SAT *)      00:00–00:59 UTC, Tuesday to Saturday
//
// EDT (UTC−4) puts 04:00–20:00 at 08:00–24:00 UTC, the first rule; EST
// (UTC−5) puts it at 09:00–01:00 UTC, the first rule and then the second,
// whose hour falls on the next UTC day (Monday's 19:00 EST is Tuesday 00:00
// UTC). Each regime also gets one surplus hour a day (03:00–04:00 New York in
// winter, 20:00–21:00 in summer), which is harmless: a run first asks the
// market calendar and exits at once when the market is closed (one log line,
// one PrefetchSkipped metric, no Redis or origin call), as it does on
// holidays and after an early close.
//
// # A run
//
// A run (Job.Run) takes the hot set, the configured watch list ∪ the top N
// of the decaying request counts the API keeps (package hotset), plus the
// configured option underlyings, and decays those counts once (scores times
// DecayFactor, the tail dropped), so yesterday's favourites fade.
//
// It then makes passes. A pass asks L2 (Cache.Peek, one round trip) for the
// hot stock quotes and refreshes each one that is missing, has less than
// RefreshBelow of its TTL left, or would expire before the next pass (the
// next run, for the last pass) plus Slack, unless it stays fresh until the
// session ends anyway. Refreshing is one multi-symbol origin call, which the
// origin client splits into URL-sized chunks run concurrently; every HTTP
// request waits on the origin budget's share view, so prefetch leaves the
// rest of the budget to live traffic. What the origin returned is written
// through Cache.Store (the API's envelope, TTL policy and attribution);
// nothing else is ever written: a symbol the origin left out or whose chunk
// failed keeps whatever L2 had. A failing chunk loses only its own symbols.
//
// Passes repeat every half stock-quote TTL of the session (15 s in the
// regular session, whose TTL is 30 s: shorter than the schedule's minute, so
// one pass a minute could not keep an entry fresh from one run to the next),
// but only when some entry will need it: in pre-market and after hours
// (90 s TTLs) a run is normally one pass. No pass starts after RunFor less
// PassTime, and all of a run's I/O ends Margin before the invocation's
// deadline, so a run finishes well inside its timeout.
//
// # Options
//
// For each configured underlying the job refreshes the latest option quotes
// (keyed as the API keys them: cache.Key(cache.OptionQuote, OCC symbol)) of a
// set of contracts chosen once every ContractsTTL and kept in Redis: the first
// page (OptionContracts contracts, one origin call) of the underlying's chain
// filtered to expirations from today to OptionDays ahead and, when the
// underlying's quote is in L2, to strikes within OptionStrikeBand of its
// mid price: the near-term, near-the-money contracts clients mostly ask for.
// The underlying's quote only selects contracts; no price is derived from it
// or stored.
//
// # Optimizer
//
// After each run the optimizer (Decide) reads the recent minute windows of
// stock-quote hits, misses and latency (hitrate.Windows, kept by the API), the
// origin budget's remaining slots and how many symbols the budget deferred in
// this run. When the budget is tight it narrows the hot set and refreshes
// later; otherwise, when the hit rate is below 80 % (or the mean latency is
// high) it widens the hot set and refreshes earlier; when the hit rate is back
// above 95 % it steps back toward the configured values. Under either pressure
// it may lengthen the stock-quote base TTL of what prefetch writes, but only
// through cache.Policy.WithBase, which clamps it to the freshness service
// level: hit rate is never bought with staleness. Its tuning lives in Redis
// (StateKey), since Lambda keeps nothing between invocations, and every
// decision is logged with its inputs.
package prefetch
