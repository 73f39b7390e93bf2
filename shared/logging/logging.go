// Package logging builds the process's structured logger (log/slog, JSON in
// Lambda) and decides, in one place, which names carry secrets: their values
// never reach a log line or an error message.
package logging

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// Redacted replaces the value of a secret-bearing attribute.
const Redacted = "[REDACTED]"

// NewLogger returns a logger writing to w at level and above: JSON lines for
// format "json" (Lambda; also the choice for any other format) or logfmt-style
// text for "text" (local). Its records carry the request id and route put in
// their context by WithRequest, and secret-bearing attributes are redacted
// (see NewRedactHandler).
func NewLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(NewContextHandler(NewRedactHandler(h)))
}

// IsSecretKey reports whether an attribute or header named key carries a
// secret. The key is compared case-insensitively with '-' read as '_', and
// is secret when it
//
//   - ends in "secret", "password", "passwd", "authorization", "secret_key",
//     "api_key", "apikey", "credentials", "cookie" or "signature"
//     (so "client_secret", "APCA-API-SECRET-KEY", "Authorization",
//     "X-Api-Key", "Set-Cookie" are secret), or
//   - ends in "token" but not in "page_token": Alpaca's pagination cursor is
//     not a credential, while "token", "access_token", "session_token" are.
//
// "APCA-API-KEY-ID" is not secret: a key id names a client, like a user name.
func IsSecretKey(key string) bool {
	if !isASCII(key) {
		return isSecretKeyUnicode(key)
	}
	for _, s := range secretSuffixes {
		if hasKeySuffix(key, s) {
			return true
		}
	}
	return hasKeySuffix(key, "token") && !hasKeySuffix(key, "page_token")
}

// secretSuffixes are the endings of a secret name, in lower case with '_'.
var secretSuffixes = []string{"secret", "password", "passwd", "authorization", "secret_key",
	"api_key", "apikey", "credentials", "cookie", "signature"}

// hasKeySuffix reports whether the ASCII key ends in suffix (lower case,
// '_' standing for '_' or '-'), ignoring case, without allocating: it is
// asked of every attribute of every log line.
func hasKeySuffix(key, suffix string) bool {
	if len(key) < len(suffix) {
		return false
	}
	tail := key[len(key)-len(suffix):]
	for i := 0; i < len(suffix); i++ {
		c := tail[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '-':
			c = '_'
		}
		if c != suffix[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isSecretKeyUnicode is IsSecretKey for a name with non-ASCII letters,
// whose lower case may hold ASCII letters (the Kelvin sign's is 'k').
func isSecretKeyUnicode(key string) bool {
	k := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	for _, s := range secretSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return strings.HasSuffix(k, "token") && !strings.HasSuffix(k, "page_token")
}

// MentionsSecret reports whether a configuration name so much as mentions a
// credential: it contains SECRET, PASSWORD, PASSWD, TOKEN, KEY, AUTH,
// CREDENTIAL, COOKIE, SIGNATURE or URL (a URL may carry user:password),
// case-insensitively.
// It is the cautious reading, for a value that failed to parse: a secret
// pasted into the wrong variable must not be echoed in the error, so even
// REDIS_AUTH_SECRET_ARN's value is withheld. A name IsSecretKey calls
// secret always mentions a secret.
func MentionsSecret(name string) bool {
	upper := strings.ToUpper(name)
	for _, w := range []string{"SECRET", "PASSWORD", "PASSWD", "TOKEN", "KEY", "AUTH", "CREDENTIAL", "COOKIE", "SIGNATURE", "URL"} {
		if strings.Contains(upper, w) {
			return true
		}
	}
	return false
}

// NewRedactHandler returns a handler that passes records to h with the value
// of every secret-bearing attribute (IsSecretKey) replaced by Redacted: at
// the top level, inside groups at any depth, in attributes given to
// WithAttrs, and in values that are LogValuers (resolved first). A group
// whose own key is secret is replaced whole. Values of type http.Header,
// map[string][]string, map[string]string and map[string]any are copied with
// their secret keys' values replaced, so logging a request's headers by
// mistake does not leak its Authorization. Secrets inside other values
// (structs, the message) are not seen.
func NewRedactHandler(h slog.Handler) slog.Handler { return redactHandler{h} }

type redactHandler struct{ next slog.Handler }

func (h redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactHandler) Handle(ctx context.Context, r slog.Record) error {
	clean := true
	r.Attrs(func(a slog.Attr) bool {
		clean = !mayRedact(a)
		return clean
	})
	if clean {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redact(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redact(a)
	}
	return redactHandler{h.next.WithAttrs(red)}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h.next.WithGroup(name)}
}

// mayRedact reports whether redact could change a: its key is secret, or
// its value is a group, a LogValuer or of another type than slog's own
// (which may be a map). The common line of plain values passes through
// without a copy.
func mayRedact(a slog.Attr) bool {
	switch a.Value.Kind() {
	case slog.KindGroup, slog.KindAny, slog.KindLogValuer:
		return true
	}
	return IsSecretKey(a.Key)
}

func redact(a slog.Attr) slog.Attr {
	if IsSecretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, m := range g {
			red[i] = redact(m)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: slog.AnyValue(redactValue(v.Any()))}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func redactValue(v any) any {
	switch m := v.(type) {
	case http.Header:
		return redactMap(m, []string{Redacted})
	case map[string][]string:
		return redactMap(m, []string{Redacted})
	case map[string]string:
		return redactMap(m, Redacted)
	case map[string]any:
		out := redactMap(m, any(Redacted))
		for k, x := range out {
			if !IsSecretKey(k) {
				out[k] = redactValue(x)
			}
		}
		return out
	}
	return v
}

func redactMap[M ~map[string]V, V any](m M, redacted V) M {
	out := make(M, len(m))
	for k, v := range m {
		if IsSecretKey(k) {
			v = redacted
		}
		out[k] = v
	}
	return out
}

type requestKey struct{}

type requestInfo struct{ id, route string }

// WithRequest returns a context carrying the request id and route that
// loggers from NewLogger (and NewContextHandler) add to each record logged
// with it.
func WithRequest(ctx context.Context, requestID, route string) context.Context {
	return context.WithValue(ctx, requestKey{}, requestInfo{requestID, route})
}

// RequestFromContext returns the request id and route WithRequest put in
// ctx, and whether there were any.
func RequestFromContext(ctx context.Context) (requestID, route string, ok bool) {
	ri, ok := ctx.Value(requestKey{}).(requestInfo)
	return ri.id, ri.route, ok
}

// NewContextHandler returns a handler that adds "request_id" and "route"
// from the record's context (WithRequest), when non-empty, to each record
// before passing it to h. They join the record's own attributes, so they sit
// inside any group opened with WithGroup.
func NewContextHandler(h slog.Handler) slog.Handler { return contextHandler{h} }

type contextHandler struct{ next slog.Handler }

func (h contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, route, ok := RequestFromContext(ctx); ok {
		r = r.Clone()
		if id != "" {
			r.AddAttrs(slog.String("request_id", id))
		}
		if route != "" {
			r.AddAttrs(slog.String("route", route))
		}
	}
	return h.next.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return contextHandler{h.next.WithAttrs(as)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.next.WithGroup(name)}
}
