package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"

	"github.com/opitios/opitios-alpaca/shared/budget"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

func TestFunctions(t *testing.T) {
	x := synth(t, nil)
	d := Defaults()
	check(t, "three functions", func() { x.tmpl.ResourceCountIs(str("AWS::Lambda::Function"), num(3)) })
	check(t, "every function: Go on Graviton, traced, in the VPC", func() {
		x.tmpl.AllResourcesProperties(str("AWS::Lambda::Function"), obj(map[string]any{
			"Runtime":       "provided.al2023",
			"Architectures": list("arm64"),
			"Handler":       "bootstrap",
			"TracingConfig": map[string]any{"Mode": "Active"},
			"VpcConfig":     assertions.Match_ObjectLike(obj(map[string]any{"SubnetIds": assertions.Match_AnyValue()})),
			"LoggingConfig": assertions.Match_ObjectLike(obj(map[string]any{"LogGroup": assertions.Match_AnyValue()})),
		}))
	})
	var private []any
	for _, sn := range *x.s.Vpc.PrivateSubnets() {
		private = append(private, ref(x.logicalID(sn)))
	}
	for _, f := range []struct {
		fn   awslambda.Function
		fc   FunctionConfig
		sgID string
	}{
		{x.s.API, d.API, x.logicalID(x.s.FunctionsSG)},
		{x.s.Prefetch, d.Prefetch, x.logicalID(x.s.FunctionsSG)},
		{x.s.Authorizer, d.Authorizer, x.logicalID(x.s.AuthorizerSG)},
	} {
		id := x.logicalID(f.fn)
		p := x.props(t, id)
		for field, want := range map[string]any{
			"MemorySize":                   f.fc.MemoryMB,
			"Timeout":                      f.fc.TimeoutSeconds,
			"ReservedConcurrentExecutions": f.fc.ReservedConcurrency,
		} {
			if !same(p[field], want) {
				t.Errorf("%s %s = %v, want %v", id, field, p[field], want)
			}
		}
		vpc := p["VpcConfig"].(map[string]any)
		if !same(vpc["SubnetIds"], private) {
			t.Errorf("%s subnets = %v, want the private subnets %v", id, vpc["SubnetIds"], private)
		}
		if !same(vpc["SecurityGroupIds"], []any{getAtt(f.sgID, "GroupId")}) {
			t.Errorf("%s security groups = %v, want only %s", id, vpc["SecurityGroupIds"], f.sgID)
		}
		logGroup := p["LoggingConfig"].(map[string]any)["LogGroup"].(map[string]any)["Ref"].(string)
		if got := x.props(t, logGroup)["RetentionInDays"]; !same(got, d.LogRetentionDays) {
			t.Errorf("%s log group %s retention = %v, want %d", id, logGroup, got, d.LogRetentionDays)
		}
	}
	check(t, "every log group has a retention", func() {
		x.tmpl.AllResourcesProperties(str("AWS::Logs::LogGroup"), obj(map[string]any{"RetentionInDays": d.LogRetentionDays}))
	})
	check(t, "no provisioned concurrency by default", func() { x.tmpl.ResourceCountIs(str("AWS::Lambda::Alias"), num(0)) })
}

func TestReservedConcurrencyZeroMeansUnreserved(t *testing.T) {
	x := synth(t, variantCtx)
	if p := x.props(t, x.logicalID(x.s.Prefetch)); p["ReservedConcurrentExecutions"] != nil {
		t.Errorf("prefetch ReservedConcurrentExecutions = %v, want none", p["ReservedConcurrentExecutions"])
	}
}

func env(t *testing.T, x *synthesized, fn awslambda.Function) map[string]any {
	t.Helper()
	return x.props(t, x.logicalID(fn))["Environment"].(map[string]any)["Variables"].(map[string]any)
}

func TestEnvironment(t *testing.T) {
	x := synth(t, nil)
	d := Defaults()
	alpaca, clients := ref(x.logicalID(x.s.AlpacaSecret)), ref(x.logicalID(x.s.ClientKeysSecret))
	redisURL := map[string]any{"Fn::Join": []any{"", []any{
		"rediss://", getAtt("Cache", "Endpoint.Address"), ":", getAtt("Cache", "Endpoint.Port"),
	}}}
	origin := map[string]any{
		config.EnvRedisURL:           redisURL,
		config.EnvRedisCluster:       "true",
		config.EnvAlpacaSecretARN:    alpaca,
		config.EnvAlpacaFeed:         d.AlpacaFeed,
		config.EnvAlpacaOptionFeed:   d.AlpacaOptionFeed,
		config.EnvOriginBudgetPerMin: "200",
		config.EnvOriginInstances:    "101",
		config.EnvTTLStockQuote:      "30",
		config.EnvTTLOptionQuote:     "60",
		config.EnvTTLHistorical:      "3600",
		config.EnvLogFormat:          "json",
	}
	prefetch := map[string]any{
		config.EnvPrefetchWatchlist:   d.PrefetchWatchlist,
		config.EnvPrefetchTopN:        "200",
		config.EnvPrefetchBudgetShare: "0.5",
		config.EnvPrefetchUnderlyings: d.PrefetchUnderlyings,
	}
	for name, tc := range map[string]struct {
		fn   awslambda.Function
		want map[string]any
	}{
		"api":      {x.s.API, origin},
		"prefetch": {x.s.Prefetch, merge2(origin, prefetch)},
		"authorizer": {x.s.Authorizer, map[string]any{config.EnvClientKeysSecretARN: clients, config.EnvLogFormat: "json",
			config.EnvRevocationWindow: "60"}},
	} {
		got := env(t, x, tc.fn)
		if !same(got, tc.want) {
			gj, _ := json.MarshalIndent(got, "", " ")
			wj, _ := json.MarshalIndent(tc.want, "", " ")
			t.Errorf("%s environment =\n%s\nwant\n%s", name, gj, wj)
		}
	}
}

// The functions are told how many instances share the origin budget (the
// reservations of api and prefetch, an unreserved one counting as the
// account's default quota), and with that count every instance in fallback
// at once stays within the budget.
func TestFallbackBudgetFitsTheConfiguredConcurrency(t *testing.T) {
	for _, tc := range []struct {
		ctx       map[string]any
		instances int
	}{
		{nil, config.DefaultAPIConcurrency + config.DefaultPrefetchConcurrency},
		{variantCtx, config.DefaultAPIConcurrency + config.UnreservedConcurrency},
	} {
		x := synth(t, tc.ctx)
		for _, fn := range []awslambda.Function{x.s.API, x.s.Prefetch} {
			e := env(t, x, fn)
			instances, err1 := strconv.Atoi(e[config.EnvOriginInstances].(string))
			perMinute, err2 := strconv.Atoi(e[config.EnvOriginBudgetPerMin].(string))
			if err1 != nil || err2 != nil || instances != tc.instances {
				t.Fatalf("%s: %s=%v, want %d", x.logicalID(fn), config.EnvOriginInstances, e[config.EnvOriginInstances], tc.instances)
			}
			burst, rate := budget.FallbackShape(perMinute, instances)
			if fleet := float64(instances) * rate; fleet > float64(perMinute)+1e-9 {
				t.Errorf("%d instances × %g/min = %g/min in fallback, over the budget %d/min", instances, rate, fleet, perMinute)
			}
			if instances < perMinute && float64(instances)*(float64(burst)+rate) > float64(perMinute)+1e-9 {
				t.Errorf("%d instances × (burst %d + %g/min) is over the budget %d/min in a minute", instances, burst, rate, perMinute)
			}
		}
	}
}

func merge2(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestProvisionedConcurrencyUsesAnAlias(t *testing.T) {
	x := synth(t, variantCtx)
	alias := x.logicalID(x.s.APIAlias)
	check(t, "alias with provisioned concurrency", func() {
		x.tmpl.HasResourceProperties(str("AWS::Lambda::Alias"), obj(map[string]any{
			"Name":                         "live",
			"FunctionName":                 ref(x.logicalID(x.s.API)),
			"ProvisionedConcurrencyConfig": map[string]any{"ProvisionedConcurrentExecutions": 5},
		}))
	})
	check(t, "the API invokes the alias", func() {
		x.tmpl.AllResourcesProperties(str("AWS::ApiGatewayV2::Integration"), obj(map[string]any{"IntegrationUri": ref(alias)}))
	})
}

func TestHTTPAPI(t *testing.T) {
	x := synth(t, nil)
	d := Defaults()
	apiID := x.logicalID(x.s.HTTPAPI)
	check(t, "one HTTP API without CORS", func() {
		x.tmpl.ResourceCountIs(str("AWS::ApiGatewayV2::Api"), num(1))
		x.tmpl.HasResourceProperties(str("AWS::ApiGatewayV2::Api"), obj(map[string]any{
			"ProtocolType":      "HTTP",
			"CorsConfiguration": assertions.Match_Absent(),
		}))
	})
	check(t, "one Lambda proxy integration, payload 2.0, to the api function", func() {
		x.tmpl.ResourceCountIs(str("AWS::ApiGatewayV2::Integration"), num(1))
		x.tmpl.HasResourceProperties(str("AWS::ApiGatewayV2::Integration"), obj(map[string]any{
			"IntegrationType":      "AWS_PROXY",
			"PayloadFormatVersion": "2.0",
			"IntegrationUri":       getAtt(x.logicalID(x.s.API), "Arn"),
		}))
	})
	authorizers := x.resources("AWS::ApiGatewayV2::Authorizer")
	check(t, "one SIMPLE Lambda authorizer on both key headers", func() {
		x.tmpl.ResourceCountIs(str("AWS::ApiGatewayV2::Authorizer"), num(1))
		x.tmpl.HasResourceProperties(str("AWS::ApiGatewayV2::Authorizer"), obj(map[string]any{
			"AuthorizerType":                 "REQUEST",
			"AuthorizerPayloadFormatVersion": "2.0",
			"EnableSimpleResponses":          true,
			"IdentitySource":                 list("$request.header."+HeaderKeyID, "$request.header."+HeaderSecretKey),
			"AuthorizerResultTtlInSeconds":   d.RevocationWindowSeconds / 2,
		}))
	})
	var authorizerID string
	for id, r := range authorizers {
		authorizerID = id
		uri := fmt.Sprint(r["Properties"].(map[string]any)["AuthorizerUri"])
		if !strings.Contains(uri, x.logicalID(x.s.Authorizer)) {
			t.Errorf("authorizer invokes %s, want the authorizer function", uri)
		}
	}
	check(t, "one route per API path", func() {
		x.tmpl.ResourceCountIs(str("AWS::ApiGatewayV2::Route"), num(float64(len(Routes))))
	})
	routes := map[string]map[string]any{}
	for _, r := range x.resources("AWS::ApiGatewayV2::Route") {
		p := r["Properties"].(map[string]any)
		routes[p["RouteKey"].(string)] = p
		if !same(p["ApiId"], ref(apiID)) {
			t.Errorf("route %v on API %v, want %s", p["RouteKey"], p["ApiId"], apiID)
		}
	}
	for _, r := range Routes {
		p, ok := routes[r.Key()]
		if !ok {
			t.Errorf("no route %q", r.Key())
			continue
		}
		if r.Authorized {
			if p["AuthorizationType"] != "CUSTOM" || !same(p["AuthorizerId"], ref(authorizerID)) {
				t.Errorf("route %q authorization = %v/%v, want CUSTOM with %s", r.Key(), p["AuthorizationType"], p["AuthorizerId"], authorizerID)
			}
		} else if (p["AuthorizationType"] != nil && p["AuthorizationType"] != "NONE") || p["AuthorizerId"] != nil {
			t.Errorf("route %q authorization = %v/%v, want none", r.Key(), p["AuthorizationType"], p["AuthorizerId"])
		}
	}
	if p, ok := routes["GET /healthz"]; !ok || p["AuthorizerId"] != nil {
		t.Errorf("/healthz must exist without the authorizer: %v", p)
	}

	stage := x.props(t, x.logicalID(x.s.Stage))
	if !same(stage["DefaultRouteSettings"], map[string]any{"ThrottlingBurstLimit": 1000, "ThrottlingRateLimit": 500}) {
		t.Errorf("stage throttling = %v, want 500 rps, burst 1000", stage["DefaultRouteSettings"])
	}
	logs := stage["AccessLogSettings"].(map[string]any)
	var format map[string]string
	if err := json.Unmarshal([]byte(logs["Format"].(string)), &format); err != nil {
		t.Errorf("access log format is not JSON: %v", err)
	}
	for _, k := range []string{"requestId", "routeKey", "status", "responseLatency", "ip"} {
		if format[k] == "" {
			t.Errorf("access log format has no %q field: %v", k, format)
		}
	}
	dest, _ := logs["DestinationArn"].(map[string]any)["Fn::GetAtt"].([]any)
	if len(dest) != 2 || x.resources("AWS::Logs::LogGroup")[dest[0].(string)] == nil {
		t.Errorf("access logs go to %v, want a log group of the stack", logs["DestinationArn"])
	}
}

// API Gateway's verdict cache and the authorizer's refresh of the key list
// both come from the one revocation window, and together stay within it.
func TestRevocationWindowBoundsBothCaches(t *testing.T) {
	x := synth(t, nil)
	var ttl time.Duration
	for _, r := range x.resources("AWS::ApiGatewayV2::Authorizer") {
		secs, _ := r["Properties"].(map[string]any)["AuthorizerResultTtlInSeconds"].(float64)
		ttl = time.Duration(secs) * time.Second
	}
	e := env(t, x, x.s.Authorizer)
	window, err := config.RevocationWindow(func(k string) string { s, _ := e[k].(string); return s })
	if err != nil || window != config.DefaultRevocationWindow {
		t.Fatalf("authorizer %s=%v (%v), want the default window %s", config.EnvRevocationWindow, e[config.EnvRevocationWindow], err, config.DefaultRevocationWindow)
	}
	wantTTL, refresh := config.RevocationSplit(window)
	if ttl != wantTTL || ttl+refresh > time.Minute || ttl == 0 {
		t.Errorf("authorizer result TTL %s + key refresh %s: want %s and a sum within 60 s", ttl, refresh, wantTTL)
	}
}

func TestCORSOnlyWhenAsked(t *testing.T) {
	x := synth(t, variantCtx)
	check(t, "an email subscription for the alarm topic", func() {
		x.tmpl.HasResourceProperties(str("AWS::SNS::Subscription"), obj(map[string]any{
			"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": ref(x.logicalID(x.s.AlarmTopic)),
		}))
	})
	check(t, "CORS for the configured origins", func() {
		x.tmpl.HasResourceProperties(str("AWS::ApiGatewayV2::Api"), obj(map[string]any{
			"CorsConfiguration": assertions.Match_ObjectLike(obj(map[string]any{
				"AllowOrigins": list("https://app.example", "https://b.example"),
				"AllowHeaders": list(HeaderKeyID, HeaderSecretKey),
			})),
		}))
	})
}

func TestServerlessCache(t *testing.T) {
	x := synth(t, nil)
	var isolated []any
	for _, sn := range *x.s.Vpc.IsolatedSubnets() {
		isolated = append(isolated, ref(x.logicalID(sn)))
	}
	check(t, "one Valkey serverless cache and no replication group", func() {
		x.tmpl.ResourceCountIs(str("AWS::ElastiCache::ServerlessCache"), num(1))
		x.tmpl.ResourceCountIs(str("AWS::ElastiCache::ReplicationGroup"), num(0))
		x.tmpl.HasResourceProperties(str("AWS::ElastiCache::ServerlessCache"), obj(map[string]any{
			"Engine":           "valkey",
			"SubnetIds":        &isolated,
			"SecurityGroupIds": list(getAtt(x.logicalID(x.s.RedisSG), "GroupId")),
		}))
	})
	check(t, "no AUTH secret in serverless mode", func() {
		x.tmpl.ResourceCountIs(str("AWS::SecretsManager::Secret"), num(2))
	})
}

func TestReplicationGroup(t *testing.T) {
	x := synth(t, replicationCtx)
	token := x.logicalID(x.s.RedisAuthSecret)
	check(t, "a cluster-mode replication group and no serverless cache", func() {
		x.tmpl.ResourceCountIs(str("AWS::ElastiCache::ServerlessCache"), num(0))
		x.tmpl.ResourceCountIs(str("AWS::ElastiCache::ReplicationGroup"), num(1))
		x.tmpl.HasResourceProperties(str("AWS::ElastiCache::ReplicationGroup"), obj(map[string]any{
			"Engine":                   "valkey",
			"ClusterMode":              "enabled",
			"NumNodeGroups":            3,
			"ReplicasPerNodeGroup":     2,
			"AutomaticFailoverEnabled": true,
			"MultiAZEnabled":           true,
			"TransitEncryptionEnabled": true,
			"AtRestEncryptionEnabled":  true,
			"Port":                     RedisPort,
			"SecurityGroupIds":         list(getAtt(x.logicalID(x.s.RedisSG), "GroupId")),
		}))
	})
	var rg map[string]any
	for _, r := range x.resources("AWS::ElastiCache::ReplicationGroup") {
		rg = r["Properties"].(map[string]any)
	}
	auth := literal(rg["AuthToken"])
	if !strings.HasPrefix(auth, "{{resolve:secretsmanager:") || !strings.HasSuffix(auth, ":SecretString:"+RedisAuthKey+"::}}") ||
		!strings.Contains(fmt.Sprint(rg["AuthToken"]), token) {
		t.Errorf("AuthToken = %v, want a dynamic reference to the %q key of %s", rg["AuthToken"], RedisAuthKey, token)
	}
	check(t, "the AUTH token secret is {\"password\": …}", func() {
		x.tmpl.HasResourceProperties(str("AWS::SecretsManager::Secret"), obj(map[string]any{
			"GenerateSecretString": assertions.Match_ObjectLike(obj(map[string]any{
				"SecretStringTemplate": "{}", "GenerateStringKey": RedisAuthKey,
			})),
		}))
	})
	for _, fn := range []awslambda.Function{x.s.API, x.s.Prefetch} {
		e := env(t, x, fn)
		if !same(e[config.EnvRedisAuthARN], ref(token)) {
			t.Errorf("%s %s = %v, want %s", x.logicalID(fn), config.EnvRedisAuthARN, e[config.EnvRedisAuthARN], token)
		}
		if !strings.HasPrefix(literal(e[config.EnvRedisURL]), "rediss://") {
			t.Errorf("%s REDIS_URL = %v, want TLS", x.logicalID(fn), e[config.EnvRedisURL])
		}
	}
	if e := env(t, x, x.s.Authorizer); e[config.EnvRedisAuthARN] != nil || e[config.EnvRedisURL] != nil {
		t.Errorf("authorizer environment %v must not reach Redis", e)
	}
}

func TestNetworkIsPrivate(t *testing.T) {
	x := synth(t, nil)
	check(t, "natGateways=2 gives one NAT gateway per AZ", func() {
		synth(t, variantCtx).tmpl.ResourceCountIs(str("AWS::EC2::NatGateway"), num(2))
	})
	check(t, "one VPC, flow logs, one NAT gateway, six subnets", func() {
		x.tmpl.ResourceCountIs(str("AWS::EC2::VPC"), num(1))
		x.tmpl.ResourceCountIs(str("AWS::EC2::FlowLog"), num(1))
		x.tmpl.ResourceCountIs(str("AWS::EC2::NatGateway"), num(1))
		x.tmpl.ResourceCountIs(str("AWS::EC2::Subnet"), num(6))
	})
	for _, sn := range append(*x.s.Vpc.PrivateSubnets(), *x.s.Vpc.IsolatedSubnets()...) {
		if p := x.props(t, x.logicalID(sn)); p["MapPublicIpOnLaunch"] != false {
			t.Errorf("subnet %s MapPublicIpOnLaunch = %v, want false", x.logicalID(sn), p["MapPublicIpOnLaunch"])
		}
	}

	redisSG, functionsSG := x.logicalID(x.s.RedisSG), x.logicalID(x.s.FunctionsSG)
	hubSG, lbSG := x.logicalID(x.s.HubSG), x.logicalID(x.s.hubLBSG)
	var ingress []map[string]any // every ingress rule, standalone or inline
	for _, r := range x.resources("AWS::EC2::SecurityGroupIngress") {
		ingress = append(ingress, r["Properties"].(map[string]any))
	}
	for id, r := range x.resources("AWS::EC2::SecurityGroup") {
		for _, rule := range asList(r["Properties"].(map[string]any)["SecurityGroupIngress"]) {
			rule := rule.(map[string]any)
			rule["GroupId"] = getAtt(id, "GroupId")
			ingress = append(ingress, rule)
		}
	}
	// Exactly: the functions and the hub to Redis, the load balancer to the
	// hub, and clients from anywhere to the load balancer's listener only.
	type allowed struct {
		into, from string
		port       int
	}
	want := map[allowed]bool{{redisSG, functionsSG, RedisPort}: true, {redisSG, hubSG, RedisPort}: true,
		{hubSG, lbSG, HubPort}: true, {lbSG, "0.0.0.0/0", 80}: true}
	if len(ingress) != len(want) {
		t.Errorf("ingress rules = %v, want exactly %d", ingress, len(want))
	}
	for _, rule := range ingress {
		from, _ := rule["CidrIp"].(string)
		if g, ok := rule["SourceSecurityGroupId"].(map[string]any); ok {
			from = g["Fn::GetAtt"].([]any)[0].(string)
		}
		into := rule["GroupId"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		port, _ := rule["FromPort"].(float64)
		if rule["CidrIpv6"] != nil || rule["IpProtocol"] != "tcp" || !same(rule["ToPort"], rule["FromPort"]) ||
			!want[allowed{into, from, int(port)}] {
			t.Errorf("ingress rule %v is not one of %v", rule, want)
		}
	}
	// Only api, prefetch and the hub may open connections to Redis.
	for _, r := range x.resources("AWS::EC2::SecurityGroupEgress") {
		p := r["Properties"].(map[string]any)
		if same(p["DestinationSecurityGroupId"], getAtt(redisSG, "GroupId")) &&
			!same(p["GroupId"], getAtt(functionsSG, "GroupId")) && !same(p["GroupId"], getAtt(hubSG, "GroupId")) {
			t.Errorf("egress to Redis from %v", p["GroupId"])
		}
	}
}

// statement is one IAM policy statement with the role it belongs to.
type statement struct {
	role      string
	actions   []string
	resources []any
}

func statements(t *testing.T, x *synthesized) []statement {
	t.Helper()
	var out []statement
	add := func(roles []any, doc any) {
		for _, st := range asList(doc.(map[string]any)["Statement"]) {
			st := st.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			var actions []string
			for _, a := range asList(st["Action"]) {
				actions = append(actions, a.(string))
			}
			for _, role := range roles {
				name, _ := role.(map[string]any)["Ref"].(string)
				out = append(out, statement{role: name, actions: actions, resources: asList(st["Resource"])})
			}
		}
	}
	for _, r := range x.resources("AWS::IAM::Policy") {
		p := r["Properties"].(map[string]any)
		add(asList(p["Roles"]), p["PolicyDocument"])
	}
	for id, r := range x.resources("AWS::IAM::Role") {
		for _, pol := range asList(r["Properties"].(map[string]any)["Policies"]) {
			add([]any{ref(id)}, pol.(map[string]any)["PolicyDocument"])
		}
	}
	return out
}

func TestIAMIsLeastPrivilege(t *testing.T) {
	for _, ctx := range []map[string]any{nil, replicationCtx} {
		x := synth(t, ctx)
		// Actions AWS grants on Resource "*" only.
		starOnly := map[string]bool{"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true,
			"ecr:GetAuthorizationToken": true} // the hub's image pull

		for _, a := range vpcNetworkingActions {
			starOnly[a] = true
		}
		secretsOf := map[string][]string{} // role -> secret logical IDs it may read
		for _, st := range statements(t, x) {
			for _, a := range st.actions {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("role %s: wildcard action %q", st.role, a)
				}
			}
			for _, r := range st.resources {
				if r != "*" {
					continue
				}
				for _, a := range st.actions {
					if !starOnly[a] {
						t.Errorf("role %s: %q on Resource \"*\"", st.role, a)
					}
				}
			}
			if slices.ContainsFunc(st.actions, func(a string) bool { return strings.HasPrefix(a, "secretsmanager:") }) {
				for _, r := range st.resources {
					id, _ := r.(map[string]any)["Ref"].(string)
					secretsOf[st.role] = append(secretsOf[st.role], id)
				}
			}
		}
		roleOf := func(fn awslambda.Function) string {
			return x.props(t, x.logicalID(fn))["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		}
		origin := []string{x.logicalID(x.s.AlpacaSecret)}
		if x.s.RedisAuthSecret != nil {
			origin = append(origin, x.logicalID(x.s.RedisAuthSecret))
		}
		for name, tc := range map[string]struct {
			fn   awslambda.Function
			want []string
		}{
			"api":        {x.s.API, origin},
			"prefetch":   {x.s.Prefetch, origin},
			"authorizer": {x.s.Authorizer, []string{x.logicalID(x.s.ClientKeysSecret)}},
		} {
			got := secretsOf[roleOf(tc.fn)]
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%v: %s reads secrets %v, want exactly %v", ctx, name, got, want)
			}
		}
		hubReads := secretsOf[x.logicalID(x.s.hubTaskDef.TaskRole())]
		hubWants := append(slices.Clone(origin), x.logicalID(x.s.ClientKeysSecret))
		slices.Sort(hubReads)
		slices.Sort(hubWants)
		if !slices.Equal(hubReads, hubWants) {
			t.Errorf("%v: the hub reads secrets %v, want exactly %v", ctx, hubReads, hubWants)
		}
		roles := map[string]bool{}
		for _, fn := range []awslambda.Function{x.s.API, x.s.Prefetch, x.s.Authorizer} {
			roles[roleOf(fn)] = true
		}
		if len(roles) != 3 {
			t.Errorf("functions share roles: %v", roles)
		}
		check(t, "no AWS managed policies on the functions' roles", func() {
			for role := range roles {
				if p := x.props(t, role); p["ManagedPolicyArns"] != nil {
					panic(fmt.Sprintf("role %s has managed policies %v", role, p["ManagedPolicyArns"]))
				}
			}
		})
	}
}

// metricsIn returns the metrics of the service's namespace an alarm
// reads, as MetricName -> sorted dimension names, and its Metrics Insights
// queries.
func metricsIn(alarm map[string]any) (map[string][]string, []string) {
	named := map[string][]string{}
	var queries []string
	for _, q := range asList(alarm["Metrics"]) {
		q := q.(map[string]any)
		if e, ok := q["Expression"].(string); ok && strings.HasPrefix(e, "SELECT") {
			queries = append(queries, e)
		}
		stat, ok := q["MetricStat"].(map[string]any)
		if !ok {
			continue
		}
		m := stat["Metric"].(map[string]any)
		if m["Namespace"] != metrics.Namespace {
			continue
		}
		var dims []string
		for _, d := range asList(m["Dimensions"]) {
			dims = append(dims, d.(map[string]any)["Name"].(string))
		}
		slices.Sort(dims)
		named[m["MetricName"].(string)] = dims
	}
	return named, queries
}

// published reports whether metric is published with exactly these
// dimension names (in any order).
func published(metric string, dims []string) bool {
	if hubMetrics[metric] {
		return slices.Equal(dims, []string{"Service"}) // stream.EMFWriter
	}
	for _, set := range metrics.DimensionSets(metric) {
		set = slices.Clone(set)
		slices.Sort(set)
		if slices.Equal(set, dims) {
			return true
		}
	}
	return false
}

// hubMetrics are the stream hub's metrics (shared/stream).
var hubMetrics = map[string]bool{
	stream.MetricUpstreamConnected: true, stream.MetricUpstreamDrops: true, stream.MetricUpstreamErrors: true,
	stream.MetricUpstreamSymbols: true, stream.MetricUpstreamLag: true, stream.MetricMessages: true,
	stream.MetricL2Writes: true, stream.MetricClients: true, stream.MetricSlowClients: true,
}

func TestAlarms(t *testing.T) {
	x := synth(t, nil)
	topic := ref(x.logicalID(x.s.AlarmTopic))
	// Eleven, one latency alarm per ten cached routes, and the hub's four.
	alarms := 11 + (len(cachedPaths())+9)/10 + 4
	check(t, "every alarm notifying the topic", func() {
		x.tmpl.ResourceCountIs(str("AWS::CloudWatch::Alarm"), num(float64(alarms)))
		x.tmpl.AllResourcesProperties(str("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"AlarmActions": list(topic),
			"OKActions":    list(topic),
		}))
	})
	// Quiet without data, but for the hub's upstream alarm: no hub reporting
	// is the incident it watches for.
	for id, a := range x.resources("AWS::CloudWatch::Alarm") {
		p := a["Properties"].(map[string]any)
		want := "notBreaching"
		if p["MetricName"] == "HubUpstreamConnected" {
			want = "breaching"
		}
		if p["TreatMissingData"] != want {
			t.Errorf("alarm %s treats missing data as %v, want %s", id, p["TreatMissingData"], want)
		}
	}
	byID := map[string]map[string]any{}
	for _, a := range x.s.Alarms {
		byID[*a.Node().Id()] = x.props(t, x.logicalID(a))
	}
	// Every metric of the service's namespace an alarm reads is published
	// with exactly the dimensions the alarm names.
	for id, a := range byID {
		named, _ := metricsIn(a)
		for m, dims := range named {
			if !published(m, dims) {
				t.Errorf("alarm %s reads %s by %v, which the functions never publish (metrics.DimensionSets: %v)",
					id, m, dims, metrics.DimensionSets(m))
			}
		}
	}

	var routes []string
	for id, lat := range byID {
		if strings.HasPrefix(id, "CachedLatencyP95") {
			routes = append(routes, latencyAlarmRoutes(t, lat)...)
		}
	}
	slices.Sort(routes)
	want := cachedPaths()
	slices.Sort(want)
	if !slices.Equal(routes, want) {
		t.Errorf("latency alarm routes %v, want the data routes %v", routes, want)
	}

	hit := byID["HitRate"]
	named, _ := metricsIn(hit)
	if _, ok := named[metrics.CacheRequests]; !ok || len(named) != 1 {
		t.Errorf("hit-rate alarm reads %v, want %s only", named, metrics.CacheRequests)
	}
	if !same(hit["Threshold"], HitRateMinPercent) || hit["ComparisonOperator"] != "LessThanThreshold" {
		t.Errorf("hit-rate alarm %v %v, want < %d", hit["ComparisonOperator"], hit["Threshold"], HitRateMinPercent)
	}
	layers := map[string]bool{}
	for _, q := range asList(hit["Metrics"]) {
		if stat, ok := q.(map[string]any)["MetricStat"].(map[string]any); ok {
			for _, d := range asList(stat["Metric"].(map[string]any)["Dimensions"]) {
				if d := d.(map[string]any); d["Name"] == metrics.DimLayer {
					layers[d["Value"].(string)] = true
				}
			}
		}
	}
	if !same(layers, map[string]bool{metrics.L1.String(): true, metrics.L2.String(): true}) {
		t.Errorf("hit-rate alarm layers %v, want the cache's l1 and l2", layers)
	}

	for id, results := range map[string][]string{
		"OriginFailures":           {metrics.UpstreamServerError.String(), metrics.UpstreamTimeout.String(), metrics.UpstreamNetwork.String()},
		"OriginRateLimited":        {metrics.UpstreamRateLimited.String()},
		"OriginCredentialsRefused": {metrics.UpstreamCredentialsRefused.String()},
	} {
		checkUpstreamAlarm(t, id, byID[id], results)
	}
	if a := byID["OriginCredentialsRefused"]; !same(a["Threshold"], 1) || a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" ||
		!same(a["EvaluationPeriods"], 1) || !same(a["DatapointsToAlarm"], 1) {
		t.Errorf("OriginCredentialsRefused alarm %v %v over %v/%v, want >= 1 in 1 of 1 minute",
			a["ComparisonOperator"], a["Threshold"], a["DatapointsToAlarm"], a["EvaluationPeriods"])
	}

	for _, id := range []string{"ApiErrors", "PrefetchErrors", "AuthorizerErrors", "ApiThrottles", "PrefetchThrottles", "AuthorizerThrottles"} {
		a := byID[id]
		if a == nil || a["Namespace"] != "AWS/Lambda" {
			t.Errorf("%s alarm = %v, want one on AWS/Lambda", id, a)
		}
	}
	if a := byID["PrefetchDeadLetters"]; a == nil || a["Namespace"] != "AWS/SQS" {
		t.Errorf("PrefetchDeadLetters alarm = %v, want one on AWS/SQS", a)
	}
}

// checkUpstreamAlarm checks that alarm reads one Metrics Insights query
// summing UpstreamRequests, on a published dimension set, for results.
func checkUpstreamAlarm(t *testing.T, id string, alarm map[string]any, results []string) {
	t.Helper()
	_, queries := metricsIn(alarm)
	if len(queries) != 1 {
		t.Errorf("%s: queries %v, want one Metrics Insights query", id, queries)
		return
	}
	q := queries[0]
	_, schema, _ := strings.Cut(q, "SCHEMA(")
	schema, _, _ = strings.Cut(schema, ")")
	parts := strings.Split(schema, ", ")
	if parts[0] != `"`+metrics.Namespace+`"` {
		t.Errorf("%s query %q is not on namespace %s", id, q, metrics.Namespace)
	}
	dims := slices.Clone(parts[1:])
	slices.Sort(dims)
	if !published(metrics.UpstreamRequests, dims) {
		t.Errorf("%s query schema %v is not a published dimension set of %s", id, parts[1:], metrics.UpstreamRequests)
	}
	for _, want := range append([]string{"SUM(" + metrics.UpstreamRequests + ")"}, results...) {
		if !strings.Contains(q, want) {
			t.Errorf("%s query %q lacks %q", id, q, want)
		}
	}
}

func TestDashboard(t *testing.T) {
	x := synth(t, nil)
	check(t, "one dashboard", func() { x.tmpl.ResourceCountIs(str("AWS::CloudWatch::Dashboard"), num(1)) })
	body := literal(x.props(t, x.logicalID(x.s.Dashboard))["DashboardBody"])
	var doc struct {
		Widgets []json.RawMessage `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		// The body holds tokens (function names, the API id) joined in;
		// literal() drops their values, which keeps the JSON valid.
		t.Fatalf("dashboard body is not JSON: %v", err)
	}
	for _, want := range []string{
		metrics.Namespace,
		`MetricName=\"` + metrics.ApiLatency + `\"`, "'p50'", "'p95'", "'p99'",
		`MetricName=\"` + metrics.CacheRequests + `\"`, "hit rate",
		`MetricName=\"` + metrics.UpstreamRequests + `\"`, metrics.UpstreamRateLimited.String(),
		`MetricName=\"` + metrics.OriginBudgetLeft + `\"`,
		`MetricName=\"` + metrics.DataAge + `\"`,
		`MetricName=\"` + metrics.PrefetchedSymbols + `\"`,
		`"Duration"`, `"Throttles"`, `"ConcurrentExecutions"`,
		"alarm",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard body lacks %s", want)
		}
	}
	for _, layer := range CacheLayers {
		if !strings.Contains(body, fmt.Sprintf(`%s=\"%s\"`, metrics.DimLayer, layer)) {
			t.Errorf("dashboard has no hit rate for layer %s", layer)
		}
	}
	// Every SEARCH names a dimension set the functions publish: a SEARCH
	// schema matches metrics with exactly those dimensions.
	searches := regexp.MustCompile(`\{`+regexp.QuoteMeta(metrics.Namespace)+`,([^}]*)\} MetricName=\\"(\w+)\\"`).FindAllStringSubmatch(body, -1)
	if len(searches) < 10 {
		t.Errorf("dashboard has %d SEARCH expressions, want at least 10", len(searches))
	}
	for _, m := range searches {
		dims := strings.Split(m[1], ",")
		slices.Sort(dims)
		if !published(m[2], dims) {
			t.Errorf("dashboard searches %s by %v, which the functions never publish", m[2], dims)
		}
	}
}

func TestOutputs(t *testing.T) {
	x := synth(t, nil)
	for _, id := range []string{"ApiUrl", "DashboardUrl", "AlpacaSecretArn", "ClientKeysSecretArn", "PrefetchDeadLetterQueueUrl", "AlarmTopicArn"} {
		check(t, "output "+id, func() { x.tmpl.HasOutput(str(id), obj(map[string]any{"Value": assertions.Match_AnyValue()})) })
	}
	check(t, "secrets start as placeholders", func() {
		x.tmpl.HasResourceProperties(str("AWS::SecretsManager::Secret"), obj(map[string]any{
			"GenerateSecretString": map[string]any{
				"SecretStringTemplate": `{"key_id":"REPLACE_ME"}`,
				"GenerateStringKey":    "secret_key",
				"ExcludePunctuation":   true,
			},
		}))
		x.tmpl.HasResourceProperties(str("AWS::SecretsManager::Secret"), obj(map[string]any{"SecretString": `{"keys":[]}`}))
	})
}

// Each function ships the bootstrap from its own folder of the assets dir.
func TestAssetsComeFromTheAssetsDir(t *testing.T) {
	dir := t.TempDir()
	for _, name := range FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte("built "+name+" for linux/arm64"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	x := synthWith(t, map[string]any{"assetsDir": dir}, nil)
	for name, fn := range map[string]awslambda.Function{"api": x.s.API, "prefetch": x.s.Prefetch, "authorizer": x.s.Authorizer} {
		key, _ := x.props(t, x.logicalID(fn))["Code"].(map[string]any)["S3Key"].(string)
		hash, ok := strings.CutSuffix(key, ".zip")
		if !ok {
			t.Errorf("%s code S3Key = %q, want <hash>.zip", name, key)
			continue
		}
		got, err := os.ReadFile(filepath.Join(x.dir, "asset."+hash, "bootstrap"))
		if err != nil {
			t.Errorf("%s: staged asset: %v", name, err)
			continue
		}
		if want := "built " + name + " for linux/arm64"; string(got) != want {
			t.Errorf("%s ships %q, want %q", name, got, want)
		}
	}
}

// The routes are the catalog's (the README's route table) and one greedy
// pass-through route per version prefix; only /healthz is open.
func TestRoutesAreTheAPIs(t *testing.T) {
	want := catalog.Names()
	for _, p := range []string{"/v1/", "/v1beta1/", "/v1beta2/", "/v1beta3/", "/v2/"} {
		want = append(want, p+"{proxy+}")
	}
	var got, open []string
	for _, r := range Routes {
		got = append(got, r.Path)
		if !r.Authorized {
			open = append(open, r.Path)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes %v, want %v", got, want)
	}
	if !slices.Equal(open, []string{"/healthz"}) {
		t.Errorf("routes without the authorizer %v, want only /healthz", open)
	}
}

// cachedPaths are the catalog's cached routes, in catalog order.
func cachedPaths() []string {
	var out []string
	for _, r := range catalog.Routes {
		if r.Shape != catalog.Local {
			out = append(out, r.Path)
		}
	}
	return out
}

// latencyAlarmRoutes checks one latency alarm and returns the routes it
// reads.
func latencyAlarmRoutes(t *testing.T, lat map[string]any) []string {
	t.Helper()
	named, _ := metricsIn(lat)
	if _, ok := named[metrics.ApiLatency]; !ok || len(named) != 1 {
		t.Errorf("latency alarm reads %v, want %s only", named, metrics.ApiLatency)
	}
	if !same(lat["Threshold"], CachedLatencyP95MS) || lat["ComparisonOperator"] != "GreaterThanThreshold" {
		t.Errorf("latency alarm threshold %v %v, want > %d", lat["ComparisonOperator"], lat["Threshold"], CachedLatencyP95MS)
	}
	var routes []string
	metricsRead := 0
	for _, q := range asList(lat["Metrics"]) {
		stat, ok := q.(map[string]any)["MetricStat"].(map[string]any)
		if !ok {
			continue
		}
		metricsRead++
		if stat["Stat"] != "p95" {
			t.Errorf("latency alarm statistic %v, want p95", stat["Stat"])
		}
		for _, d := range asList(stat["Metric"].(map[string]any)["Dimensions"]) {
			switch d := d.(map[string]any); d["Name"] {
			case metrics.DimRoute:
				routes = append(routes, d["Value"].(string))
			case metrics.DimStatus:
				if d["Value"] != "200" {
					t.Errorf("latency alarm Status %v, want 200", d["Value"])
				}
			}
		}
	}
	if metricsRead > 10 {
		t.Errorf("latency alarm reads %d metrics: CloudWatch allows 10", metricsRead)
	}
	return routes
}
