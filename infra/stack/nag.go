package stack

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppressions records, with its reason, every cdk-nag AwsSolutions finding
// the stack accepts. Each is scoped to the resources it is about, never to
// the whole stack.
func (s *Stack) suppressions() {
	suppress := func(construct any, id, reason string, appliesTo ...string) {
		sup := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
		if len(appliesTo) > 0 {
			list := make([]any, len(appliesTo))
			for i, a := range appliesTo {
				list[i] = a
			}
			sup.AppliesTo = &list
		}
		cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
	}
	for _, role := range s.roles {
		suppress(role, "AwsSolutions-IAM5",
			"Lambda's VPC networking (ec2:*NetworkInterface*, ec2:DescribeSubnets) and X-Ray (xray:PutTraceSegments, "+
				"xray:PutTelemetryRecords) support no resource-level permissions: AWS requires Resource \"*\" for them. "+
				"Every other statement of the role names its resource.",
			"Resource::*")
	}
	for _, secret := range []any{s.AlpacaSecret, s.ClientKeysSecret} {
		suppress(secret, "AwsSolutions-SMG4",
			"The value is issued outside AWS (Alpaca's dashboard, or the operator issuing client keys): no rotation "+
				"Lambda can mint it. Operators rotate by putting a new value; functions re-read it on cold start.")
	}
	if s.RedisAuthSecret != nil {
		suppress(s.RedisAuthSecret, "AwsSolutions-SMG4",
			"Rotating the ElastiCache AUTH token needs a coordinated ModifyReplicationGroup (ROTATE then SET); "+
				"it is an operator runbook step, not an automatic rotation.")
	}
	for _, route := range s.publicRoutes {
		suppress(route, "AwsSolutions-APIG4",
			"Health check for load balancers and uptime probes: it reports only whether Redis is reachable, "+
				"serves no market data, and must answer without client keys.")
	}
	suppress(s.PrefetchDLQ, "AwsSolutions-SQS3",
		"This queue is itself the dead-letter queue of the prefetch schedule; a dead-letter queue needs none.")
}
