package prefetch

import (
	"time"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// Config tunes a Job. Zero fields take the defaults documented here; the
// optimizer moves TopN and RefreshBelow between their minimum and maximum at
// run time (see Decide).
type Config struct {
	// Watchlist is always prefetched. Symbols are upper-cased; malformed
	// ones are dropped (and logged) by New.
	Watchlist []string
	// TopN is how many of the most requested symbols join the watch list:
	// 0 means 200, a negative value none.
	TopN int
	// MinTopN and MaxTopN bound the optimizer's TopN: defaults TopN/4 and
	// 4·TopN, at least 1000 (but 0 when TopN is none: a watch-list-only
	// configuration stays so).
	MinTopN, MaxTopN int
	// RefreshBelow refreshes an entry whose remaining freshness is below
	// this fraction of its TTL (default 0.5). MinRefreshBelow and
	// MaxRefreshBelow bound the optimizer (defaults 0.25 and 0.8).
	RefreshBelow, MinRefreshBelow, MaxRefreshBelow float64
	// BudgetShare is the fraction of the origin budget's burst prefetch may
	// hold (default 0.5). The Job does not read it: whoever builds Deps.Origin
	// gives it a Limiter made with budget.Limiter.WithShare(BudgetShare).
	BudgetShare float64
	// Underlyings are the option underlyings whose near-term contracts are
	// refreshed (see the package documentation). Upper-cased; malformed ones
	// are dropped.
	Underlyings []string
	// OptionContracts is the most contracts refreshed per underlying: the
	// size of the one chain page asked for, default 100, at most 1000.
	OptionContracts int
	// OptionDays is how many days of expirations, from today, the contracts
	// are chosen from (default 7).
	OptionDays int
	// OptionStrikeBand is the strike range around the underlying's mid price,
	// as a fraction of it (default 0.05: ±5 %).
	OptionStrikeBand float64
	// ContractsTTL is how long a chosen contract list is kept in Redis
	// before the chain is asked again (default 15 min).
	ContractsTTL time.Duration
	// DecayFactor multiplies the request counts on each run (default 0.5);
	// counts below DecayMin (default 0.1) are dropped, and at most DecayKeep
	// symbols (default 10,000) are kept.
	DecayFactor, DecayMin float64
	DecayKeep             int
	// Interval is the schedule's period (default 1 min): the last pass of a
	// run keeps entries fresh until the next run is due.
	Interval time.Duration
	// RunFor bounds a run (default 50 s): no pass starts after RunFor less
	// PassTime (default 5 s) from the run's start.
	RunFor, PassTime time.Duration
	// Margin is left before the invocation's deadline (default 3 s): all
	// of a run's I/O ends by then, and the optimizer's state write after.
	Margin time.Duration
	// Slack is added to the instant an entry must stay fresh until (the
	// next pass or run), for the schedule's jitter (default 2 s).
	Slack time.Duration
	// StateTTL is how long the optimizer's state outlives its last write
	// (default 24 h): after a long break the job starts from this Config.
	StateTTL time.Duration
}

// Defaults of Config.
const (
	DefaultTopN             = 200
	DefaultRefreshBelow     = 0.5
	DefaultBudgetShare      = 0.5
	DefaultOptionContracts  = 100
	DefaultOptionDays       = 7
	DefaultOptionStrikeBand = 0.05
	DefaultContractsTTL     = 15 * time.Minute
	DefaultDecayFactor      = 0.5
	DefaultDecayMin         = 0.1
	DefaultDecayKeep        = 10_000
	DefaultInterval         = time.Minute
	DefaultRunFor           = 50 * time.Second
	DefaultPassTime         = 5 * time.Second
	DefaultMargin           = 3 * time.Second
	DefaultSlack            = 2 * time.Second
	DefaultStateTTL         = 24 * time.Hour
)

// withDefaults returns c with zero fields set to their defaults and the
// bounds made consistent.
func (c Config) withDefaults() Config {
	c.hotDefaults()
	c.refreshDefaults()
	c.OptionContracts = min(config.PositiveOr(c.OptionContracts, DefaultOptionContracts), 1000)
	c.OptionDays = config.PositiveOr(c.OptionDays, DefaultOptionDays)
	c.OptionStrikeBand = config.PositiveOr(c.OptionStrikeBand, DefaultOptionStrikeBand)
	c.ContractsTTL = config.PositiveOr(c.ContractsTTL, DefaultContractsTTL)
	if !(c.DecayFactor > 0 && c.DecayFactor < 1) {
		c.DecayFactor = DefaultDecayFactor
	}
	c.DecayMin = config.PositiveOr(c.DecayMin, DefaultDecayMin)
	c.DecayKeep = config.PositiveOr(c.DecayKeep, DefaultDecayKeep)
	c.Interval = config.PositiveOr(c.Interval, DefaultInterval)
	c.RunFor = config.PositiveOr(c.RunFor, DefaultRunFor)
	c.PassTime = config.PositiveOr(c.PassTime, DefaultPassTime)
	c.Margin = config.PositiveOr(c.Margin, DefaultMargin)
	c.Slack = config.PositiveOr(c.Slack, DefaultSlack)
	c.StateTTL = config.PositiveOr(c.StateTTL, DefaultStateTTL)
	return c
}

// hotDefaults fills in the hot set's size and its optimizer bounds.
func (c *Config) hotDefaults() {
	switch {
	case c.TopN == 0:
		c.TopN = DefaultTopN
	case c.TopN < 0:
		c.TopN = 0
	}
	if c.MaxTopN <= 0 && c.TopN > 0 {
		c.MaxTopN = max(1000, 4*c.TopN)
	}
	c.MaxTopN = max(c.MaxTopN, c.TopN)
	c.MinTopN = min(config.PositiveOr(c.MinTopN, c.TopN/4), c.TopN)
}

// refreshDefaults fills in the refresh threshold, its optimizer bounds and
// the budget share.
func (c *Config) refreshDefaults() {
	c.RefreshBelow = min(config.PositiveOr(c.RefreshBelow, DefaultRefreshBelow), 1)
	c.MinRefreshBelow = min(config.PositiveOr(c.MinRefreshBelow, 0.25), c.RefreshBelow)
	c.MaxRefreshBelow = min(max(config.PositiveOr(c.MaxRefreshBelow, 0.8), c.RefreshBelow), 1)
	c.BudgetShare = min(config.PositiveOr(c.BudgetShare, DefaultBudgetShare), 1)
}
