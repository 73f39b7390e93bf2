// Package stack declares the whole opitios-alpaca deployment as one CDK
// stack: the VPC, the ElastiCache cache (L2), the three Go functions, the
// HTTP API and its Lambda authorizer, the prefetch schedule, the secrets, the
// stream hub (ECS Fargate behind a load balancer), and the CloudWatch
// dashboard and alarms.
//
// Environment variable names come from shared/config and metric names from
// shared/metrics, so the stack and the functions cannot drift apart. The
// stack is environment-agnostic (no account or region), so it synthesizes
// offline.
package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/opitios/opitios-alpaca/shared/catalog"
)

// StackName is the CloudFormation stack name the app deploys.
const StackName = "OpitiosAlpaca"

// Route is one API route (GET only).
type Route struct {
	// Path is the route template, which the api function also reports as
	// the Route dimension of ApiLatency.
	Path string
	// Authorized routes go through the client-key authorizer.
	Authorized bool
}

// Key is the API Gateway route key, "GET <path>".
func (r Route) Key() string { return "GET " + r.Path }

// Routes are the api function's routes (catalog.Templates: every catalog
// route, then one greedy pass-through route per version prefix); every one
// but the health check needs a client key.
var Routes = func() []Route {
	ts := catalog.Templates()
	out := make([]Route, len(ts))
	for i, p := range ts {
		out[i] = Route{Path: p, Authorized: p != catalog.PathHealth}
	}
	return out
}()

// Stack is the deployed service, with handles on the constructs that tests
// and outputs refer to.
type Stack struct {
	Stack  awscdk.Stack
	Config Config

	Vpc          awsec2.Vpc
	FunctionsSG  awsec2.SecurityGroup // api and prefetch: may reach Redis
	AuthorizerSG awsec2.SecurityGroup // authorizer: HTTPS out only
	RedisSG      awsec2.SecurityGroup

	// RedisURL is rediss://<endpoint>:<port> of the cache.
	RedisURL *string
	// RedisAuthSecret holds the AUTH token, as {"password": …}, in
	// replication-group mode; nil for serverless, which authorises by
	// network alone.
	RedisAuthSecret awssecretsmanager.Secret

	AlpacaSecret     awssecretsmanager.Secret
	ClientKeysSecret awssecretsmanager.Secret

	API        awslambda.Function
	Prefetch   awslambda.Function
	Authorizer awslambda.Function
	// APIAlias is the alias carrying provisioned concurrency; nil without it.
	APIAlias awslambda.Alias

	HTTPAPI awsapigatewayv2.HttpApi
	Stage   awsapigatewayv2.HttpStage

	PrefetchDLQ awssqs.Queue

	// The stream hub; nil when HubTasks is 0.
	HubSG           awsec2.SecurityGroup
	HubService      awsecs.FargateService
	HubLoadBalancer awselasticloadbalancingv2.ApplicationLoadBalancer
	HubURL          *string // ws:// or wss:// and the load balancer's name
	hubTaskDef      awsecs.FargateTaskDefinition
	hubLBSG         awsec2.SecurityGroup

	AlarmTopic awssns.Topic
	Dashboard  awscloudwatch.Dashboard
	Alarms     []awscloudwatch.Alarm

	roles        []awsiam.Role               // the functions' execution roles
	publicRoutes []awsapigatewayv2.HttpRoute // routes without the authorizer
}

// New declares the stack in scope. cfg must be valid (see Config.Validate).
func New(scope constructs.Construct, id string, cfg Config) *Stack {
	s := &Stack{
		Stack: awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
			Description: jsii.String("opitios-alpaca: serverless market-data cache in front of Alpaca (API Gateway, Go Lambda, ElastiCache)"),
		}),
		Config: cfg,
	}
	s.network()
	s.secrets()
	s.cache()
	s.functions()
	s.api()
	s.schedule()
	s.observability()
	s.hub()
	s.outputs()
	s.suppressions()
	return s
}

// FromApp reads the configuration from the app's context, declares the
// stack and adds the cdk-nag AwsSolutions checks to the app. Each
// unsuppressed error-level finding is an error annotation, which fails
// `cdk synth`; after app.Synth, NagFindings lists them.
func FromApp(app awscdk.App, id string) (*Stack, error) {
	cfg, err := FromContext(func(key string) any {
		return app.Node().TryGetContext(jsii.String(key))
	})
	if err != nil {
		return nil, err
	}
	s := New(app, id, cfg)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return s, nil
}

func (s *Stack) outputs() {
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(desc), Value: value})
	}
	out("ApiUrl", "Alpaca-compatible data base URL: point an Alpaca SDK's data URL here", s.Stage.Url())
	out("DashboardUrl", "CloudWatch dashboard", awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://"), awscdk.Aws_REGION(), jsii.String(".console.aws.amazon.com/cloudwatch/home?region="),
		awscdk.Aws_REGION(), jsii.String("#dashboards:name="), s.Dashboard.DashboardName(),
	}))
	out("AlpacaSecretArn", `Alpaca credentials: put {"key_id":"…","secret_key":"…"} here`, s.AlpacaSecret.SecretArn())
	out("ClientKeysSecretArn", `client keys: put {"keys":[{"id":"…","sha256":"<hex of the secret>"}]} here`, s.ClientKeysSecret.SecretArn())
	out("PrefetchDeadLetterQueueUrl", "prefetch events that could not be delivered or failed", s.PrefetchDLQ.QueueUrl())
	out("AlarmTopicArn", "SNS topic every alarm notifies", s.AlarmTopic.TopicArn())
	if s.HubURL != nil {
		out("HubUrl", "stream hub: Alpaca's stream protocol; point an SDK's stream base URL at <HubUrl>/v2", s.HubURL)
	}
}
