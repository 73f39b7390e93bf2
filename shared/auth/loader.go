package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/opitios/opitios-alpaca/shared/config"
)

// Loader defaults.
const (
	DefaultRefresh      = 5 * time.Minute
	DefaultRetryAfter   = 30 * time.Second
	DefaultFetchTimeout = 5 * time.Second
)

// ClientKeysSecret is the JSON shape of the client-keys secret:
// {"keys":[{"id":"…","sha256":"…"}]}.
type ClientKeysSecret struct {
	Keys []HashedKey `json:"keys"`
}

// LoaderOptions tunes a Loader; zero fields take the defaults.
type LoaderOptions struct {
	// Refresh is how long a loaded store is used before the secret is read
	// again (DefaultRefresh). Revoking a key takes effect within Refresh.
	Refresh time.Duration
	// RetryAfter is how long a failed refresh waits before the next attempt
	// while the previous store stays in use (DefaultRetryAfter, at most
	// Refresh).
	RetryAfter time.Duration
	// FetchTimeout bounds one read of the secret (DefaultFetchTimeout).
	FetchTimeout time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
	// Logger receives a warning when a refresh fails and the previous store
	// is kept (slog.Default()).
	Logger *slog.Logger
}

// Loader reads the client-keys secret from Secrets Manager and caches the
// resulting KeyStore for the life of the instance. It is safe for concurrent
// use; concurrent loads share one read of the secret.
//
// Load never allows on error: until one read has succeeded it returns the
// error, so the authorizer denies. After that, a failed refresh keeps the
// previous store (an outage of Secrets Manager must not lock every client
// out) and is retried after RetryAfter; the store is then as old as the
// outage is long.
type Loader struct {
	sm      config.SecretsGetter
	arn     string
	opts    LoaderOptions
	flights singleflight.Group

	mu    sync.Mutex
	store *KeyStore
	next  time.Time // when store is due for refresh
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
		opts.Refresh = DefaultRefresh
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	opts.RetryAfter = min(opts.RetryAfter, opts.Refresh)
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Loader{sm: sm, arn: arn, opts: opts}, nil
}

// Load returns the current KeyStore, reading the secret first when none is
// loaded yet or the loaded one is due (its Refresh has elapsed).
//
// It returns an error only when no store has ever been loaded and this read
// fails (or ctx ends first). The read itself is detached from ctx and bounded
// by FetchTimeout, so a caller that gives up does not fail the callers
// sharing the read; if ctx ends while a due refresh is in flight, Load returns
// the previous store.
func (l *Loader) Load(ctx context.Context) (*KeyStore, error) {
	l.mu.Lock()
	store, next := l.store, l.next
	l.mu.Unlock()
	if store != nil && l.opts.Now().Before(next) {
		return store, nil
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
			return store, nil
		}
		return nil, fmt.Errorf("auth: load client keys: %w", ctx.Err())
	}
}

func (l *Loader) refresh(ctx context.Context) (*KeyStore, error) {
	ctx, cancel := context.WithTimeout(ctx, l.opts.FetchTimeout)
	defer cancel()
	fresh, err := l.fetch(ctx)

	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Now()
	if err != nil {
		if l.store == nil {
			return nil, err
		}
		l.next = now.Add(l.opts.RetryAfter)
		l.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "client keys refresh failed; keeping the previous keys",
			slog.String("error", err.Error()), slog.Duration("retry_after", l.opts.RetryAfter))
		return l.store, nil
	}
	l.store, l.next = fresh, now.Add(l.opts.Refresh)
	return fresh, nil
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
