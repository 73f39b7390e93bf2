// Package catalog declares the Market Data routes the service answers, each
// once: its path, freshness class, origin endpoint, the parameters that form
// its cache key and how they normalise, and how the origin's answer splits
// into per-symbol entries. The API handler serves every route through one
// generic path from these rows; the stack, the local gateway, the hot set and
// the metrics' route dimension read the same rows.
package catalog
