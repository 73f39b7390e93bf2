package stack

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// vpcNetworkingActions are what Lambda needs to attach a function to the
// VPC (the actions of the AWSLambdaVPCAccessExecutionRole managed policy).
var vpcNetworkingActions = []string{
	"ec2:CreateNetworkInterface",
	"ec2:DescribeNetworkInterfaces",
	"ec2:DescribeSubnets",
	"ec2:DeleteNetworkInterface",
	"ec2:AssignPrivateIpAddresses",
	"ec2:UnassignPrivateIpAddresses",
}

// functions declares api, prefetch and authorizer. Each has its own role
// (write to its own log group, VPC networking, X-Ray, and read on exactly the
// secrets it needs), its own log group, and lives in the private subnets.
func (s *Stack) functions() {
	cfg := s.Config
	redis, origin, prefetch := s.functionEnv()
	s.API = s.function("Api", "api", "API Gateway routes: L1, then Redis, then Alpaca",
		cfg.API, s.FunctionsSG, merge(redis, origin), nil)
	s.PrefetchDLQ = awssqs.NewQueue(s.Stack, jsii.String("PrefetchDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	// A prefetch run is only worth doing in its own minute: an event older
	// than that is dropped rather than retried (the next minute's run does
	// the same work with fresher data), and recorded in the DLQ.
	s.Prefetch = s.function("Prefetch", "prefetch", "Scheduled refresh of the hot symbols in Redis",
		cfg.Prefetch, s.FunctionsSG, merge(redis, origin, prefetch), &asyncConfig{
			maxEventAge: awscdk.Duration_Seconds(jsii.Number(60)),
			retries:     0,
			onFailure:   awslambdadestinations.NewSqsDestination(s.PrefetchDLQ),
		})
	s.Authorizer = s.function("Authorizer", "authorizer", "API Gateway Lambda authorizer: client keys",
		cfg.Authorizer, s.AuthorizerSG, map[string]*string{
			config.EnvClientKeysSecretARN: s.ClientKeysSecret.SecretArn(),
			config.EnvRevocationWindow:    itoa(cfg.RevocationWindowSeconds),
		}, nil)

	for _, fn := range []awslambda.Function{s.API, s.Prefetch} {
		s.AlpacaSecret.GrantRead(fn, nil)
		if s.RedisAuthSecret != nil {
			s.RedisAuthSecret.GrantRead(fn, nil)
		}
	}
	s.ClientKeysSecret.GrantRead(s.Authorizer, nil)

	if n := cfg.APIProvisionedConcurrency; n > 0 {
		s.APIAlias = awslambda.NewAlias(s.Stack, jsii.String("ApiLive"), &awslambda.AliasProps{
			AliasName:                       jsii.String("live"),
			Version:                         s.API.CurrentVersion(),
			ProvisionedConcurrentExecutions: jsii.Number(float64(n)),
		})
	}
}

// functionEnv is the environment of the functions that use Redis, of those
// that call the origin, and of prefetch alone.
func (s *Stack) functionEnv() (redis, origin, prefetch map[string]*string) {
	cfg := s.Config
	redis = map[string]*string{
		config.EnvRedisURL:     s.RedisURL,
		config.EnvRedisCluster: jsii.String("true"),
	}
	if s.RedisAuthSecret != nil {
		redis[config.EnvRedisAuthARN] = s.RedisAuthSecret.SecretArn()
	}
	origin = map[string]*string{
		config.EnvAlpacaSecretARN:    s.AlpacaSecret.SecretArn(),
		config.EnvAlpacaFeed:         jsii.String(cfg.AlpacaFeed),
		config.EnvAlpacaOptionFeed:   jsii.String(cfg.AlpacaOptionFeed),
		config.EnvOriginBudgetPerMin: itoa(cfg.OriginBudgetPerMinute),
		config.EnvOriginInstances:    itoa(config.OriginInstances(cfg.API.ReservedConcurrency, cfg.Prefetch.ReservedConcurrency)),
		config.EnvTTLStockQuote:      itoa(cfg.TTLStockQuoteSeconds),
		config.EnvTTLOptionQuote:     itoa(cfg.TTLOptionQuoteSeconds),
		config.EnvTTLHistorical:      itoa(cfg.TTLHistoricalSeconds),
	}
	prefetch = map[string]*string{
		config.EnvPrefetchWatchlist:   jsii.String(cfg.PrefetchWatchlist),
		config.EnvPrefetchTopN:        itoa(cfg.PrefetchTopN),
		config.EnvPrefetchBudgetShare: jsii.String(cfg.PrefetchBudgetShare),
		config.EnvPrefetchUnderlyings: jsii.String(cfg.PrefetchUnderlyings),
	}
	return redis, origin, prefetch
}

// asyncConfig is a function's asynchronous-invocation policy.
type asyncConfig struct {
	maxEventAge awscdk.Duration
	retries     int
	onFailure   awslambda.IDestination
}

// function declares one Go function: provided.al2023 on arm64, code from
// <AssetsDir>/<asset>/bootstrap, active tracing, LOG_FORMAT=json.
func (s *Stack) function(id, asset, desc string, fc FunctionConfig, sg awsec2.ISecurityGroup,
	env map[string]*string, async *asyncConfig) awslambda.Function {
	logs := awslogs.NewLogGroup(s.Stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     retentionDays[s.Config.LogRetentionDays],
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(s.Stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("execution role of the " + asset + " function"),
	})
	s.roles = append(s.roles, role)
	logs.GrantWrite(role)
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(vpcNetworkingActions...),
		Resources: jsii.Strings("*"),
	}))

	env = merge(env, map[string]*string{config.EnvLogFormat: jsii.String("json")})
	props := &awslambda.FunctionProps{
		Description:  jsii.String(desc),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(s.Config.AssetsDir, asset)), nil),
		MemorySize:   jsii.Number(float64(fc.MemoryMB)),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(float64(fc.TimeoutSeconds))),
		Tracing:      awslambda.Tracing_ACTIVE,
		LogGroup:     logs,
		Role:         role,
		Environment:  &env,
		Vpc:          s.Vpc,
		VpcSubnets:   &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		SecurityGroups: &[]awsec2.ISecurityGroup{
			sg,
		},
	}
	if fc.ReservedConcurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(float64(fc.ReservedConcurrency))
	}
	if async != nil {
		props.MaxEventAge = async.maxEventAge
		props.RetryAttempts = jsii.Number(float64(async.retries))
		props.OnFailure = async.onFailure
	}
	fn := awslambda.NewFunction(s.Stack, jsii.String(id), props)
	// The L2 makes the function depend on its role's whole subtree (so the
	// role's policy, with the VPC permissions Lambda checks at creation,
	// exists first); the DependsOn it renders on the role itself repeats the
	// Fn::GetAtt of the role's ARN, which cfn-lint reports as W3005.
	fn.Node().DefaultChild().(awscdk.CfnResource).AddMetadata(jsii.String("cfn-lint"), map[string]any{
		"config": map[string]any{"ignore_checks": []string{"W3005"}},
	})
	return fn
}

// merge returns the union of maps; later maps win.
func merge(maps ...map[string]*string) map[string]*string {
	out := make(map[string]*string)
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
