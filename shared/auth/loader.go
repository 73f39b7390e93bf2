package auth

import (
	"context"
	"errors"
	"fmt"
	"github.com/opitios/opitios-alpaca/shared/market"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// Loader defaults. The refresh of the key list comes from the revocation
// window (config.RevocationSplit of config.DefaultRevocationWindow).
const (
	DefaultRetryAfter   = 30 * time.Second
	DefaultFetchTimeout = 5 * time.Second
	// DefaultMaxAge is how long the last successful read of the key list is
	// trusted while later reads fail.
	DefaultMaxAge = 15 * time.Minute
)

// ErrStaleKeys is matched (errors.Is) by Load's error when the only key
// list at hand is older than LoaderOptions.MaxAge: the authorizer denies
// rather than accept keys that may have been revoked since.
var ErrStaleKeys = errors.New("auth: client keys too old to trust")

// ClientKeysSecret is the JSON shape of the client-keys secret:
// {"keys":[{"id":"…","sha256":"…"}]}.
type ClientKeysSecret struct {
	Keys []HashedKey `json:"keys"`
}

// LoaderOptions tunes a Loader; zero fields take the defaults.
type LoaderOptions struct {
	// Refresh is how long a read of the secret is used, counted from the
	// start of that read, before the secret is read again (default: the
	// key refresh of config.DefaultRevocationWindow). A key revoked in the
	// secret is refused within Refresh of the revocation.
	Refresh time.Duration
	// RetryAfter is how long a failed refresh waits before the next attempt
	// while the previous store stays in use (DefaultRetryAfter, at most
	// Refresh).
	RetryAfter time.Duration
	// MaxAge is the oldest, counted from the start of its read, a store is
	// trusted while refreshes fail (DefaultMaxAge, at least Refresh). Past
	// it Load fails with ErrStaleKeys until a read succeeds.
	MaxAge time.Duration
	// FetchTimeout bounds one read of the secret (DefaultFetchTimeout).
	FetchTimeout time.Duration
	// Clock is the clock (market.SystemClock).
	Clock market.Clock
	// Logger receives a warning when a refresh fails and the previous store
	// is kept, and an error when the previous store is too old to keep
	// (slog.Default()).
	Logger *slog.Logger
}

// Loader reads the client-keys secret from Secrets Manager and caches the
// resulting KeyStore for the life of the instance. It is safe for concurrent
// use; concurrent loads share one read of the secret.
//
// Load never allows on error: until one read has succeeded it returns the
// error, so the authorizer denies. After that, a failed refresh keeps the
// previous store (a short outage of Secrets Manager must not lock every
// client out) and is retried after RetryAfter, but only while that store is
// at most MaxAge old: after that Load fails with ErrStaleKeys, and every
// request is denied until a read succeeds.
type Loader struct {
	sm      config.SecretsGetter
	arn     string
	opts    LoaderOptions
	flights singleflight.Group

	mu     sync.Mutex
	store  *KeyStore
	readAt time.Time // when the read that produced store started
	next   time.Time // when store is due for refresh
}

// NewLoader returns a Loader of the secret arn read through sm. Nothing is
// read until the first Load.
func NewLoader(sm config.SecretsGetter, arn string, opts LoaderOptions) (*Loader, error) {
	if sm == nil {
		return nil, errors.New("auth: loader needs a Secrets Manager client")
	}
	if arn == "" {
		return nil, fmt.Errorf("auth: loader needs the client-keys secret (%s is empty)", config.EnvClientKeysSecretARN)
	}
	if opts.Refresh <= 0 {
		_, opts.Refresh = config.RevocationSplit(config.DefaultRevocationWindow)
	}
	opts.RetryAfter = config.PositiveOr(opts.RetryAfter, DefaultRetryAfter)
	opts.RetryAfter = min(opts.RetryAfter, opts.Refresh)
	opts.MaxAge = config.PositiveOr(opts.MaxAge, DefaultMaxAge)
	opts.MaxAge = max(opts.MaxAge, opts.Refresh)
	opts.FetchTimeout = config.PositiveOr(opts.FetchTimeout, DefaultFetchTimeout)
	if opts.Clock == nil {
		opts.Clock = market.SystemClock
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Loader{sm: sm, arn: arn, opts: opts}, nil
}

// Load returns the current KeyStore, reading the secret first when none is
// loaded yet or the loaded one is due (its Refresh has elapsed).
//
// It returns an error when no store has ever been loaded and this read
// fails (or ctx ends first), and an error wrapping ErrStaleKeys when the
// store at hand is older than MaxAge. The read itself is detached from ctx
// and bounded by FetchTimeout, so a caller that gives up does not fail the
// callers sharing the read; if ctx ends while a due refresh is in flight,
// Load returns the previous store (if still trusted).
func (l *Loader) Load(ctx context.Context) (*KeyStore, error) {
	l.mu.Lock()
	store, readAt, next := l.store, l.readAt, l.next
	l.mu.Unlock()
	if store != nil {
		if now := l.opts.Clock.Now(); now.Before(next) {
			return l.trusted(store, readAt, now)
		}
	}
	ch := l.flights.DoChan("", func() (any, error) {
		return l.refresh(context.WithoutCancel(ctx))
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*KeyStore), nil
	case <-ctx.Done():
		if store != nil {
			return l.trusted(store, readAt, l.opts.Clock.Now())
		}
		return nil, fmt.Errorf("auth: load client keys: %w", ctx.Err())
	}
}

// trusted returns store, read at readAt, unless at now it is older than
// MaxAge.
func (l *Loader) trusted(store *KeyStore, readAt, now time.Time) (*KeyStore, error) {
	if age := now.Sub(readAt); age > l.opts.MaxAge {
		return nil, fmt.Errorf("%w: last read %s ago, the limit is %s", ErrStaleKeys, age, l.opts.MaxAge)
	}
	return store, nil
}

// refresh reads the secret; on failure it keeps the previous store while
// that is trusted, and schedules the next attempt after RetryAfter.
func (l *Loader) refresh(ctx context.Context) (*KeyStore, error) {
	ctx, cancel := context.WithTimeout(ctx, l.opts.FetchTimeout)
	defer cancel()
	started := l.opts.Clock.Now()
	fresh, err := l.fetch(ctx)

	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.store, l.readAt, l.next = fresh, started, started.Add(l.opts.Refresh)
		return fresh, nil
	}
	if l.store == nil {
		return nil, err
	}
	now := l.opts.Clock.Now()
	l.next = now.Add(l.opts.RetryAfter)
	attrs := []slog.Attr{slog.String("error", err.Error()), slog.Duration("age", now.Sub(l.readAt)),
		slog.Duration("max_age", l.opts.MaxAge), slog.Duration("retry_after", l.opts.RetryAfter)}
	store, staleErr := l.trusted(l.store, l.readAt, now)
	if staleErr != nil {
		l.opts.Logger.LogAttrs(ctx, slog.LevelError,
			"client keys refresh failed and the last keys read are too old to trust; denying every request until a read succeeds", attrs...)
		return nil, fmt.Errorf("%w (refresh: %v)", staleErr, err)
	}
	l.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "client keys refresh failed; keeping the previous keys", attrs...)
	return store, nil
}

func (l *Loader) fetch(ctx context.Context) (*KeyStore, error) {
	var sec ClientKeysSecret
	if err := config.LoadSecret(ctx, l.sm, l.arn, &sec); err != nil {
		return nil, fmt.Errorf("auth: load client keys: %w", err)
	}
	if sec.Keys == nil {
		return nil, fmt.Errorf("auth: load client keys: %w %s: no \"keys\" array", config.ErrInvalidSecret, l.arn)
	}
	store, err := NewKeyStore(sec.Keys)
	if err != nil {
		return nil, fmt.Errorf("auth: load client keys from %s: %w", l.arn, err)
	}
	return store, nil
}
