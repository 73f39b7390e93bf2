package config

import (
	"github.com/opitios/opitios-alpaca/shared/logging"

	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The typed readers below share one contract:
//   - getenv is os.Getenv in production (a map lookup in tests);
//   - a variable that is unset, empty or only blanks yields the default,
//     which is not validated (it is the program's, not the operator's);
//   - otherwise the value, trimmed of surrounding blanks, must parse and lie
//     within [min, max], or the reader returns the zero value and an *EnvError
//     naming the variable.

// EnvError reports an environment variable whose value is unusable. Its
// message names the variable and quotes the value, except when the name
// suggests a credential (see Value).
type EnvError struct {
	Name string
	// Value is the offending value, or "" when it is withheld because the
	// name mentions a credential (logging.MentionsSecret: SECRET, PASSWORD,
	// PASSWD, TOKEN, KEY, AUTH, CREDENTIAL or URL, which may carry
	// user:password).
	Value  string
	Reason string // what was expected, e.g. "must be an integer between 1 and 100"
}

func (e *EnvError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("config: %s: %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("config: %s=%q: %s", e.Name, e.Value, e.Reason)
}

func envError(name, value, reason string) *EnvError {
	if logging.MentionsSecret(name) {
		value = ""
	}
	return &EnvError{Name: name, Value: value, Reason: reason}
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := strings.TrimSpace(getenv(name))
	return v, v != ""
}

// Int reads an integer (base 10) in [min, max].
func Int(getenv func(string) string, name string, def, min, max int) (int, error) {
	s, ok := lookup(getenv, name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, envError(name, s, fmt.Sprintf("must be an integer between %d and %d", min, max))
	}
	return n, nil
}

// Float reads a finite decimal number in [min, max]; NaN and infinities are
// rejected.
func Float(getenv func(string) string, name string, def, min, max float64) (float64, error) {
	s, ok := lookup(getenv, name)
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < min || f > max {
		return 0, envError(name, s, fmt.Sprintf("must be a number between %g and %g", min, max))
	}
	return f, nil
}

// Duration reads a Go duration ("250ms", "5s", "1m30s") in [min, max]. A
// bare number has no unit and is rejected.
func Duration(getenv func(string) string, name string, def, min, max time.Duration) (time.Duration, error) {
	s, ok := lookup(getenv, name)
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < min || d > max {
		return 0, envError(name, s, fmt.Sprintf("must be a duration with a unit (e.g. 250ms, 5s) between %s and %s", min, max))
	}
	return d, nil
}

// Bool reads a boolean as strconv.ParseBool does (1, t, true, TRUE, 0, f,
// false, FALSE…).
func Bool(getenv func(string) string, name string, def bool) (bool, error) {
	s, ok := lookup(getenv, name)
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, envError(name, s, "must be true or false")
	}
	return b, nil
}

// List reads a comma-separated list: entries are trimmed of blanks and empty
// entries are dropped, so "AAPL, MSFT,,SPY " is [AAPL MSFT SPY]. It returns
// nil when the variable is unset or holds no entry. Entries are not otherwise
// validated or normalised; that is the caller's domain.
func List(getenv func(string) string, name string) []string {
	var out []string
	for e := range strings.SplitSeq(getenv(name), ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}
