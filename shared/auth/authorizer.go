package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"
)

// Authorizer is an API Gateway HTTP API Lambda authorizer (payload format
// 2.0) with simple responses.
//
// API Gateway's behaviour around it, which the CDK stack relies on:
//   - with the identity source set to both headers, a request lacking either
//     one is answered 401 Unauthorized by API Gateway itself, without
//     invoking the authorizer;
//   - IsAuthorized false makes API Gateway answer 403 Forbidden;
//   - when the authorizer fails (error, timeout, malformed response) API
//     Gateway answers 500, which is why Handle never returns an error;
//   - with result caching on, the cache key is the identity source values,
//     that is both headers, so a cached answer is never reused for another
//     secret; the stack sets its TTL and the Loader's refresh from one
//     revocation window (config.RevocationSplit), so a revoked key is
//     refused everywhere within that window.
type Authorizer struct {
	load   func(ctx context.Context) (*KeyStore, error)
	logger *slog.Logger
}

// NewAuthorizer returns an Authorizer that checks each request against the
// store load returns (Loader.Load in Lambda). A nil logger discards logs.
func NewAuthorizer(load func(ctx context.Context) (*KeyStore, error), logger *slog.Logger) *Authorizer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Authorizer{load: load, logger: logger}
}

// Handle decides one request. It allows only when the key id and secret
// check against the loaded KeyStore, and then sets the context
// {"key_id": id}, which API Gateway passes on to the integration.
//
// Credentials are read from ev.Headers (any name case), else from
// ev.IdentitySource taken as [key id, secret] when it has exactly two
// values. Everything else denies: a missing or over-long header, a load
// error (a key list too old to trust included), a nil store, a panic
// (recovered). Handle never returns an error.
//
// It logs one line per request with the outcome, a reason category and, only
// when the id is a known key, the key id; never the secret, nor an unknown id
// (a client may have swapped the two headers).
func (a *Authorizer) Handle(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (resp events.APIGatewayV2CustomAuthorizerSimpleResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			a.logger.LogAttrs(ctx, slog.LevelError, "authorizer panic; denying",
				slog.String("outcome", "deny"), slog.String("reason", string(reasonPanic)),
				slog.String("request_id", ev.RequestContext.RequestID),
				slog.String("panic_type", fmt.Sprintf("%T", p)),
				slog.String("stack", string(debug.Stack())))
			resp, err = events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
		}
	}()

	id, secret, r := credentialsFromHeaders(ev.Headers)
	if r == reasonMissing && len(ev.IdentitySource) == 2 {
		id, secret, r = ev.IdentitySource[0], ev.IdentitySource[1], reasonOK
	}
	var loadErr error
	if r == reasonOK {
		var store *KeyStore
		store, loadErr = a.load(ctx)
		switch {
		case errors.Is(loadErr, ErrStaleKeys):
			r = reasonStaleKeys
		case loadErr != nil:
			r = reasonLoadError
		default:
			r = store.verify(id, secret)
		}
	}

	attrs := []slog.Attr{
		slog.String("outcome", "deny"),
		slog.String("reason", string(r)),
		slog.String("request_id", ev.RequestContext.RequestID),
		slog.String("route", ev.RouteKey),
	}
	level := slog.LevelInfo
	switch r {
	case reasonOK:
		attrs[0] = slog.String("outcome", "allow")
		attrs = append(attrs, slog.String("key_id", id))
	case reasonMismatch:
		attrs = append(attrs, slog.String("key_id", id))
	case reasonLoadError, reasonStaleKeys:
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", loadErr.Error()))
	case reasonNoStore:
		level = slog.LevelError
	}
	a.logger.LogAttrs(ctx, level, "authorize", attrs...)

	if r != reasonOK {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{
		IsAuthorized: true,
		Context:      map[string]any{"key_id": id},
	}, nil
}
