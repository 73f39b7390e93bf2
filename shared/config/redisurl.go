package config

import (
	"errors"
	"net/url"
	"strings"
)

// redisURLForm is what a REDIS_URL must look like, for error messages.
const redisURLForm = "expected redis://[user:password@]host:port[/db] or rediss://… (TLS)"

// RedisURL reads EnvRedisURL: "" when unset, else a URL with the scheme
// redis or rediss and a host. A value that is not one is an *EnvError that
// contains no part of the value (a URL may carry a password; see
// RedisURLError).
func RedisURL(getenv func(string) string) (string, error) {
	v, ok := lookup(getenv, EnvRedisURL)
	if !ok {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", RedisURLError(err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return "", envError(EnvRedisURL, "", "the scheme is not redis or rediss; "+redisURLForm)
	}
	if u.Host == "" {
		return "", envError(EnvRedisURL, "", "no host; "+redisURLForm)
	}
	return v, nil
}

// RedisURLError turns an error from parsing the L2's URL (url.Parse, or
// go-redis's ParseURL and ParseClusterURL) into an *EnvError naming
// EnvRedisURL that keeps only the kind of fault. It never includes the
// error's own text: a *url.Error quotes the whole URL, and its inner error
// may quote a piece of it (an invalid escape, or the password read as a
// port when it holds a '/').
func RedisURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return envError(EnvRedisURL, "", "not a usable Redis URL; "+redisURLForm)
	}
	var esc url.EscapeError
	var host url.InvalidHostError
	inner := ue.Err.Error()
	fault := "not a valid URL"
	switch {
	case errors.As(ue.Err, &esc):
		fault = "an invalid %-escape"
	case errors.As(ue.Err, &host):
		fault = "an invalid character in the host"
	case strings.Contains(inner, "userinfo"):
		fault = "an invalid character in the user or password (percent-encode it)"
	case strings.Contains(inner, "port"):
		fault = "an invalid port (a '/', '?' or '#' in the password must be percent-encoded)"
	case strings.Contains(inner, "control character"):
		fault = "a control character"
	}
	return envError(EnvRedisURL, "", fault+"; "+redisURLForm)
}

// RedactURL returns u with everything before its last '@' after the scheme
// (the user and password, however malformed) replaced by "***", for logs
// and banners.
func RedactURL(u string) string {
	at := strings.LastIndex(u, "@")
	if at < 0 {
		return u
	}
	if scheme, _, ok := strings.Cut(u, "://"); ok && len(scheme) < at {
		return scheme + "://***@" + u[at+1:]
	}
	return "***@" + u[at+1:]
}
