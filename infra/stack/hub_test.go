package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// The stream hub runs as one arm64 Fargate task in the private subnets,
// built from hub/Dockerfile at deploy time, behind a load balancer that
// health-checks /healthz, reaching Redis, with its alarms and output.
func TestHubService(t *testing.T) {
	x := synth(t, nil)
	match := assertions.Match_ObjectLike
	check(t, "one service of one task, no public IP", func() {
		x.tmpl.ResourceCountIs(str("AWS::ECS::Service"), num(1))
		x.tmpl.HasResourceProperties(str("AWS::ECS::Service"), obj(map[string]any{
			"DesiredCount": 1, "LaunchType": "FARGATE",
			"NetworkConfiguration":    match(obj(map[string]any{"AwsvpcConfiguration": match(obj(map[string]any{"AssignPublicIp": "DISABLED"}))})),
			"DeploymentConfiguration": match(obj(map[string]any{"MinimumHealthyPercent": 100, "MaximumPercent": 200})),
		}))
	})
	check(t, "arm64 task with the stream settings", func() {
		x.tmpl.HasResourceProperties(str("AWS::ECS::TaskDefinition"), obj(map[string]any{
			"RuntimePlatform": map[string]any{"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},
			"Cpu":             "256", "Memory": "512",
			"ContainerDefinitions": assertions.Match_ArrayWith(list(match(obj(map[string]any{
				"Environment": assertions.Match_ArrayWith(list(
					// 75 % of the task's 512 MiB: the collector's soft limit.
					map[string]any{"Name": "GOMEMLIMIT", "Value": "402653184"},
					map[string]any{"Name": "STREAM_FEEDS", "Value": "v2/iex"},
					map[string]any{"Name": "STREAM_SYMBOL_LIMIT", "Value": "30"},
				)),
				"LogConfiguration": match(obj(map[string]any{"LogDriver": "awslogs"})),
			})))),
		}))
	})
	check(t, "health check on /healthz, port 8080", func() {
		x.tmpl.HasResourceProperties(str("AWS::ElasticLoadBalancingV2::TargetGroup"), obj(map[string]any{
			"HealthCheckPath": "/healthz", "Port": 8080, "TargetType": "ip",
		}))
	})
	check(t, "ws:// on 80 without a certificate", func() {
		x.tmpl.HasResourceProperties(str("AWS::ElasticLoadBalancingV2::Listener"), obj(map[string]any{"Port": 80, "Protocol": "HTTP"}))
		x.tmpl.HasResourceProperties(str("AWS::ElasticLoadBalancingV2::LoadBalancer"), obj(map[string]any{
			"Scheme":                 "internet-facing",
			"LoadBalancerAttributes": assertions.Match_ArrayWith(list(map[string]any{"Key": "idle_timeout.timeout_seconds", "Value": "3600"})),
		}))
	})
	check(t, "Redis open to the hub", func() {
		x.tmpl.HasResourceProperties(str("AWS::EC2::SecurityGroupIngress"), obj(map[string]any{
			"FromPort": RedisPort, "SourceSecurityGroupId": getAtt(x.logicalID(x.s.HubSG), "GroupId"),
		}))
	})
	check(t, "upstream-down alarm breaches on silence", func() {
		x.tmpl.HasResourceProperties(str("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"MetricName": "HubUpstreamConnected", "TreatMissingData": "breaching",
		}))
		for _, m := range []string{"HubUpstreamErrors", "HubUpstreamDrops", "HubUpstreamLagMs"} {
			x.tmpl.HasResourceProperties(str("AWS::CloudWatch::Alarm"), obj(map[string]any{"MetricName": m}))
		}
	})
	check(t, "HubUrl output", func() { x.tmpl.HasOutput(str("HubUrl"), obj(map[string]any{})) })
	assertHubImage(t, x.dir)
}

// assertHubImage checks the cloud assembly builds the hub image from
// hub/Dockerfile for linux/arm64, from go.mod, shared/ and hub/ alone.
func assertHubImage(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, StackName+".assets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		DockerImages map[string]struct {
			Source struct {
				Directory  string `json:"directory"`
				DockerFile string `json:"dockerFile"`
				Platform   string `json:"platform"`
			} `json:"source"`
		} `json:"dockerImages"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.DockerImages) != 1 {
		t.Fatalf("%d docker image assets, want 1", len(m.DockerImages))
	}
	for _, img := range m.DockerImages {
		if img.Source.DockerFile != HubDockerfile || img.Source.Platform != "linux/arm64" {
			t.Errorf("image source %+v", img.Source)
		}
		entries, err := os.ReadDir(filepath.Join(dir, img.Source.Directory))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if got := strings.Join(names, ","); got != "go.mod,go.sum,hub,shared" {
			t.Errorf("staged build context holds %s, want go.mod,go.sum,hub,shared", got)
		}
	}
}

// With a certificate the hub listens with TLS on 443; hubTasks=0 deploys
// no hub at all.
func TestHubTLSAndOff(t *testing.T) {
	const arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
	x := synth(t, map[string]any{"hubCertificateArn": arn})
	check(t, "wss:// on 443", func() {
		x.tmpl.HasResourceProperties(str("AWS::ElasticLoadBalancingV2::Listener"), obj(map[string]any{
			"Port": 443, "Protocol": "HTTPS", "Certificates": []any{map[string]any{"CertificateArn": arn}},
		}))
	})
	y := synth(t, map[string]any{"hubTasks": 0})
	check(t, "no hub", func() {
		y.tmpl.ResourceCountIs(str("AWS::ECS::Service"), num(0))
		y.tmpl.ResourceCountIs(str("AWS::ElasticLoadBalancingV2::LoadBalancer"), num(0))
	})
	if _, ok := y.json["Outputs"].(map[string]any)["HubUrl"]; ok {
		t.Error("HubUrl output without a hub")
	}
}

// A hub whose Dockerfile is not in the build context is refused at synth.
func TestHubContextValidated(t *testing.T) {
	_, err := FromContext(lookup(map[string]any{"assetsDir": assetsDir, "hubContextDir": t.TempDir()}))
	if err == nil || !strings.Contains(err.Error(), HubDockerfile) {
		t.Fatalf("FromContext with an empty hub context = %v, want an error naming %s", err, HubDockerfile)
	}
	if _, err := FromContext(lookup(map[string]any{"assetsDir": assetsDir, "hubContextDir": t.TempDir(), "hubTasks": 0})); err != nil {
		t.Fatalf("without a hub: %v", err)
	}
}
