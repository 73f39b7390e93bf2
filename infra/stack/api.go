package stack

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// Client key headers, the same two Alpaca uses.
const (
	HeaderKeyID     = "APCA-API-KEY-ID"
	HeaderSecretKey = "APCA-API-SECRET-KEY"
)

// accessLogFields is the JSON access log line of the stage: one object per
// request, keyed by field name, valued by API Gateway context variables.
var accessLogFields = map[string]string{
	"requestId":          "$context.requestId",
	"requestTime":        "$context.requestTimeEpoch",
	"ip":                 "$context.identity.sourceIp",
	"userAgent":          "$context.identity.userAgent",
	"routeKey":           "$context.routeKey",
	"path":               "$context.path",
	"status":             "$context.status",
	"protocol":           "$context.protocol",
	"responseLength":     "$context.responseLength",
	"responseLatency":    "$context.responseLatency",
	"integrationLatency": "$context.integrationLatency",
	"integrationError":   "$context.integrationErrorMessage",
	"authorizerError":    "$context.authorizer.error",
}

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings.
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

func (a *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination {
	return a.destination
}

func (a *accessLogSettings) Format() awsapigateway.AccessLogFormat { return a.format }

// api declares the HTTP API: one Lambda proxy integration (payload 2.0) for
// every route, the client-key authorizer on all of them but /healthz, stage
// throttling, JSON access logs, and CORS only when corsOrigins is set.
func (s *Stack) api() {
	cfg := s.Config
	s.HTTPAPI = awsapigatewayv2.NewHttpApi(s.Stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("opitios-alpaca: Alpaca Market Data compatible, cached"),
		CreateDefaultStage: jsii.Bool(false),
		CorsPreflight:      corsOptions(cfg.CORSOrigins),
	})

	accessLogs := awslogs.NewLogGroup(s.Stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     retentionDays[cfg.LogRetentionDays],
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	format, err := json.Marshal(accessLogFields)
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	s.Stage = awsapigatewayv2.NewHttpStage(s.Stack, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    s.HTTPAPI,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(float64(cfg.ThrottleRateLimit)),
			BurstLimit: jsii.Number(float64(cfg.ThrottleBurstLimit)),
		},
		AccessLogSettings: &accessLogSettings{
			destination: awsapigatewayv2.NewLogGroupLogDestination(accessLogs),
			format:      awsapigateway.AccessLogFormat_Custom(jsii.String(string(format))),
		},
	})

	authorizer := s.clientKeysAuthorizer()

	var handler awslambda.IFunction = s.API
	if s.APIAlias != nil {
		handler = s.APIAlias
	}
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Api"), handler,
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
			PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
		})
	for _, r := range Routes {
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
			Integration: integration,
		}
		if r.Authorized {
			opts.Authorizer = authorizer
		}
		routes := s.HTTPAPI.AddRoutes(opts)
		if !r.Authorized {
			s.publicRoutes = append(s.publicRoutes, *routes...)
		}
	}
}

// corsOptions is the CORS preflight for the comma-separated origins, or nil
// (no CORS) when there are none.
func corsOptions(list string) *awsapigatewayv2.CorsPreflightOptions {
	var origins []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	if len(origins) == 0 {
		return nil
	}
	return &awsapigatewayv2.CorsPreflightOptions{
		AllowOrigins:  jsii.Strings(origins...),
		AllowMethods:  &[]awsapigatewayv2.CorsHttpMethod{awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_OPTIONS},
		AllowHeaders:  jsii.Strings(HeaderKeyID, HeaderSecretKey),
		ExposeHeaders: jsii.Strings("X-Cache", "X-Data-Source", "Age", "X-Market-Session", "Retry-After"),
		MaxAge:        awscdk.Duration_Hours(jsii.Number(1)),
	}
}

// clientKeysAuthorizer is the Lambda authorizer on both key headers, with
// simple responses, whose verdicts API Gateway caches for the result TTL of
// the revocation window (config.RevocationSplit): the authorizer's own
// refresh of the key list takes the rest of the window.
func (s *Stack) clientKeysAuthorizer() awsapigatewayv2.IHttpRouteAuthorizer {
	resultTTL, _ := config.RevocationSplit(time.Duration(s.Config.RevocationWindowSeconds) * time.Second)
	return awsapigatewayv2authorizers.NewHttpLambdaAuthorizer(jsii.String("ClientKeys"), s.Authorizer,
		&awsapigatewayv2authorizers.HttpLambdaAuthorizerProps{
			AuthorizerName:  jsii.String("client-keys"),
			ResponseTypes:   &[]awsapigatewayv2authorizers.HttpLambdaResponseType{awsapigatewayv2authorizers.HttpLambdaResponseType_SIMPLE},
			IdentitySource:  jsii.Strings("$request.header."+HeaderKeyID, "$request.header."+HeaderSecretKey),
			ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(resultTTL.Seconds())),
		})
}
