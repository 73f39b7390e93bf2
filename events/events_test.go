// Package events_test checks the sample events in this folder: each one
// decodes strictly into the aws-lambda-go struct of its kind, has the fields
// and the internal consistency of what API Gateway (HTTP API, payload 2.0)
// and EventBridge send, and gets the expected answer from the real handler.
//
// File names carry the kind and the expectation:
//
//	api-<case>-<status>.json   an HTTP API request for functions/api; the
//	                           handler must answer <status>
//	authorizer-allow.json,     a Lambda authorizer request (REQUEST type,
//	authorizer-deny.json       payload 2.0, simple responses)
//	prefetch-<case>.json       an EventBridge scheduled event for
//	                           functions/prefetch
//
// The api events run through the handler functions/api starts
// (service.New + APIHandler) with the Alpaca simulator as its origin and a
// private redis-server as L2, both at the fixed instant Now.
package events_test

import (
	samplesPkg "github.com/opitios/opitios-alpaca/events"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/redistest"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// Now is the instant the samples were taken at: Black Friday 2026, 10:00 in
// New York, in the regular session of an early-close day. The option
// contracts in the samples are listed by the simulator on that date.
var Now = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

// The client key the samples carry, and the secret of authorizer-allow.json.
const (
	sampleKeyID  = "client-7f3a"
	sampleSecret = "oK9vX2mQ4tL8rW1zB6nC3yH5jD0fG7sA"
)

// requestTimeLayout is API Gateway's requestContext.time format.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// sample is one file of this folder.
type sample = samplesPkg.Sample

func samples(t *testing.T) []sample {
	t.Helper()
	out, err := samplesPkg.Matching("*.json")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// requireKeys fails unless the JSON object raw has every key of keys (at
// the dotted path), whatever their values: a missing key and a zero value
// decode alike, and API Gateway always sends these.
func requireKeys(t *testing.T, raw []byte, path string, keys ...string) {
	t.Helper()
	obj := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatalf("%s: not a JSON object: %v", path, err)
	}
	for _, k := range keys {
		head, rest, nested := strings.Cut(k, ".")
		v, ok := obj[head]
		switch {
		case !ok:
			t.Errorf("%s: missing %q", path, head)
		case nested:
			requireKeys(t, v, path+"."+head, rest)
		}
	}
}

func TestEveryFileIsAKnownKind(t *testing.T) {
	for _, s := range samples(t) {
		_, isAPI := samplesPkg.ExpectedStatus(s.Name)
		switch {
		case isAPI, s.Name == "authorizer-allow.json", s.Name == "authorizer-deny.json",
			strings.HasPrefix(s.Name, "prefetch-"):
		default:
			t.Errorf("%s: not a known kind: name it api-<case>-<status>.json, authorizer-allow.json, authorizer-deny.json or prefetch-<case>.json", s.Name)
		}
	}
}

// httpContextKeys are the requestContext keys API Gateway always sends.
var httpContextKeys = []string{"requestContext.accountId", "requestContext.apiId", "requestContext.domainName",
	"requestContext.domainPrefix", "requestContext.requestId", "requestContext.routeKey", "requestContext.stage",
	"requestContext.time", "requestContext.timeEpoch", "requestContext.http.method", "requestContext.http.path",
	"requestContext.http.protocol", "requestContext.http.sourceIp", "requestContext.http.userAgent"}

// checkRequest checks what the API request and the authorizer request have
// in common: the request context, the headers, the query and path
// parameters, each against the others, as API Gateway fills them.
func checkRequest(t *testing.T, routeKey, rawPath, rawQuery string, headers, qsp, pathParams map[string]string, rc events.APIGatewayV2HTTPRequestContext) {
	t.Helper()
	if rc.RouteKey != routeKey {
		t.Errorf("requestContext.routeKey %q != routeKey %q", rc.RouteKey, routeKey)
	}
	if rc.Stage != "$default" {
		t.Errorf("stage %q, want $default", rc.Stage)
	}
	if !regexp.MustCompile(`^[0-9]{12}$`).MatchString(rc.AccountID) {
		t.Errorf("accountId %q is not 12 digits", rc.AccountID)
	}
	if rc.APIID == "" || rc.DomainPrefix != rc.APIID ||
		!regexp.MustCompile(`^`+regexp.QuoteMeta(rc.APIID)+`\.execute-api\.[a-z0-9-]+\.amazonaws\.com$`).MatchString(rc.DomainName) {
		t.Errorf("apiId %q, domainPrefix %q, domainName %q do not agree", rc.APIID, rc.DomainPrefix, rc.DomainName)
	}
	if rc.RequestID == "" {
		t.Error("requestContext.requestId is empty")
	}
	at, err := time.Parse(requestTimeLayout, rc.Time)
	if err != nil {
		t.Errorf("requestContext.time %q: %v", rc.Time, err)
	} else if at.Unix() != rc.TimeEpoch/1000 {
		t.Errorf("requestContext.time %s and timeEpoch %d differ", rc.Time, rc.TimeEpoch)
	}
	h := rc.HTTP
	if h.Path != rawPath {
		t.Errorf("requestContext.http.path %q != rawPath %q", h.Path, rawPath)
	}
	if h.Method == "" || h.Method != strings.ToUpper(h.Method) || h.Protocol != "HTTP/1.1" || net.ParseIP(h.SourceIP) == nil {
		t.Errorf("requestContext.http %+v: method, protocol or sourceIp malformed", h)
	}
	for k := range headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower-case, as API Gateway delivers headers", k)
		}
	}
	if headers["host"] != rc.DomainName || headers["user-agent"] != h.UserAgent || headers["x-forwarded-for"] != h.SourceIP {
		t.Errorf("host, user-agent or x-forwarded-for headers disagree with requestContext")
	}

	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Errorf("rawQueryString %q: %v", rawQuery, err)
	}
	want := map[string]string{}
	for k, v := range vals {
		want[k] = strings.Join(v, ",") // API Gateway joins repeated names with commas
	}
	if len(want) == 0 {
		want = nil
	}
	if fmt.Sprint(qsp) != fmt.Sprint(want) {
		t.Errorf("queryStringParameters %v, but rawQueryString %q decodes to %v", qsp, rawQuery, want)
	}

	wantParams := map[string]string(nil)
	if routeKey != "$default" {
		method, tmpl, ok := strings.Cut(routeKey, " ")
		if !ok || method != h.Method {
			t.Errorf("routeKey %q does not start with the method %s", routeKey, h.Method)
		}
		var matched bool
		wantParams, matched = matchTemplate(tmpl, rawPath)
		if !matched {
			t.Errorf("rawPath %q does not match the route %q", rawPath, tmpl)
		}
		if !slices.Contains(catalog.Templates(), tmpl) {
			t.Errorf("route %q is not one of the catalog's templates", tmpl)
		}
	}
	if fmt.Sprint(pathParams) != fmt.Sprint(wantParams) {
		t.Errorf("pathParameters %v, want %v from route %q", pathParams, wantParams, routeKey)
	}
}

// matchTemplate matches a path against a route template with {name}
// segments and returns the parameters (nil when there are none).
func matchTemplate(tmpl, path string) (map[string]string, bool) {
	if prefix, ok := strings.CutSuffix(tmpl, "{proxy+}"); ok {
		rest, found := strings.CutPrefix(path, prefix)
		return map[string]string{"proxy": rest}, found && rest != ""
	}
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return nil, false
	}
	var params map[string]string
	for i, seg := range ts {
		if name, ok := strings.CutPrefix(seg, "{"); ok && strings.HasSuffix(name, "}") {
			if params == nil {
				params = map[string]string{}
			}
			params[strings.TrimSuffix(name, "}")] = ps[i]
			continue
		}
		if seg != ps[i] {
			return nil, false
		}
	}
	return params, true
}

func decodeAPI(t *testing.T, s sample) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if err := samplesPkg.DecodeStrict(s.Raw, &ev); err != nil {
		t.Fatalf("%s: does not decode into events.APIGatewayV2HTTPRequest: %v", s.Name, err)
	}
	return ev
}

func TestAPIEventsHaveTheShapeAPIGatewaySends(t *testing.T) {
	covered := map[string]bool{}
	for _, s := range samples(t) {
		if _, ok := samplesPkg.ExpectedStatus(s.Name); !ok {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			ev := decodeAPI(t, s)
			requireKeys(t, s.Raw, "event", append([]string{"version", "routeKey", "rawPath", "rawQueryString",
				"headers", "isBase64Encoded"}, httpContextKeys...)...)
			if ev.Version != "2.0" {
				t.Errorf("version %q, want 2.0", ev.Version)
			}
			if ev.IsBase64Encoded {
				t.Error("isBase64Encoded is true; the samples carry text bodies")
			}
			checkRequest(t, ev.RouteKey, ev.RawPath, ev.RawQueryString, ev.Headers, ev.QueryStringParameters, ev.PathParameters, ev.RequestContext)
			if (ev.Body != "") != (ev.RequestContext.HTTP.Method == "POST") {
				t.Errorf("a %s request with body %q", ev.RequestContext.HTTP.Method, ev.Body)
			}
			if ev.Body != "" && ev.Headers["content-length"] != strconv.Itoa(len(ev.Body)) {
				t.Errorf("content-length %q for a body of %d bytes", ev.Headers["content-length"], len(ev.Body))
			}

			// Every route but /healthz is behind the Lambda authorizer,
			// which puts the key id into the context.
			public := ev.RawPath == catalog.PathHealth
			a := ev.RequestContext.Authorizer
			switch {
			case public && a != nil:
				t.Error("/healthz has no authorizer, but the event carries requestContext.authorizer")
			case !public && (a == nil || a.Lambda["key_id"] != ev.Headers["apca-api-key-id"] || ev.Headers["apca-api-key-id"] == ""):
				t.Errorf("requestContext.authorizer %+v does not carry the apca-api-key-id header as key_id", a)
			case !public && ev.Headers["apca-api-secret-key"] == "":
				t.Error("missing the apca-api-secret-key header the authorizer checked")
			}
			if ev.RouteKey != "$default" {
				covered[strings.TrimPrefix(ev.RouteKey, "GET ")] = true
			}
		})
	}
	for _, r := range catalog.Templates() {
		if !covered[r] {
			t.Errorf("no api-*.json sample for route %s", r)
		}
	}
}

func decodeAuthorizer(t *testing.T, s sample) events.APIGatewayV2CustomAuthorizerV2Request {
	t.Helper()
	var ev events.APIGatewayV2CustomAuthorizerV2Request
	if err := samplesPkg.DecodeStrict(s.Raw, &ev); err != nil {
		t.Fatalf("%s: does not decode into events.APIGatewayV2CustomAuthorizerV2Request: %v", s.Name, err)
	}
	return ev
}

func TestAuthorizerEventsHaveTheShapeAPIGatewaySends(t *testing.T) {
	found := 0
	for _, s := range samples(t) {
		if !strings.HasPrefix(s.Name, "authorizer-") {
			continue
		}
		found++
		t.Run(s.Name, func(t *testing.T) {
			ev := decodeAuthorizer(t, s)
			requireKeys(t, s.Raw, "event", append([]string{"version", "type", "routeArn", "identitySource", "routeKey",
				"rawPath", "rawQueryString", "headers"}, httpContextKeys...)...)
			if ev.Version != "2.0" || ev.Type != "REQUEST" {
				t.Errorf("version %q type %q, want 2.0 REQUEST", ev.Version, ev.Type)
			}
			rc := ev.RequestContext
			checkRequest(t, ev.RouteKey, ev.RawPath, ev.RawQueryString, ev.Headers, ev.QueryStringParameters, ev.PathParameters, rc)
			if rc.Authorizer != nil {
				t.Error("an authorizer request carries requestContext.authorizer")
			}
			region := strings.TrimSuffix(strings.TrimPrefix(rc.DomainName, rc.APIID+".execute-api."), ".amazonaws.com")
			wantArn := fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s%s", region, rc.AccountID, rc.APIID, rc.Stage, rc.HTTP.Method, ev.RawPath)
			if ev.RouteArn != wantArn {
				t.Errorf("routeArn %q, want %q", ev.RouteArn, wantArn)
			}
			// The stack's identity source is the two headers, in this order.
			want := []string{ev.Headers["apca-api-key-id"], ev.Headers["apca-api-secret-key"]}
			if !slices.Equal(ev.IdentitySource, want) || want[0] == "" || want[1] == "" {
				t.Errorf("identitySource %q, want the two key headers %q", ev.IdentitySource, want)
			}
		})
	}
	if found != 2 {
		t.Errorf("%d authorizer samples, want authorizer-allow.json and authorizer-deny.json", found)
	}
}

func TestAuthorizerEventsGetTheirVerdict(t *testing.T) {
	store, err := auth.NewKeyStore([]auth.HashedKey{{ID: sampleKeyID, SHA256: auth.HashSecret(sampleSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	a := auth.NewAuthorizer(func(context.Context) (*auth.KeyStore, error) { return store, nil }, nil)
	for name, want := range map[string]string{
		"authorizer-allow.json": `{"isAuthorized":true,"context":{"key_id":"` + sampleKeyID + `"}}`,
		"authorizer-deny.json":  `{"isAuthorized":false}`,
	} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := a.Handle(context.Background(), decodeAuthorizer(t, sample{name, raw}))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := json.Marshal(resp)
		if string(got) != want {
			t.Errorf("%s: answer %s, want %s", name, got, want)
		}
	}
}

func TestPrefetchEventsHaveTheShapeEventBridgeSends(t *testing.T) {
	for _, s := range samples(t) {
		if !strings.HasPrefix(s.Name, "prefetch-") {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			var ev events.EventBridgeEvent
			if err := samplesPkg.DecodeStrict(s.Raw, &ev); err != nil {
				t.Fatalf("does not decode into events.EventBridgeEvent: %v", err)
			}
			requireKeys(t, s.Raw, "event", "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
			if ev.Version != "0" || ev.ID == "" || ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" {
				t.Errorf("version %q id %q detail-type %q source %q: not a scheduled event of an EventBridge rule",
					ev.Version, ev.ID, ev.DetailType, ev.Source)
			}
			if !regexp.MustCompile(`^[0-9]{12}$`).MatchString(ev.AccountID) || ev.Region == "" || ev.Time.IsZero() {
				t.Errorf("account %q region %q time %v malformed", ev.AccountID, ev.Region, ev.Time)
			}
			prefix := "arn:aws:events:" + ev.Region + ":" + ev.AccountID + ":rule/"
			if len(ev.Resources) != 1 || !strings.HasPrefix(ev.Resources[0], prefix) {
				t.Errorf("resources %q, want the one rule ARN %s…", ev.Resources, prefix)
			}
			if !json.Valid(ev.Detail) || !bytes.HasPrefix(bytes.TrimSpace(ev.Detail), []byte("{")) {
				t.Errorf("detail %s is not a JSON object", ev.Detail)
			}
		})
	}
}

// bodyChecks are further checks of particular answers: that the samples'
// symbols mean what their names say against the simulator at Now.
var bodyChecks = map[string]func(t *testing.T, body map[string]json.RawMessage){
	"api-stock-quotes-200.json": func(t *testing.T, body map[string]json.RawMessage) {
		wantKeys(t, body["quotes"], "AAPL", "MSFT")
		wantBatchError(t, body, "bad$", api.StatusInvalid)
	},
	"api-option-quotes-200.json": func(t *testing.T, body map[string]json.RawMessage) {
		wantKeys(t, body["quotes"], "SPY261218C00230000", "SPY261218P00225000")
		if _, ok := body["errors"]; ok {
			t.Errorf("errors %s: every contract of the sample should be listed", body["errors"])
		}
	},
	"api-option-snapshots-200.json": func(t *testing.T, body map[string]json.RawMessage) {
		wantKeys(t, body["snapshots"], "SPY261218C00230000", "SPY261218P00225000")
		wantBatchError(t, body, "SPY261218C00231000", api.StatusNotFound)
	},
	"api-option-chain-200.json": func(t *testing.T, body map[string]json.RawMessage) {
		var snaps map[string]json.RawMessage
		if err := json.Unmarshal(body["snapshots"], &snaps); err != nil || len(snaps) != 5 {
			t.Errorf("snapshots: %d contracts (%v), want limit=5", len(snaps), err)
		}
	},
	"api-stock-bars-200.json": func(t *testing.T, body map[string]json.RawMessage) {
		var bars []json.RawMessage
		if err := json.Unmarshal(body["bars"], &bars); err != nil || len(bars) != 5 {
			t.Errorf("bars: %d (%v), want limit=5", len(bars), err)
		}
	},
	"api-stocks-bars-200.json": func(t *testing.T, body map[string]json.RawMessage) {
		wantKeys(t, body["bars"], "AAPL", "MSFT")
	},
	"api-market-status-200.json": func(t *testing.T, body map[string]json.RawMessage) {
		// 13:00 in New York on Black Friday is the early close.
		if string(body["session"]) != `"after_hours"` || string(body["is_open"]) != "false" {
			t.Errorf("session %s is_open %s at the early close, want \"after_hours\" false", body["session"], body["is_open"])
		}
	},
	"api-healthz-200.json": func(t *testing.T, body map[string]json.RawMessage) {
		if string(body["status"]) != `"ok"` || string(body["l2"]) != `"ok"` {
			t.Errorf("status %s l2 %s, want ok ok", body["status"], body["l2"])
		}
	},
}

func wantKeys(t *testing.T, raw json.RawMessage, keys ...string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Errorf("%s is not an object: %v", raw, err)
		return
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing from %s", k, raw)
		}
	}
}

func wantBatchError(t *testing.T, body map[string]json.RawMessage, sym, status string) {
	t.Helper()
	var errs map[string]struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body["errors"], &errs); err != nil || errs[sym].Status != status {
		t.Errorf("errors %s: want %s for %s", body["errors"], status, sym)
	}
}

// dataRoute reports whether a path serves market data (and so carries the
// attribution headers).
func dataRoute(path string) bool {
	return path != catalog.PathHealth && path != catalog.PathMarketStatus
}

func TestAPIEventsGetTheirStatusFromTheHandler(t *testing.T) {
	handle, emf := newAPIHandler(t)
	for _, s := range samples(t) {
		want, ok := samplesPkg.ExpectedStatus(s.Name)
		if !ok {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			ev := decodeAPI(t, s)
			resp, err := handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("handler error: %v", err)
			}
			raw, err := samplesPkg.Body(resp.IsBase64Encoded, resp.Headers, resp.Body)
			if err != nil {
				t.Fatalf("body does not decode: %v", err)
			}
			resp.Body = string(raw)
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, want, resp.Body)
			}
			body := map[string]json.RawMessage{}
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body is not a JSON object: %v\n%s", err, resp.Body)
			}
			switch {
			case want >= 400:
				var e struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				if err := samplesPkg.DecodeStrict([]byte(resp.Body), &e); err != nil || e.Code == 0 || e.Message == "" {
					t.Errorf("error body %s is not Alpaca's {\"code\",\"message\"} (%v)", resp.Body, err)
				}
			case dataRoute(ev.RawPath):
				if resp.Headers[api.HeaderDataSource] != alpaca.SourceSimulator || resp.Headers[api.HeaderCache] == "" ||
					resp.Headers["Age"] == "" || !strings.HasPrefix(resp.Headers["Cache-Control"], "private, max-age=") {
					t.Errorf("attribution headers missing or wrong: %v", resp.Headers)
				}
			}
			if check := bodyChecks[s.Name]; check != nil {
				check(t, body)
			}
		})
	}
	if !bytes.Contains(emf.Bytes(), []byte(`"ApiLatency"`)) {
		t.Errorf("the handler wrote no ApiLatency EMF document:\n%s", emf.String())
	}
}

// newAPIHandler builds the handler functions/api starts, with the
// simulator as origin and a private redis-server as L2, both at Now. It
// returns the handler and the buffer its EMF documents go to.
func newAPIHandler(t *testing.T) (func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), *bytes.Buffer) {
	t.Helper()
	clock := market.ClockFunc(func() time.Time { return Now })
	_, sim := alpacasim.NewTestServer(t, alpacasim.Config{Clock: clock, KeyID: "sim-key", SecretKey: "sim-secret"})
	svc, err := service.New(service.Config{
		Redis:  cache.RedisConfig{URL: "redis://" + redistest.StartServer(t).Addr, Timeout: time.Second},
		Alpaca: alpaca.Config{BaseURL: sim.URL, KeyID: "sim-key", SecretKey: "sim-secret"},
		Clock:  clock,
		// One sample per route, each a miss: more than the default
		// budget's burst, which its own tests cover.
		BudgetPerMin: 10000,
		Metrics:      metrics.New(metrics.Options{EMF: true, Function: "api"}),
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	var emf bytes.Buffer
	return svc.APIHandler(&emf), &emf
}
