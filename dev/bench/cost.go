package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/opitios/opitios-alpaca/infra/stack"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/config"
)

// costPrices are the list prices the cost section uses.
type costPrices struct {
	AsOf                string
	LambdaArmGBSecond   float64 // Lambda, arm64, per GB-second (first tier)
	LambdaPerMillion    float64 // Lambda requests
	HTTPAPIPerMillion   float64 // API Gateway HTTP API requests (first 300 M a month)
	RESTAPIPerMillion   float64 // API Gateway REST API requests (first 333 M a month)
	RESTCacheGB         float64 // the REST stage cache size priced here
	RESTCacheHour       float64 // its hourly price
	ServerlessGBHour    float64 // ElastiCache Serverless (Redis OSS), data stored, per GB-hour
	ServerlessMinGB     float64 // the least data storage it bills
	ServerlessPerMECPU  float64 // per million ECPUs
	NodeHour            map[string]float64
	NATHour             float64
	AlpacaPlans         []alpacaPlan // by rising price
	HoursPerMonth       float64
	ECPUsPerRedisCmd    float64 // a command of at most 1 KB
	AuthorizerBilledMs  float64 // an authorizer invocation, billed (1 ms granularity)
	AuthorizerClientKey int     // client key pairs assumed, each verified once per verdict TTL
}

// alpacaPlan is a market-data subscription: a flat price and a rate limit.
type alpacaPlan struct {
	Name           string
	MonthlyUSD     float64
	CallsPerMinute float64
}

// listPrices: us-east-1, on-demand, as listed in 2025.
var listPrices = costPrices{
	AsOf:               "2025, us-east-1",
	LambdaArmGBSecond:  0.0000133334,
	LambdaPerMillion:   0.20,
	HTTPAPIPerMillion:  1.00,
	RESTAPIPerMillion:  3.50,
	RESTCacheGB:        1.6,
	RESTCacheHour:      0.038,
	ServerlessGBHour:   0.125,
	ServerlessMinGB:    1,
	ServerlessPerMECPU: 0.0034,
	NodeHour:           map[string]float64{"cache.t4g.micro": 0.016, "cache.t4g.small": 0.032, "cache.t4g.medium": 0.065},
	NATHour:            0.045,
	AlpacaPlans: []alpacaPlan{{Name: "Basic (free)", MonthlyUSD: 0, CallsPerMinute: 200},
		{Name: "Algo Trader Plus", MonthlyUSD: 99, CallsPerMinute: 10000}},
	HoursPerMonth:       730,
	ECPUsPerRedisCmd:    1,
	AuthorizerBilledMs:  1,
	AuthorizerClientKey: 10,
}

// costInputs are the measured figures and the stack's settings the cost
// section computes from.
type costInputs struct {
	// Measured: the shares of requests answered from L1, from L2 and by
	// the origin (the zipf run's X-Cache counts), each kind's handler
	// time in ms, Redis commands per L2 hit and per miss, and origin calls
	// per request.
	ShareL1, ShareL2, ShareMiss float64
	L1Ms, L2Ms, MissMs          float64
	RedisCmdsL2, RedisCmdsMiss  float64
	OriginPerRequest            float64
	// The stack's (infra/stack defaults).
	Stack       stack.Config `json:"-"`
	APIMemoryMB int          `json:"api_memory_mb"`
	RedisMode   string       `json:"redis_mode"`
}

// costLine is one item of the cost table, in USD per million requests.
type costLine struct {
	Item  string  `json:"item"`
	Ours  float64 `json:"ours_usd"`
	REST  float64 `json:"rest_cache_usd"`
	Basis string  `json:"basis"`
}

// costTable is the cost of a million requests at a sustained rate.
type costTable struct {
	RPS   float64    `json:"rps"`
	Lines []costLine `json:"lines"`
	Ours  float64    `json:"ours_total_usd"`
	REST  float64    `json:"rest_cache_total_usd"`
}

// costResult is the cost section.
type costResult struct {
	PricesAsOf string      `json:"prices_as_of"`
	Inputs     costInputs  `json:"inputs"`
	Tables     []costTable `json:"tables"`
}

// costRates are the sustained rates the hourly prices are spread over.
var costRates = []float64{10, 100, 1000}

// billedGBs is the GB-seconds Lambda bills for an invocation of ms at mb.
func billedGBs(ms float64, mb int) float64 {
	return math.Ceil(ms) / 1000 * float64(mb) / 1024
}

// perMillion spreads an hourly price over a million requests at rps.
func perMillion(hourly, rps float64) float64 {
	return hourly / (rps * 3600) * 1e6
}

// costAt computes the table at rps.
func costAt(in costInputs, p costPrices, rps float64) costTable {
	s := in.Stack
	apiGBs := in.ShareL1*billedGBs(in.L1Ms, s.API.MemoryMB) + in.ShareL2*billedGBs(in.L2Ms, s.API.MemoryMB) +
		in.ShareMiss*billedGBs(in.MissMs, s.API.MemoryMB)
	restGBs := in.ShareMiss * billedGBs(in.MissMs, s.API.MemoryMB)
	verdictTTL, _ := config.RevocationSplit(time.Duration(s.RevocationWindowSeconds) * time.Second)
	authPerHour := float64(p.AuthorizerClientKey) * (float64(time.Hour) / float64(max(verdictTTL, time.Second)))
	auth := perMillion(authPerHour*(p.LambdaPerMillion/1e6+billedGBs(p.AuthorizerBilledMs, s.Authorizer.MemoryMB)*p.LambdaArmGBSecond), rps)
	lines := []costLine{
		{"API Gateway requests", p.HTTPAPIPerMillion, p.RESTAPIPerMillion, "HTTP API vs REST API, per million"},
		{"Lambda api requests", p.LambdaPerMillion, in.ShareMiss * p.LambdaPerMillion, "ours: every request; REST: the cache's misses only"},
		{"Lambda api compute", apiGBs * 1e6 * p.LambdaArmGBSecond, restGBs * 1e6 * p.LambdaArmGBSecond,
			fmt.Sprintf("measured handler ms by kind, rounded up to 1 ms, × %d MB, arm64", s.API.MemoryMB)},
		{"Lambda authorizer", auth, auth, fmt.Sprintf("%d client keys, one verdict per %s each (the stack's result TTL)", p.AuthorizerClientKey, verdictTTL)},
	}
	lines = append(lines, elastiCacheLine(in, p, rps))
	nat := perMillion(float64(s.NATGateways)*p.NATHour, rps)
	lines = append(lines, costLine{"NAT gateway (hours)", nat, 0, fmt.Sprintf("%d × %.3f USD/h: the api runs in the VPC; REST's Lambda need not (data processed not counted)", s.NATGateways, p.NATHour)})
	lines = append(lines, costLine{"REST stage cache", 0, perMillion(p.RESTCacheHour, rps), fmt.Sprintf("%.1f GB at %.3f USD/h", p.RESTCacheGB, p.RESTCacheHour)})
	lines = append(lines, alpacaLine(in, p, rps))
	t := costTable{RPS: rps, Lines: lines}
	for _, l := range lines {
		t.Ours += l.Ours
		t.REST += l.REST
	}
	return t
}

// elastiCacheLine prices the stack's L2: serverless (GB-hours, at least
// the minimum, plus ECPUs for the Redis commands measured per request) or
// node-hours of its replication group.
func elastiCacheLine(in costInputs, p costPrices, rps float64) costLine {
	s := in.Stack
	if s.RedisMode == stack.RedisServerless {
		cmds := in.ShareL2*in.RedisCmdsL2 + in.ShareMiss*in.RedisCmdsMiss
		v := perMillion(p.ServerlessMinGB*p.ServerlessGBHour, rps) + cmds*p.ECPUsPerRedisCmd*p.ServerlessPerMECPU
		return costLine{"ElastiCache", v, 0, fmt.Sprintf("serverless: %.0f GB billed at least × %.3f USD/GB-h, + %.2f Redis commands a request (measured) × %.4f USD per million ECPUs",
			p.ServerlessMinGB, p.ServerlessGBHour, cmds, p.ServerlessPerMECPU)}
	}
	nodes := s.RedisNumNodeGroups * (1 + s.RedisReplicasPerNodeGroup)
	hour := p.NodeHour[s.RedisNodeType]
	return costLine{"ElastiCache", perMillion(float64(nodes)*hour, rps), 0, fmt.Sprintf("%d × %s at %.3f USD/h", nodes, s.RedisNodeType, hour)}
}

// alpacaLine spreads the cheapest Alpaca plan whose rate limit covers the
// origin calls at rps (measured calls per request); the REST alternative
// makes at least as many calls (no coalescing, no batching across keys).
func alpacaLine(in costInputs, p costPrices, rps float64) costLine {
	perMin := rps * 60 * in.OriginPerRequest
	for _, plan := range p.AlpacaPlans {
		if perMin <= plan.CallsPerMinute {
			v := perMillion(plan.MonthlyUSD/p.HoursPerMonth, rps)
			return costLine{"Alpaca market data", v, v, fmt.Sprintf("%s (%.0f USD/month, %.0f calls/min): %.1f calls/min needed",
				plan.Name, plan.MonthlyUSD, plan.CallsPerMinute, perMin)}
		}
	}
	last := p.AlpacaPlans[len(p.AlpacaPlans)-1]
	v := perMillion(last.MonthlyUSD/p.HoursPerMonth, rps)
	return costLine{"Alpaca market data", v, v, fmt.Sprintf("%s (%.0f USD/month), but %.0f calls/min needed exceed its %.0f/min: "+
		"the origin budget holds calls to the limit, and the excess is served stale or refused", last.Name, last.MonthlyUSD, perMin, last.CallsPerMinute)}
}

// costInputsFrom gathers the measured inputs from a run: the micro
// handler times and the zipf run of ours.
func costInputsFrom(micro map[string]microResult, load []loadResult) (costInputs, error) {
	in := costInputs{Stack: stack.Defaults()}
	in.APIMemoryMB, in.RedisMode = in.Stack.API.MemoryMB, in.Stack.RedisMode
	var zipf *loadResult
	for i := range load {
		if load[i].Scenario == scZipf && load[i].System == sysOurs {
			zipf = &load[i]
		}
	}
	l1, ok1 := micro["HandlerL1Hit"]
	l2, ok2 := micro["HandlerL2Hit"]
	miss, ok3 := micro["HandlerMiss"]
	if zipf == nil || zipf.MissLatency == nil || !ok1 || !ok2 || !ok3 {
		return in, errors.New("needs the micro section and the zipf scenario")
	}
	n1, n2, nm := float64(zipf.XCache[api.CacheHitL1]), float64(zipf.XCache[api.CacheHitL2]), float64(zipf.XCache[api.CacheMiss])
	if n1+n2+nm == 0 {
		return in, errors.New("the zipf run saw no X-Cache")
	}
	in.ShareL1, in.ShareL2, in.ShareMiss = n1/(n1+n2+nm), n2/(n1+n2+nm), nm/(n1+n2+nm)
	in.L1Ms, in.L2Ms, in.MissMs = l1.NsPerOp/1e6, l2.NsPerOp/1e6, zipf.MissLatency.P50
	in.RedisCmdsL2, in.RedisCmdsMiss = 1, miss.Metrics["redis-rtt/op"]
	in.OriginPerRequest = zipf.OriginPer1000 / 1000
	return in, nil
}

// costSection computes the section from a run's figures.
func costSection(micro map[string]microResult, load []loadResult) (*costResult, error) {
	in, err := costInputsFrom(micro, load)
	if err != nil {
		return nil, err
	}
	c := &costResult{PricesAsOf: listPrices.AsOf, Inputs: in}
	for _, rps := range costRates {
		c.Tables = append(c.Tables, costAt(in, listPrices, rps))
	}
	return c, nil
}

// markdown renders the cost section.
func (c *costResult) markdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	in := c.Inputs
	p("## Cost per million requests\n\n")
	p("USD per million requests for the same traffic on the stack as deployed (HTTP API → api Lambda with L1 + ElastiCache) ")
	p("and on the managed alternative, an API Gateway REST API with stage caching in front of the same Lambda without its caches. ")
	p("Hourly prices are spread over a sustained rate (columns). **Measured** (this run): the shares of requests answered from ")
	p("L1 %.1f %%, L2 %.1f %% and the origin %.1f %% (the zipf run's `X-Cache`, from cold); handler times %.3f ms (L1 hit, in process), ",
		in.ShareL1*100, in.ShareL2*100, in.ShareMiss*100, in.L1Ms)
	p("%.3f ms (L2 hit) and %.1f ms (miss: the zipf run's p50 at the client, origin +50 ms); %.2f Redis commands per miss ", in.L2Ms, in.MissMs, in.RedisCmdsMiss)
	p("and 1 per L2 hit; %.4f origin calls per request. **Stack** (infra/stack defaults): api %d MB, authorizer %d MB, arm64; ",
		in.OriginPerRequest, in.Stack.API.MemoryMB, in.Stack.Authorizer.MemoryMB)
	p("ElastiCache %s; %d NAT gateway(s). **Prices**: list prices as of %s (on-demand, first tiers): ", in.Stack.RedisMode, in.Stack.NATGateways, c.PricesAsOf)
	lp := listPrices
	p("Lambda arm64 %.10f USD/GB-s and %.2f USD per million requests; HTTP API %.2f and REST API %.2f USD per million; ",
		lp.LambdaArmGBSecond, lp.LambdaPerMillion, lp.HTTPAPIPerMillion, lp.RESTAPIPerMillion)
	p("REST cache %.1f GB %.3f USD/h; ElastiCache Serverless (Redis OSS) %.3f USD/GB-h (at least %.0f GB) and %.4f USD per million ECPUs, ",
		lp.RESTCacheGB, lp.RESTCacheHour, lp.ServerlessGBHour, lp.ServerlessMinGB, lp.ServerlessPerMECPU)
	p("cache.t4g.small %.3f USD/h; NAT gateway %.3f USD/h; Alpaca market data plans are flat monthly ", lp.NodeHour["cache.t4g.small"], lp.NATHour)
	p("(Basic free at 200 calls/min, Algo Trader Plus 99 USD/month at 10,000/min). ")
	p("Assumed: the REST cache's hit rate equals ours (a lower bound on its misses: it keys whole URLs, so a batch hits only when repeated whole) ")
	p("and its misses take as long as ours; data transfer, CloudWatch and the prefetch function are left out.\n\n")
	p("| Item |")
	for _, t := range c.Tables {
		p(" ours, %.0f rps | REST cache, %.0f rps |", t.RPS, t.RPS)
	}
	p(" Basis |\n|---|")
	for range c.Tables {
		p("---|---|")
	}
	p("---|\n")
	for i, l := range c.Tables[0].Lines {
		p("| %s |", l.Item)
		for _, t := range c.Tables {
			p(" %s | %s |", usd(t.Lines[i].Ours), usd(t.Lines[i].REST))
		}
		basis := l.Basis
		if l.Item == "Alpaca market data" {
			basis = "the cheapest plan whose rate limit covers the measured calls at that rate"
		}
		p(" %s |\n", basis)
	}
	p("| **Total** |")
	for _, t := range c.Tables {
		p(" **%s** | **%s** |", usd(t.Ours), usd(t.REST))
	}
	p(" |\n\n")
	for _, t := range c.Tables {
		for _, l := range t.Lines {
			if l.Item == "Alpaca market data" {
				p("- Alpaca at %.0f rps: %s.\n", t.RPS, l.Basis)
			}
		}
	}
	p("\n")
	return b.Bytes()
}

// usd prints a cost in USD.
func usd(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 0.01:
		return fmt.Sprintf("%.4f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
