package stack

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// Dimension values the alarms select on, taken from the code that emits
// them: an alarm on values nobody emits would sit in INSUFFICIENT_DATA
// forever.
var (
	// CacheLayers are the Layer values of the in-process and Redis caches.
	CacheLayers = []string{metrics.L1.String(), metrics.L2.String()}
	// SuccessStatus is the Status value of ApiLatency for a 200 response
	// (the status code in decimal).
	SuccessStatus = strconv.Itoa(http.StatusOK)
)

// Alarm thresholds: the service levels of a cached response and of the hit
// rate, and the failed origin calls a minute that raise the origin alarm.
const (
	CachedLatencyP95MS   = 50 // cached response p95 < 50 ms
	HitRateMinPercent    = 80 // hit rate in market hours > 80 %
	hitRateMinLookups    = 20 // per minute; below this a hit rate is noise
	OriginFailuresPerMin = 5
)

// minute is the period of every alarm and graph. (A function, not a
// variable: a package-level jsii call would start the jsii runtime at init.)
func minute() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(1)) }

// custom is one metric of the service's own namespace.
func custom(name, stat string, dims map[string]*string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(metrics.Namespace),
		MetricName:    jsii.String(name),
		Statistic:     jsii.String(stat),
		DimensionsMap: &dims,
		Period:        minute(),
	})
}

// search is a dashboard SEARCH expression over every series of one metric
// published with exactly the dimensions dims (a SEARCH schema matches that
// set only, so rollups are not counted twice), optionally narrowed by extra
// search terms.
func search(metric string, dims []string, terms, stat string) string {
	schema := append([]string{metrics.Namespace}, dims...)
	q := fmt.Sprintf(`{%s} MetricName="%s"`, strings.Join(schema, ","), metric)
	if terms != "" {
		q += " " + terms
	}
	return fmt.Sprintf("SEARCH('%s', '%s', 60)", q, stat)
}

func expr(expression, label string, using map[string]awscloudwatch.IMetric) awscloudwatch.MathExpression {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(expression),
		Label:        jsii.String(label),
		UsingMetrics: &using,
		Period:       minute(),
	})
}

// insights is a Metrics Insights query: it sums a metric across dimension
// values no one has to list, which alarms (unlike SEARCH) accept.
func insights(query, label string) awscloudwatch.MathExpression {
	return expr(query, label, map[string]awscloudwatch.IMetric{})
}

// dimensionSet returns the dimension set of metric, among those the EMF
// documents publish it with (metrics.DimensionSets), that has exactly the
// given dimensions besides Function. It panics if there is none: the stack
// would otherwise read a series nobody writes.
func dimensionSet(metric string, dims ...string) []string {
	want := append([]string{metrics.DimFunction}, dims...)
	slices.Sort(want)
	for _, set := range metrics.DimensionSets(metric) {
		got := slices.Clone(set)
		slices.Sort(got)
		if slices.Equal(got, want) {
			return set
		}
	}
	panic(fmt.Sprintf("stack: %s is not published with dimensions %v (see metrics.DimensionSets)", metric, want))
}

// upstreamQuery sums UpstreamRequests over every function, for the Result
// values given.
func upstreamQuery(results ...metrics.UpstreamResult) string {
	quoted := make([]string, len(results))
	for i, r := range results {
		quoted[i] = fmt.Sprintf("%s = '%s'", metrics.DimResult, r)
	}
	return fmt.Sprintf(`SELECT SUM(%s) FROM SCHEMA("%s", %s) WHERE %s`, metrics.UpstreamRequests, metrics.Namespace,
		strings.Join(dimensionSet(metrics.UpstreamRequests, metrics.DimResult), ", "), strings.Join(quoted, " OR "))
}

// observability declares the alarm topic, the SLO alarms and the dashboard.
func (s *Stack) observability() {
	s.AlarmTopic = awssns.NewTopic(s.Stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("opitios-alpaca alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	if s.Config.AlarmEmail != "" {
		s.AlarmTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(s.Config.AlarmEmail), nil))
	}
	s.alarms()
	s.dashboard()
}

// alarm declares one alarm that notifies the topic on ALARM and on OK.
// Missing data is never breaching: outside market hours there is no
// traffic, and no traffic is not an incident.
func (s *Stack) alarm(id, desc string, m awscloudwatch.IMetric, op awscloudwatch.ComparisonOperator,
	threshold float64, datapoints, periods int) awscloudwatch.Alarm {
	a := awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(desc),
		Metric:             m,
		ComparisonOperator: op,
		Threshold:          jsii.Number(threshold),
		DatapointsToAlarm:  jsii.Number(float64(datapoints)),
		EvaluationPeriods:  jsii.Number(float64(periods)),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	action := awscloudwatchactions.NewSnsAction(s.AlarmTopic)
	a.AddAlarmAction(action)
	a.AddOkAction(action)
	s.Alarms = append(s.Alarms, a)
	return a
}

// cachedRoutes are the data routes: every authorized route but the market
// status, which never touches the cache, and the pass-through routes.
func cachedRoutes() []Route {
	var out []Route
	for _, r := range Routes {
		if r.Authorized && r.Path != catalog.PathMarketStatus && !strings.HasSuffix(r.Path, "{proxy+}") {
			out = append(out, r)
		}
	}
	return out
}

// maxAlarmMetrics is CloudWatch's limit on the metrics one alarm reads.
const maxAlarmMetrics = 10

// latencyAlarm alarms when the worst p95 of successful answers among routes
// is above CachedLatencyP95MS in 3 of 5 minutes.
func (s *Stack) latencyAlarm(id string, apiName *string, routes []Route) {
	using := map[string]awscloudwatch.IMetric{}
	var ids []string
	for i, r := range routes {
		mid := fmt.Sprintf("route%d", i)
		ids = append(ids, mid)
		using[mid] = custom(metrics.ApiLatency, "p95", map[string]*string{
			metrics.DimFunction: apiName, metrics.DimRoute: jsii.String(r.Path), metrics.DimStatus: jsii.String(SuccessStatus),
		})
	}
	s.alarm(id,
		fmt.Sprintf("p95 latency of successful data responses above %d ms (worst of %d routes) in 3 of 5 minutes", CachedLatencyP95MS, len(routes)),
		expr(fmt.Sprintf("MAX([%s])", strings.Join(ids, ",")), "worst route p95 (ms)", using),
		awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, CachedLatencyP95MS, 3, 5)
}

func (s *Stack) alarms() {
	apiName := s.API.FunctionName()
	lt := awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD

	// (dimensionSet fails the synth if the functions stop publishing the
	// dimension set an alarm reads.)
	dimensionSet(metrics.ApiLatency, metrics.DimRoute, metrics.DimStatus)
	dimensionSet(metrics.CacheRequests, metrics.DimLayer, metrics.DimResult)

	// Cached p95: the worst route's p95 of successful answers. With the
	// hit-rate SLO met (≥ 80 %, ≥ 95 % for the hot set) most answers are
	// cached, so this p95 tracks the cached latency; a breach means either
	// the cache got slow or the hit rate fell, and the hit-rate alarm tells
	// which.
	// An alarm's expression reads at most maxAlarmMetrics metrics, so the
	// routes are watched in groups, one alarm each.
	routes := cachedRoutes()
	for part := 0; part*maxAlarmMetrics < len(routes); part++ {
		group := routes[part*maxAlarmMetrics : min((part+1)*maxAlarmMetrics, len(routes))]
		s.latencyAlarm(fmt.Sprintf("CachedLatencyP95Part%d", part+1), apiName, group)
	}

	// Hit rate: answers from L1 or L2 over all lookups, every data type
	// together (the rollup without DataType). Every lookup consults L1 once,
	// so L1's hits and misses count the lookups. The alarm only speaks in
	// market hours: with fewer than hitRateMinLookups lookups a minute
	// (nights, weekends) the expression reads 100, and with no data at all it
	// is not breaching.
	m := func(layer, result string) awscloudwatch.Metric {
		return custom(metrics.CacheRequests, "Sum", map[string]*string{
			metrics.DimFunction: apiName, metrics.DimLayer: jsii.String(layer), metrics.DimResult: jsii.String(result),
		})
	}
	lookups := "(FILL(l1hit,0)+FILL(l1miss,0))"
	s.alarm("HitRate",
		fmt.Sprintf("cache hit rate (L1 or L2) below %d %% in 5 of 10 market-hours minutes", HitRateMinPercent),
		expr(fmt.Sprintf("IF(%s >= %d, 100*(FILL(l1hit,0)+FILL(l2hit,0))/%s, 100)", lookups, hitRateMinLookups, lookups),
			"hit rate (%)", map[string]awscloudwatch.IMetric{
				"l1hit":  m(CacheLayers[0], metrics.ResultHit.String()),
				"l1miss": m(CacheLayers[0], metrics.ResultMiss.String()),
				"l2hit":  m(CacheLayers[1], metrics.ResultHit.String()),
			}),
		lt, HitRateMinPercent, 5, 10)

	s.originAlarms()
	s.functionAlarms()
}

// originAlarms watch the origin's answers, over every function.
func (s *Stack) originAlarms() {
	ge := awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	s.alarm("OriginFailures",
		fmt.Sprintf("%d or more failed Alpaca calls (5xx, timeout, network) a minute in 3 of 5 minutes", OriginFailuresPerMin),
		insights(upstreamQuery(metrics.UpstreamServerError, metrics.UpstreamTimeout, metrics.UpstreamNetwork), "origin failures"),
		ge, OriginFailuresPerMin, 3, 5)
	s.alarm("OriginRateLimited",
		"Alpaca answered 429 in 3 of 5 minutes: the shared budget is above the account's real limit, or another client uses the same keys",
		insights(upstreamQuery(metrics.UpstreamRateLimited), "origin 429s"),
		ge, 1, 3, 5)
	// One refusal of the service's own credentials is already an outage:
	// every origin call fails the same way until the Alpaca secret is fixed.
	s.alarm("OriginCredentialsRefused",
		"Alpaca refused the service's own credentials (401, or a 403 that is not a plan refusal): every origin call fails until the Alpaca secret is fixed",
		insights(upstreamQuery(metrics.UpstreamCredentialsRefused), "origin credential refusals"),
		ge, 1, 1, 1)
}

// functionAlarms watch each function's errors and throttles, and the
// prefetch dead letters.
func (s *Stack) functionAlarms() {
	ge := awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	fiveMinutes := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	for _, f := range []struct {
		id string
		fn awslambda.Function
	}{{"Api", s.API}, {"Prefetch", s.Prefetch}, {"Authorizer", s.Authorizer}} {
		s.alarm(f.id+"Errors", "5 or more "+strings.ToLower(f.id)+" function errors (crash, timeout) in 5 minutes",
			f.fn.MetricErrors(fiveMinutes), ge, 5, 1, 1)
		s.alarm(f.id+"Throttles", "5 or more "+strings.ToLower(f.id)+" invocations throttled (reserved concurrency reached) in 5 minutes",
			f.fn.MetricThrottles(fiveMinutes), ge, 5, 1, 1)
	}
	s.alarm("PrefetchDeadLetters", "5 or more prefetch events dead-lettered in 15 minutes",
		s.PrefetchDLQ.MetricNumberOfMessagesSent(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(15)), Statistic: jsii.String("Sum"),
		}), ge, 5, 1, 1)
}

func graph(title string, left []awscloudwatch.IMetric, annotations ...float64) awscloudwatch.GraphWidget {
	var anns []*awscloudwatch.HorizontalAnnotation
	for _, v := range annotations {
		anns = append(anns, &awscloudwatch.HorizontalAnnotation{Value: jsii.Number(v)})
	}
	props := &awscloudwatch.GraphWidgetProps{
		Title:  jsii.String(title),
		Left:   &left,
		Width:  jsii.Number(8),
		Height: jsii.Number(6),
	}
	if len(anns) > 0 {
		props.LeftAnnotations = &anns
	}
	return awscloudwatch.NewGraphWidget(props)
}

func searchExpr(label, expression string) awscloudwatch.IMetric {
	return expr(expression, label, map[string]awscloudwatch.IMetric{})
}

func (s *Stack) dashboard() {
	fns := []awslambda.Function{s.API, s.Prefetch, s.Authorizer}
	names := []string{"api", "prefetch", "authorizer"}
	term := func(name, value string) string { return fmt.Sprintf(`%s="%s"`, name, value) }

	latencyDims := dimensionSet(metrics.ApiLatency, metrics.DimRoute, metrics.DimStatus)
	var latency []awscloudwatch.IWidget
	for _, p := range []string{"p50", "p95", "p99"} {
		latency = append(latency, graph("API latency "+p+" by route and status (ms)",
			[]awscloudwatch.IMetric{searchExpr(p, search(metrics.ApiLatency, latencyDims, "", p))}, CachedLatencyP95MS))
	}

	// Hit rate per layer: the layer's hits over its lookups (every result
	// but write), over all data types and functions (the Layer, Result
	// rollup, so nothing is counted twice).
	byLayer := dimensionSet(metrics.CacheRequests, metrics.DimLayer, metrics.DimResult)
	var hitRates []awscloudwatch.IMetric
	for _, layer := range CacheLayers {
		hits := search(metrics.CacheRequests, byLayer, term(metrics.DimLayer, layer)+" "+term(metrics.DimResult, metrics.ResultHit.String()), "Sum")
		lookups := search(metrics.CacheRequests, byLayer, term(metrics.DimLayer, layer)+" NOT "+term(metrics.DimResult, metrics.ResultWrite.String()), "Sum")
		hitRates = append(hitRates, expr(fmt.Sprintf("100*SUM(%s)/SUM(%s)", hits, lookups), layer+" hit rate (%)",
			map[string]awscloudwatch.IMetric{}))
	}
	cacheResults := searchExpr("cache requests", search(metrics.CacheRequests,
		dimensionSet(metrics.CacheRequests, metrics.DimLayer, metrics.DimResult, metrics.DimDataType), "", "Sum"))

	upstream := dimensionSet(metrics.UpstreamRequests, metrics.DimResult)
	origin := []awscloudwatch.IMetric{
		searchExpr("origin calls", search(metrics.UpstreamRequests, upstream, "", "Sum")),
		expr(fmt.Sprintf("SUM(%s)", search(metrics.UpstreamRequests, upstream, term(metrics.DimResult, metrics.UpstreamRateLimited.String()), "Sum")),
			"429s, all functions", map[string]awscloudwatch.IMetric{}),
	}
	budget := []awscloudwatch.IMetric{
		searchExpr("budget left", search(metrics.OriginBudgetLeft, dimensionSet(metrics.OriginBudgetLeft), "", "Minimum")),
		searchExpr("Alpaca X-RateLimit-Remaining", search(metrics.OriginRateLimitRemaining, dimensionSet(metrics.OriginRateLimitRemaining), "", "Minimum")),
	}
	dataAge := searchExpr("data age", search(metrics.DataAge, dimensionSet(metrics.DataAge, metrics.DimDataType), "", "Maximum"))
	prefetch := []awscloudwatch.IMetric{
		searchExpr("prefetched symbols", search(metrics.PrefetchedSymbols, dimensionSet(metrics.PrefetchedSymbols, metrics.DimResult), "", "Sum")),
		searchExpr("runs skipped", search(metrics.PrefetchSkipped, dimensionSet(metrics.PrefetchSkipped), "", "Sum")),
	}

	var durations []awscloudwatch.IWidget
	var throttles, concurrency []awscloudwatch.IMetric
	for i, fn := range fns {
		var stats []awscloudwatch.IMetric
		for _, p := range []string{"p50", "p95", "p99"} {
			stats = append(stats, fn.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String(p), Label: jsii.String(p), Period: minute()}))
		}
		durations = append(durations, graph(names[i]+" duration (ms)", stats))
		throttles = append(throttles, fn.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Label: jsii.String(names[i]), Period: minute()}))
		concurrency = append(concurrency, fn.Metric(jsii.String("ConcurrentExecutions"), &awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Label: jsii.String(names[i]), Period: minute(),
		}))
	}

	apiGateway := []awscloudwatch.IMetric{
		s.HTTPAPI.MetricCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Label: jsii.String("requests"), Period: minute()}),
		s.HTTPAPI.MetricClientError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Label: jsii.String("4xx"), Period: minute()}),
		s.HTTPAPI.MetricServerError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Label: jsii.String("5xx"), Period: minute()}),
	}

	alarms := make([]interfacesawscloudwatch.IAlarmRef, len(s.Alarms))
	for i, a := range s.Alarms {
		alarms[i] = a
	}

	rows := [][]awscloudwatch.IWidget{
		latency,
		{
			graph("Cache hit rate by layer (%)", hitRates, HitRateMinPercent),
			graph("Cache requests by layer, result, data type", []awscloudwatch.IMetric{cacheResults}),
			graph("API Gateway requests and errors", apiGateway),
		},
		{
			graph("Origin (Alpaca) calls by result, and 429s", origin),
			graph("Origin budget left (calls this minute)", budget),
			graph("Data age at answer (ms, max)", []awscloudwatch.IMetric{dataAge}, 30000, 60000),
		},
		durations,
		{
			graph("Lambda throttles", throttles),
			graph("Lambda concurrent executions", concurrency),
			graph("Prefetch: symbols by result, runs skipped", prefetch),
		},
	}
	widgets := make([]*[]awscloudwatch.IWidget, 0, len(rows)+1)
	for i := range rows {
		widgets = append(widgets, &rows[i])
	}
	status := []awscloudwatch.IWidget{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title:  jsii.String("SLO alarms"),
		Alarms: &alarms,
		Width:  jsii.Number(24),
	})}
	widgets = append(widgets, &status)
	s.Dashboard = awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		Widgets:         &widgets,
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
}
