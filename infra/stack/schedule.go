package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"
)

// Schedule is one EventBridge rule that invokes prefetch.
type Schedule struct {
	ID         string
	Expression string
}

// PrefetchSchedules run prefetch every minute from 04:00 to 20:00 New York
// time (pre-market open to after-hours close), Monday to Friday, in both
// daylight-saving regimes. EventBridge rules speak UTC only:
//
//	EDT (UTC-4): 04:00-20:00 New York = 08:00-24:00 UTC, same weekday
//	EST (UTC-5): 04:00-20:00 New York = 09:00-01:00 UTC, past midnight
//
// Their union is UTC hours 8-23 on Monday-Friday, plus the hour after UTC
// midnight on Tuesday-Saturday (the New York evening of Monday-Friday). The
// edges that fall outside the trading day in one regime (03:00-03:59 New
// York in winter, 20:00-20:59 in summer) and market holidays are cheap
// no-ops: prefetch asks the market calendar first and exits when the market
// is closed.
var PrefetchSchedules = []Schedule{
	{ID: "PrefetchWeekdays", Expression: "cron(* 8-23 ? * MON-FRI *)"},
	{ID: "PrefetchAfterMidnightUTC", Expression: "cron(* 0 ? * TUE-SAT *)"},
}

// schedule declares the rules. A delivery that fails (prefetch throttled
// by its reserved concurrency, say) is retried twice within a minute, then
// recorded in the dead-letter queue.
func (s *Stack) schedule() {
	for _, sc := range PrefetchSchedules {
		awsevents.NewRule(s.Stack, jsii.String(sc.ID), &awsevents.RuleProps{
			Description: jsii.String("invoke prefetch every minute around the New York trading day (" + sc.Expression + ", UTC)"),
			Schedule:    awsevents.Schedule_Expression(jsii.String(sc.Expression)),
			Targets: &[]awsevents.IRuleTarget{
				awseventstargets.NewLambdaFunction(s.Prefetch, &awseventstargets.LambdaFunctionProps{
					DeadLetterQueue: s.PrefetchDLQ,
					MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(60)),
					RetryAttempts:   jsii.Number(2),
				}),
			},
		})
	}
}
