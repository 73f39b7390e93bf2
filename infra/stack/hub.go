package stack

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elb "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

// HubPort is the port the hub container listens on.
const HubPort = 8080

// hubCPU and hubMemoryMiB size the hub's Fargate task; the hub's collector
// is held under config.GCLimitBytes of that memory (GOMEMLIMIT).
const (
	hubCPU       = 256
	hubMemoryMiB = 512
)

// hubImageFiles are the only files of the build context the hub image
// needs: the module's definition, shared/ and hub/ (Docker ignore syntax,
// so the staged asset and its hash cover nothing else).
var hubImageFiles = []string{"*", "!go.mod", "!go.sum", "!shared", "!hub"}

// hub declares the stream hub when HubTasks > 0: an ECS Fargate service
// (arm64) in the functions' private subnets, next to ElastiCache, behind an
// internet-facing Application Load Balancer that carries WebSockets (TLS
// when HubCertificateArn is set), with its logs, metrics and alarms.
func (s *Stack) hub() {
	if s.Config.HubTasks == 0 {
		return
	}
	s.HubSG = awsec2.NewSecurityGroup(s.Stack, jsii.String("HubSG"), &awsec2.SecurityGroupProps{
		Vpc: s.Vpc, Description: jsii.String("stream hub tasks: HTTPS out, Redis, from the load balancer"), AllowAllOutbound: jsii.Bool(false),
	})
	redisPort := awsec2.Port_Tcp(jsii.Number(RedisPort))
	s.HubSG.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("Alpaca's stream, Secrets Manager, ECR, CloudWatch Logs (through NAT)"), nil)
	s.HubSG.AddEgressRule(s.RedisSG, redisPort, jsii.String("to ElastiCache"), nil)
	s.RedisSG.AddIngressRule(s.HubSG, redisPort, jsii.String("from the stream hub"), nil)

	cluster := awsecs.NewCluster(s.Stack, jsii.String("HubCluster"), &awsecs.ClusterProps{
		Vpc: s.Vpc, ContainerInsightsV2: awsecs.ContainerInsights_ENABLED,
	})
	task := s.hubTask()
	s.HubService = awsecs.NewFargateService(s.Stack, jsii.String("HubService"), &awsecs.FargateServiceProps{
		Cluster:        cluster,
		TaskDefinition: task,
		DesiredCount:   jsii.Number(float64(s.Config.HubTasks)),
		SecurityGroups: &[]awsec2.ISecurityGroup{s.HubSG},
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		// A new task stands by until the old one releases the lease, so a
		// rolling deploy never opens a second upstream.
		MinHealthyPercent:      jsii.Number(100),
		MaxHealthyPercent:      jsii.Number(200),
		CircuitBreaker:         &awsecs.DeploymentCircuitBreaker{Rollback: jsii.Bool(true)},
		HealthCheckGracePeriod: awscdk.Duration_Seconds(jsii.Number(60)),
	})
	s.hubLoadBalancer()
	s.hubAlarms()
}

// hubTask is the hub's task definition: the image built from hub/Dockerfile
// at deploy time, the service's configuration, JSON logs.
func (s *Stack) hubTask() awsecs.FargateTaskDefinition {
	cfg := s.Config
	task := awsecs.NewFargateTaskDefinition(s.Stack, jsii.String("HubTask"), &awsecs.FargateTaskDefinitionProps{
		Cpu:            jsii.Number(hubCPU),
		MemoryLimitMiB: jsii.Number(hubMemoryMiB),
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_ARM64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})
	dir, _ := cfg.HubContext() // validated
	logs := awslogs.NewLogGroup(s.Stack, jsii.String("HubLogs"), &awslogs.LogGroupProps{
		Retention: retentionDays[cfg.LogRetentionDays], RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	redis, origin, _ := s.functionEnv()
	env := merge(redis, origin, map[string]*string{
		config.EnvClientKeysSecretARN: s.ClientKeysSecret.SecretArn(),
		stream.EnvFeeds:               jsii.String(cfg.HubFeeds),
		stream.EnvHotSymbols:          jsii.String(cfg.HubHotSymbols),
		stream.EnvSymbolLimit:         itoa(cfg.HubSymbolLimit),
		"PORT":                        itoa(HubPort),
		"GOMEMLIMIT":                  jsii.String(strconv.FormatInt(config.GCLimitBytes(hubMemoryMiB), 10)),
	})
	task.AddContainer(jsii.String("hub"), &awsecs.ContainerDefinitionOptions{
		Image: awsecs.ContainerImage_FromAsset(jsii.String(dir), &awsecs.AssetImageProps{
			File:       jsii.String(HubDockerfile),
			Platform:   awsecrassets.Platform_LINUX_ARM64(),
			Exclude:    jsii.Strings(hubImageFiles...),
			IgnoreMode: awscdk.IgnoreMode_DOCKER,
		}),
		Environment:  &env,
		Logging:      awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String("hub"), LogGroup: logs}),
		PortMappings: &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(HubPort)}},
	})
	s.AlpacaSecret.GrantRead(task.TaskRole(), nil)
	s.ClientKeysSecret.GrantRead(task.TaskRole(), nil)
	if s.RedisAuthSecret != nil {
		s.RedisAuthSecret.GrantRead(task.TaskRole(), nil)
	}
	s.hubTaskDef = task
	return task
}

// hubLoadBalancer puts the service behind an internet-facing ALB: HTTPS on
// 443 with the configured certificate, else HTTP on 80. Clients
// authenticate in-band with their issued keys, as with Alpaca.
func (s *Stack) hubLoadBalancer() {
	albSG := awsec2.NewSecurityGroup(s.Stack, jsii.String("HubLoadBalancerSG"), &awsec2.SecurityGroupProps{
		Vpc: s.Vpc, Description: jsii.String("stream hub load balancer: WebSocket clients in, hub tasks out"), AllowAllOutbound: jsii.Bool(false),
	})
	port, proto := 80.0, elb.ApplicationProtocol_HTTP
	var certs *[]elb.IListenerCertificate
	if arn := s.Config.HubCertificateArn; arn != "" {
		port, proto = 443, elb.ApplicationProtocol_HTTPS
		certs = &[]elb.IListenerCertificate{elb.ListenerCertificate_FromArn(jsii.String(arn))}
	}
	s.hubLBSG = albSG
	albSG.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(port)), jsii.String("WebSocket clients"), nil)
	s.HubLoadBalancer = elb.NewApplicationLoadBalancer(s.Stack, jsii.String("HubLoadBalancer"), &elb.ApplicationLoadBalancerProps{
		Vpc:                     s.Vpc,
		InternetFacing:          jsii.Bool(true),
		SecurityGroup:           albSG,
		VpcSubnets:              &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		IdleTimeout:             awscdk.Duration_Seconds(jsii.Number(3600)), // quiet streams stay open
		DropInvalidHeaderFields: jsii.Bool(true),
	})
	props := &elb.BaseApplicationListenerProps{Port: jsii.Number(port), Protocol: proto, Certificates: certs, Open: jsii.Bool(false)}
	if certs != nil {
		props.SslPolicy = elb.SslPolicy_RECOMMENDED_TLS
	}
	listener := s.HubLoadBalancer.AddListener(jsii.String("Stream"), props)
	listener.AddTargets(jsii.String("Hub"), &elb.AddApplicationTargetsProps{
		Port:                jsii.Number(HubPort),
		Protocol:            elb.ApplicationProtocol_HTTP,
		Targets:             &[]elb.IApplicationLoadBalancerTarget{s.HubService},
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(30)),
		HealthCheck: &elb.HealthCheck{
			Path:             jsii.String("/healthz"),
			HealthyHttpCodes: jsii.String("200"),
			Interval:         awscdk.Duration_Seconds(jsii.Number(15)),
		},
	})
	// The L2 makes the service depend on its target group and listener (so
	// the listener exists before tasks register); the DependsOn on the
	// target group repeats the Ref in the service's LoadBalancers, which
	// cfn-lint reports as W3005.
	s.HubService.Node().DefaultChild().(awscdk.CfnResource).AddMetadata(jsii.String("cfn-lint"), map[string]any{
		"config": map[string]any{"ignore_checks": []string{"W3005"}},
	})
	scheme := "ws://"
	if certs != nil {
		scheme = "wss://"
	}
	s.HubURL = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(scheme), s.HubLoadBalancer.LoadBalancerDnsName()})
}

// hubAlarms alarm when no hub holds the upstream, when Alpaca refuses it,
// when it keeps dropping, and when its messages arrive late.
func (s *Stack) hubAlarms() {
	dims := map[string]*string{"Service": jsii.String("hub")}
	gt, lt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD
	down := s.alarm("HubUpstreamDown", "No stream hub holds Alpaca's upstream stream (or no hub reports at all) for 3 minutes: "+
		"streamed entries age out and REST answers from the origin.",
		custom(stream.MetricUpstreamConnected, "Maximum", dims), lt, 1, 3, 3)
	// Silence here is the incident itself: no hub is reporting.
	down.Node().DefaultChild().(awscloudwatch.CfnAlarm).SetTreatMissingData(jsii.String("breaching"))
	s.alarm("HubUpstreamRefused", "Alpaca refused the hub's upstream (402 keys, 406 connection limit, 409 plan, 405 symbols): see the hub's error logs.",
		custom(stream.MetricUpstreamErrors, "Sum", dims), gt, 0, 1, 1)
	s.alarm("HubUpstreamFlapping", "The hub's upstream dropped more than 5 times in 5 minutes.",
		custom(stream.MetricUpstreamDrops, "Sum", dims).With(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))}),
		gt, 5, 1, 1)
	s.alarm("HubUpstreamLag", "Stream messages reach the hub more than 5 s after their timestamps, 3 minutes running.",
		custom(stream.MetricUpstreamLag, "Maximum", dims), gt, 5000, 3, 3)
}
