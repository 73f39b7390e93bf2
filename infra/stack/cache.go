package stack

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
)

// secrets declares the two credentials secrets. Both start as placeholders:
// the operator puts the real values after the first deploy (see the
// outputs), and no value ever appears in the template.
func (s *Stack) secrets() {
	s.AlpacaSecret = awssecretsmanager.NewSecret(s.Stack, jsii.String("AlpacaCredentials"), &awssecretsmanager.SecretProps{
		Description: jsii.String(`Alpaca Market Data credentials {"key_id","secret_key"}: replace the placeholder with the account's keys`),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"key_id":"REPLACE_ME"}`),
			GenerateStringKey:    jsii.String("secret_key"),
			ExcludePunctuation:   jsii.Bool(true),
		},
	})
	// An empty key list is not a secret; it lets nobody in until the
	// operator issues keys.
	s.ClientKeysSecret = awssecretsmanager.NewSecret(s.Stack, jsii.String("ClientKeys"), &awssecretsmanager.SecretProps{
		Description:       jsii.String(`Client keys this service issued {"keys":[{"id","sha256"}]}, secrets stored as SHA-256 hex only`),
		SecretStringValue: awscdk.SecretValue_UnsafePlainText(jsii.String(`{"keys":[]}`)),
	})
}

// cache declares the L2: ElastiCache Serverless for Valkey by default, or a
// cluster-mode replication group (redisMode=replicationGroup) for steady
// high traffic where node pricing beats per-request pricing. Either way the
// endpoint speaks TLS and the Redis Cluster protocol, sits in the isolated
// subnets, and admits only the functions' security group.
func (s *Stack) cache() {
	var subnets []any
	for _, id := range *s.Vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}).SubnetIds {
		subnets = append(subnets, id)
	}
	switch s.Config.RedisMode {
	case RedisReplicationGroup:
		s.replicationGroup(subnets)
	default:
		s.serverlessCache(subnets)
	}
}

func (s *Stack) serverlessCache(subnets []any) {
	c := awselasticache.NewCfnServerlessCache(s.Stack, jsii.String("Cache"), &awselasticache.CfnServerlessCacheProps{
		ServerlessCacheName: jsii.String(s.Config.CacheName),
		Description:         jsii.String("opitios-alpaca L2 market-data cache"),
		Engine:              jsii.String("valkey"),
		MajorEngineVersion:  jsii.String("8"),
		SubnetIds:           &subnets,
		SecurityGroupIds:    &[]any{s.RedisSG.SecurityGroupId()},
		// Ceilings, not reservations: they bound the bill if a client or a
		// bug hammers the cache.
		CacheUsageLimits: &awselasticache.CfnServerlessCache_CacheUsageLimitsProperty{
			DataStorage: &awselasticache.CfnServerlessCache_DataStorageProperty{
				Maximum: jsii.Number(float64(s.Config.RedisMaxDataStorageGB)),
				Unit:    jsii.String("GB"),
			},
			EcpuPerSecond: &awselasticache.CfnServerlessCache_ECPUPerSecondProperty{
				Maximum: jsii.Number(float64(s.Config.RedisMaxECPUPerSecond)),
			},
		},
	})
	s.RedisURL = redisURL(c.AttrEndpointAddress(), c.AttrEndpointPort())
}

// RedisAuthKey is the JSON key of the AUTH token in the secret that
// REDIS_AUTH_SECRET_ARN names (shared/service reads {"password": …}).
const RedisAuthKey = "password"

func (s *Stack) replicationGroup(subnets []any) {
	group := awselasticache.NewCfnSubnetGroup(s.Stack, jsii.String("CacheSubnets"), &awselasticache.CfnSubnetGroupProps{
		Description: jsii.String("opitios-alpaca cache: isolated subnets"),
		SubnetIds:   &subnets,
	})
	// ElastiCache AUTH tokens are 16..128 printable characters without
	// '@', '"' or '/'; letters and digits only keeps every client happy.
	s.RedisAuthSecret = awssecretsmanager.NewSecret(s.Stack, jsii.String("RedisAuthToken"), &awssecretsmanager.SecretProps{
		Description: jsii.String(`ElastiCache AUTH token {"` + RedisAuthKey + `":"…"}`),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String("{}"),
			GenerateStringKey:    jsii.String(RedisAuthKey),
			ExcludePunctuation:   jsii.Bool(true),
			IncludeSpace:         jsii.Bool(false),
			PasswordLength:       jsii.Number(64),
		},
	})
	replicas := s.Config.RedisReplicasPerNodeGroup
	rg := awselasticache.NewCfnReplicationGroup(s.Stack, jsii.String("Cache"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupDescription: jsii.String("opitios-alpaca L2 market-data cache"),
		ReplicationGroupId:          jsii.String(s.Config.CacheName),
		Engine:                      jsii.String("valkey"),
		EngineVersion:               jsii.String("8.0"),
		CacheParameterGroupName:     jsii.String("default.valkey8.cluster.on"),
		ClusterMode:                 jsii.String("enabled"),
		CacheNodeType:               jsii.String(s.Config.RedisNodeType),
		NumNodeGroups:               jsii.Number(float64(s.Config.RedisNumNodeGroups)),
		ReplicasPerNodeGroup:        jsii.Number(float64(replicas)),
		AutomaticFailoverEnabled:    jsii.Bool(true),
		MultiAzEnabled:              jsii.Bool(replicas > 0),
		Port:                        jsii.Number(RedisPort),
		CacheSubnetGroupName:        group.Ref(),
		SecurityGroupIds:            &[]*string{s.RedisSG.SecurityGroupId()},
		TransitEncryptionEnabled:    jsii.Bool(true),
		AtRestEncryptionEnabled:     jsii.Bool(true),
		AuthToken:                   s.RedisAuthSecret.SecretValueFromJson(jsii.String(RedisAuthKey)).UnsafeUnwrap(),
		SnapshotRetentionLimit:      jsii.Number(1),
	})
	s.RedisURL = redisURL(rg.AttrConfigurationEndPointAddress(), rg.AttrConfigurationEndPointPort())
}

// redisURL is the REDIS_URL the functions read: TLS (rediss), no password
// (in replication-group mode the token comes from REDIS_AUTH_SECRET_ARN).
func redisURL(host, port *string) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("rediss://"), host, jsii.String(":"), port})
}

// itoa formats an int for an environment variable.
func itoa(n int) *string { return jsii.String(strconv.Itoa(n)) }
