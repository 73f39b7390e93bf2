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
	if s.HubService != nil {
		s.hubSuppressions(suppress)
	}
	suppress(s.PrefetchDLQ, "AwsSolutions-SQS3",
		"This queue is itself the dead-letter queue of the prefetch schedule; a dead-letter queue needs none.")
}

// hubSuppressions are the stream hub's accepted findings.
func (s *Stack) hubSuppressions(suppress func(construct any, id, reason string, appliesTo ...string)) {
	suppress(s.hubTaskDef, "AwsSolutions-ECS2",
		"The environment holds only non-secret settings (feeds, limits, the Redis endpoint) and the ARNs of the "+
			"secrets, which the hub reads from Secrets Manager at start with its task role, as the functions do.")
	suppress(s.hubTaskDef.ExecutionRole(), "AwsSolutions-IAM5",
		"ecr:GetAuthorizationToken, which ECS needs to pull the image, supports no resource-level permission: "+
			"AWS requires Resource \"*\" for it. The pull itself is limited to the asset repository.",
		"Resource::*")
	suppress(s.hubLBSG, "AwsSolutions-EC23",
		"The hub is a public WebSocket endpoint, as Alpaca's stream is: clients connect from anywhere and "+
			"authenticate in-band with their issued keys (402 otherwise); only the listener port is open.")
	suppress(s.HubLoadBalancer, "AwsSolutions-ELB2",
		"WebSocket connections last hours; an access log line per connection says little, and the hub logs "+
			"authentication failures and slow clients itself. An S3 log bucket would be the only other resource.")
}
