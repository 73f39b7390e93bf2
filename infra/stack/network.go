package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// RedisPort is the port the cache listens on, in both modes.
const RedisPort = 6379

// network declares the VPC and the security groups.
//
// Two AZs, three subnet groups:
//   - public: only the NAT gateway(s) live here; nothing else gets a public IP.
//   - private (private-with-egress): the functions. They must reach Alpaca,
//     Secrets Manager and X-Ray over HTTPS, so their default route goes to
//     the NAT gateway; nothing on the internet can open a connection to them.
//   - cache (private-isolated): the ElastiCache endpoints, with no route out
//     of the VPC at all, since Redis never initiates connections.
//
// One NAT gateway by default (≈ $32/month each): an AZ outage then cuts the
// other AZ's functions off from Alpaca, but they still answer from L1 and L2.
// Set natGateways=2 to remove that single point of failure.
func (s *Stack) network() {
	flowLogs := awslogs.NewLogGroup(s.Stack, jsii.String("VpcFlowLogs"), &awslogs.LogGroupProps{
		Retention:     retentionDays[s.Config.LogRetentionDays],
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	s.Vpc = awsec2.NewVpc(s.Stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(float64(s.Config.NATGateways)),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(26)},
			{Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(22)},
			{Name: jsii.String("cache"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(26)},
		},
		FlowLogs: &map[string]*awsec2.FlowLogOptions{
			"All": {
				Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
				TrafficType: awsec2.FlowLogTrafficType_ALL,
			},
		},
	})

	sg := func(id, desc string) awsec2.SecurityGroup {
		return awsec2.NewSecurityGroup(s.Stack, jsii.String(id), &awsec2.SecurityGroupProps{
			Vpc:              s.Vpc,
			Description:      jsii.String(desc),
			AllowAllOutbound: jsii.Bool(false),
		})
	}
	s.FunctionsSG = sg("FunctionsSG", "api and prefetch functions: HTTPS out, Redis")
	s.AuthorizerSG = sg("AuthorizerSG", "authorizer function: HTTPS out only")
	s.RedisSG = sg("RedisSG", "ElastiCache: Redis port from the api and prefetch functions only")

	https := awsec2.Port_Tcp(jsii.Number(443))
	redis := awsec2.Port_Tcp(jsii.Number(RedisPort))
	s.FunctionsSG.AddEgressRule(awsec2.Peer_AnyIpv4(), https, jsii.String("Alpaca, Secrets Manager, X-Ray (through NAT)"), nil)
	s.AuthorizerSG.AddEgressRule(awsec2.Peer_AnyIpv4(), https, jsii.String("Secrets Manager, X-Ray (through NAT)"), nil)
	s.FunctionsSG.AddEgressRule(s.RedisSG, redis, jsii.String("to ElastiCache"), nil)
	s.RedisSG.AddIngressRule(s.FunctionsSG, redis, jsii.String("from the api and prefetch functions"), nil)
}
