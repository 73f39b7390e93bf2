package auth

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// The secret in testdata/authorizer-v2-request.json.
const eventSecret = "oK9vX2mQ4tL8rW1zB6nC3yH5jD0fG7sA"

func loadEvent(t *testing.T) events.APIGatewayV2CustomAuthorizerV2Request {
	t.Helper()
	raw, err := os.ReadFile("testdata/authorizer-v2-request.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2CustomAuthorizerV2Request
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("decode event: %v", err)
	}
	return ev
}

func TestDecodeAuthorizerEvent(t *testing.T) {
	ev := loadEvent(t)
	if ev.Version != "2.0" || ev.Type != "REQUEST" {
		t.Fatalf("version %q type %q", ev.Version, ev.Type)
	}
	if ev.RouteArn != "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/$default/GET/v2/stocks/AAPL/quotes/latest" {
		t.Fatalf("routeArn %q", ev.RouteArn)
	}
	if len(ev.IdentitySource) != 2 || ev.IdentitySource[0] != "client-7f3a" || ev.IdentitySource[1] != eventSecret {
		t.Fatalf("identitySource %q", ev.IdentitySource)
	}
	if ev.Headers["apca-api-key-id"] != "client-7f3a" || ev.RequestContext.RequestID != "Hq3xJgYvoAMEVhA=" || ev.PathParameters["symbol"] != "AAPL" {
		t.Fatal("headers, request id or path parameters not decoded")
	}
}

func TestAuthorizerOnRecordedEvent(t *testing.T) {
	store, err := NewKeyStore([]HashedKey{{ID: "client-7f3a", SHA256: HashSecret(eventSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuthorizer(staticLoad(store), nil)
	ev := loadEvent(t)

	resp, err := a.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"isAuthorized":true,"context":{"key_id":"client-7f3a"}}`; string(got) != want {
		t.Fatalf("response %s, want %s", got, want)
	}

	ev.Headers["apca-api-secret-key"] = "revoked"
	resp, _ = a.Handle(context.Background(), ev)
	if got, _ := json.Marshal(resp); string(got) != `{"isAuthorized":false}` {
		t.Fatalf("deny response %s", got)
	}
}
