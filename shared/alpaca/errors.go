package alpaca

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kinds of failure. Every error a Client method returns (other than a
// Limiter's own error, which is passed through wrapped) satisfies errors.Is
// with exactly one of these.
var (
	// ErrInvalidRequest: the origin rejected the request (HTTP 400, 414,
	// 422). Never retried.
	ErrInvalidRequest = errors.New("alpaca: invalid request")
	// ErrUnauthorized: the origin refused the service's own credentials
	// (HTTP 401, or a 403 that is not a plan refusal; see refusalKind).
	// Never retried. It is a fault of the deployment, not of the request.
	ErrUnauthorized = errors.New("alpaca: unauthorized")
	// ErrForbidden: the origin refused this request under the account's
	// plan or feed entitlement (HTTP 403 with a message naming what is not
	// permitted, e.g. "subscription does not permit querying recent SIP
	// data"). Never retried. The *Error's Message is Alpaca's.
	ErrForbidden = errors.New("alpaca: forbidden by the account's plan")
	// ErrNotFound: the origin has no such resource (HTTP 404), or a
	// single-symbol answer carried no data for the symbol. Never retried.
	ErrNotFound = errors.New("alpaca: not found")
	// ErrRateLimited: the origin answered 429 and waiting for its reset
	// would pass the caller's deadline, or no retry was left. The *Error
	// carries Reset and RetryAfter when the origin sent them.
	ErrRateLimited = errors.New("alpaca: rate limited")
	// ErrUnavailable: the origin failed (5xx, timeout, connection error,
	// malformed body, unexpected status) and retries were exhausted or the
	// deadline came first.
	ErrUnavailable = errors.New("alpaca: origin unavailable")
)

// Error is the error of one origin call. Its text holds the kind, the
// endpoint template (never the URL with its symbols), the HTTP status and
// Alpaca's short message: never credentials and never a raw body.
type Error struct {
	Kind       error         // one of the Err* sentinels above
	Endpoint   string        // the endpoint template, e.g. "/v2/stocks/quotes/latest"
	Status     int           // HTTP status of the last response, 0 when there was none
	Code       int           // Alpaca's error code from a JSON error body, 0 when absent
	Message    string        // Alpaca's error message, at most 200 bytes, credentials redacted
	Reset      time.Time     // from X-RateLimit-Reset (or now+Retry-After) on a 429
	RetryAfter time.Duration // how long the origin asked us to wait, on a 429
	Attempts   int           // HTTP attempts made
	Cause      error         // the transport or context error behind ErrUnavailable, if any
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Endpoint != "" {
		b.WriteString(": GET ")
		b.WriteString(e.Endpoint)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, ": after %d attempts", e.Attempts)
	}
	if e.Status != 0 {
		b.WriteString(": HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.Code != 0 || e.Message != "" {
		b.WriteString(" (")
		if e.Code != 0 {
			fmt.Fprintf(&b, "code %d", e.Code)
			if e.Message != "" {
				b.WriteString(": ")
			}
		}
		b.WriteString(e.Message)
		b.WriteString(")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns Kind, so errors.Is(err, ErrUnavailable) and the like work.
func (e *Error) Unwrap() error { return e.Kind }

// Is reports whether target matches Cause, so a call cut by its context
// also satisfies errors.Is(err, context.DeadlineExceeded) (or
// context.Canceled).
func (e *Error) Is(target error) bool {
	return e.Cause != nil && errors.Is(e.Cause, target)
}

// ChunkError is returned by the multi-symbol methods when some of the chunks
// the symbol list was split into failed. The result returned beside it is
// still valid and holds everything the successful chunks returned (their
// absent symbols are in Missing); the symbols of the failed chunks are in
// Failed, and in neither Values nor Missing, so a caller may serve the rest.
// When every chunk fails the result is empty and Failed lists every symbol.
//
// Err is the error of the first failed chunk in request order; errors.Is and
// errors.As see through ChunkError to it.
type ChunkError struct {
	Failed []string
	Err    error
}

// Error implements error.
func (e *ChunkError) Error() string {
	return fmt.Sprintf("%s (%d symbols failed)", e.Err.Error(), len(e.Failed))
}

// Unwrap returns Err.
func (e *ChunkError) Unwrap() error { return e.Err }

// errMalformed is the Cause of a 2xx answer whose body was not the JSON
// shape the endpoint promises (truncated, not JSON, wrong types).
var errMalformed = errors.New("malformed response body")

// errBodyTooLarge is the Cause of an answer larger than maxBodyBytes.
var errBodyTooLarge = errors.New("response body too large")

// errPageLoop is the Cause when the origin hands back the page token it was
// just given, which would otherwise loop until the deadline.
var errPageLoop = errors.New("origin repeated its page token")

// redactedMark replaces the service's key id or secret wherever an origin
// message echoes them.
const redactedMark = "[redacted]"

// credentialPhrases are the bare status phrases an origin uses when it
// refuses who is calling rather than what is asked, compared with the
// message lower-cased and stripped of blanks and trailing periods.
var credentialPhrases = []string{
	"forbidden", "unauthorized", "unauthorised", "not authorized", "not authenticated",
	"unauthenticated", "authentication failed", "access denied", "invalid credentials",
	"request is not authorized",
}

// refusalKind tells a refusal of the service's credentials (ErrUnauthorized)
// from a refusal of the request under the account's plan (ErrForbidden),
// given the status (401 or 403) and Alpaca's message (already redacted).
//
// The rule: Alpaca refuses a plan or feed with a 403 whose JSON message
// names what is not permitted ("subscription does not permit querying recent
// SIP data"); it refuses bad or missing keys with a 401, or with a 403 that
// carries no message of its own (an HTML page from its edge, an empty or
// non-JSON body) or only a bare status phrase ("forbidden.",
// "unauthorized."). So:
//   - 401 is always the credentials;
//   - a 403 without a message, with a bare status phrase (credentialPhrases),
//     or with a message that echoes our key (redacted) is the credentials;
//   - any other 403 names what the plan does not permit: ErrForbidden.
//
// Misreading a credential refusal as a plan refusal would hide an outage
// from the alarm, so only a message that says something beyond "no" counts
// as the plan's answer.
func refusalKind(status int, message string) error {
	if status != http.StatusForbidden {
		return ErrUnauthorized
	}
	m := strings.ToLower(strings.TrimRight(strings.TrimSpace(message), ". "))
	if m == "" || slices.Contains(credentialPhrases, m) || strings.Contains(m, redactedMark) {
		return ErrUnauthorized
	}
	return ErrForbidden
}
