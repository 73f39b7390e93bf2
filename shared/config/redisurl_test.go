package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// URLs with a password and a character that breaks parsing: neither the
// URL nor any piece of the password may reach the error.
var badRedisURLs = []struct{ url, secret string }{
	{"redis://admin:s3cr%zzet@cache.example:6379", "s3cr"},
	{"redis://admin:pa ss-word@cache.example:6379", "ss-word"},
	{"rediss://admin:hunter2/x@cache.example:6379", "hunter2"},
	{"redis://admin:tab\tsecret@cache.example:6379", "secret"},
	{"redis://admin:" + "s3cret" + "@cache.example:6379\x7f", "s3cret"},
}

func TestRedisURLErrorsNeverQuoteTheURL(t *testing.T) {
	for _, tt := range badRedisURLs {
		_, err := RedisURL(env(map[string]string{EnvRedisURL: tt.url}))
		var ee *EnvError
		if !errors.As(err, &ee) || ee.Name != EnvRedisURL || ee.Value != "" {
			t.Fatalf("%q: %v, want an *EnvError naming %s without its value", tt.url, err, EnvRedisURL)
		}
		for _, leak := range []string{tt.secret, "admin", "cache.example"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("error %q contains %q", err, leak)
			}
		}
		// The same for go-redis's own parsers, whose errors quote the URL.
		_, perr := redis.ParseURL(tt.url)
		_, cerr := redis.ParseClusterURL(tt.url)
		for _, e := range []error{perr, cerr} {
			if e == nil {
				t.Fatalf("%q parsed", tt.url)
			}
			if got := RedisURLError(e).Error(); strings.Contains(got, tt.secret) || !strings.Contains(got, EnvRedisURL) {
				t.Errorf("RedisURLError(%v) = %q", e, got)
			}
		}
	}
}

func TestRedisURL(t *testing.T) {
	for _, ok := range []string{"", "redis://127.0.0.1:6379", "rediss://user:p%40ss@cache.example:6379/0", "redis://h:1?addr=h2:2"} {
		if got, err := RedisURL(env(map[string]string{EnvRedisURL: ok})); err != nil || got != ok {
			t.Errorf("%q: %q, %v", ok, got, err)
		}
	}
	for _, bad := range []string{"http://u:secret@h:1", "redis://", "cache.example:6379"} {
		if _, err := RedisURL(env(map[string]string{EnvRedisURL: bad})); err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if got := RedisURLError(errors.New("redis: invalid URL scheme: http")).Error(); !strings.Contains(got, EnvRedisURL) {
		t.Errorf("non-URL error: %q", got)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://h:1":                   "redis://h:1",
		"rediss://user:pass@h:1":        "rediss://***@h:1",
		"redis://:p@ss@h:1/0":           "redis://***@h:1/0",
		"user:pass@h:1":                 "***@h:1",
		"redis://u:pa/ss@h:1?addr=h2:2": "redis://***@h:1?addr=h2:2",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
