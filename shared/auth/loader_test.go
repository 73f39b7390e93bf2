package auth

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/shared/config"
)

const testARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:opitios/client-keys-AbCdEf"

// fakeSM serves one secret whose value or failure the test sets.
type fakeSM struct {
	mu      sync.Mutex
	value   string
	err     error
	calls   int
	gate    chan struct{} // when non-nil, each call waits for it to close
	entered chan struct{}
	during  func() // when non-nil, called inside each call (a slow read moves the clock)
}

var errUnavailable = errors.New("ServiceUnavailable: try later")

func (f *fakeSM) set(value string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value, f.err = value, err
}

func (f *fakeSM) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeSM) GetSecretString(ctx context.Context, id string) (*string, error) {
	f.mu.Lock()
	f.calls++
	gate, entered, during := f.gate, f.entered, f.during
	value, err := f.value, f.err
	f.mu.Unlock()
	if during != nil {
		during()
	}
	if id != testARN {
		return nil, errors.New("ResourceNotFoundException")
	}
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return &value, nil
}

func keysJSON(t testing.TB, pairs ...string) string {
	t.Helper()
	var sec ClientKeysSecret
	sec.Keys = []HashedKey{}
	for i := 0; i < len(pairs); i += 2 {
		sec.Keys = append(sec.Keys, HashedKey{ID: pairs[i], SHA256: HashSecret(pairs[i+1])})
	}
	b, err := json.Marshal(sec)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var t0 = time.Date(2026, 3, 12, 14, 30, 0, 0, time.UTC)

// defaultRefresh is the Loader's refresh for the default revocation window.
var defaultRefresh = func() time.Duration {
	_, r := config.RevocationSplit(config.DefaultRevocationWindow)
	return r
}()

func newTestLoader(t *testing.T, sm *fakeSM, logs *bytes.Buffer) (*Loader, *market.ManualClock) {
	t.Helper()
	clk := market.NewManualClock(t0)
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	l, err := NewLoader(sm, testARN, LoaderOptions{Clock: clk, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return l, clk
}

func mustLoad(t *testing.T, l *Loader) *KeyStore {
	t.Helper()
	s, err := l.Load(context.Background())
	if err != nil || s == nil {
		t.Fatalf("Load() = %v, %v", s, err)
	}
	return s
}

func TestLoaderFirstLoadFailureDenies(t *testing.T) {
	tests := []struct {
		name  string
		value string
		err   error
		is    error
	}{
		{"unavailable", "", errUnavailable, errUnavailable},
		{"not JSON", "keys", nil, config.ErrInvalidSecret},
		{"no keys array", `{"clients":[]}`, nil, config.ErrInvalidSecret},
		{"bad digest", `{"keys":[{"id":"a","sha256":"abc"}]}`, nil, ErrInvalidKeys},
		{"duplicate id", `{"keys":[{"id":"a","sha256":"` + HashSecret("1") + `"},{"id":"a","sha256":"` + HashSecret("2") + `"}]}`, nil, ErrInvalidKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := &fakeSM{value: tt.value, err: tt.err}
			l, clk := newTestLoader(t, sm, nil)
			s, err := l.Load(context.Background())
			if s != nil || !errors.Is(err, tt.is) {
				t.Fatalf("Load() = %v, %v; want nil, %v", s, err, tt.is)
			}
			// Not cached: the next call tries again, and succeeds once the secret is right.
			sm.set(keysJSON(t, "a", "sa"), nil)
			clk.Advance(time.Second)
			if !mustLoad(t, l).Check("a", "sa") {
				t.Fatal("loaded store does not check")
			}
			if sm.count() != 2 {
				t.Fatalf("%d reads, want 2", sm.count())
			}
		})
	}
}

func TestLoaderCachesAndRefreshesAtExactInstants(t *testing.T) {
	var logs bytes.Buffer
	sm := &fakeSM{value: keysJSON(t, "a", "sa")}
	l, clk := newTestLoader(t, sm, &logs)

	first := mustLoad(t, l)
	clk.Advance(defaultRefresh - time.Nanosecond)
	if mustLoad(t, l) != first || sm.count() != 1 {
		t.Fatalf("store re-read before its refresh interval (%d reads)", sm.count())
	}

	// Key a revoked, b issued; seen exactly at the refresh instant.
	sm.set(keysJSON(t, "b", "sb"), nil)
	clk.Advance(time.Nanosecond)
	second := mustLoad(t, l)
	if sm.count() != 2 || second.Check("a", "sa") || !second.Check("b", "sb") {
		t.Fatalf("refresh at t0+%s did not load the new keys (%d reads)", defaultRefresh, sm.count())
	}

	// A failed refresh keeps the previous store, then retries after RetryAfter.
	sm.set("", errUnavailable)
	clk.Advance(defaultRefresh)
	if got := mustLoad(t, l); got != second || sm.count() != 3 {
		t.Fatalf("failed refresh did not keep the previous store (%d reads)", sm.count())
	}
	if !bytes.Contains(logs.Bytes(), []byte("keeping the previous keys")) || !bytes.Contains(logs.Bytes(), []byte("ServiceUnavailable")) {
		t.Fatalf("failed refresh not logged: %s", logs.String())
	}
	clk.Advance(DefaultRetryAfter - time.Nanosecond)
	if mustLoad(t, l) != second || sm.count() != 3 {
		t.Fatalf("retried before RetryAfter (%d reads)", sm.count())
	}
	clk.Advance(time.Nanosecond)
	if mustLoad(t, l) != second || sm.count() != 4 {
		t.Fatalf("did not retry at RetryAfter (%d reads)", sm.count())
	}

	// Recovery: new keys, and the refresh interval starts again.
	sm.set(keysJSON(t, "c", "sc"), nil)
	clk.Advance(DefaultRetryAfter)
	third := mustLoad(t, l)
	if !third.Check("c", "sc") || third.Check("b", "sb") || sm.count() != 5 {
		t.Fatalf("recovery did not load the new keys (%d reads)", sm.count())
	}
	clk.Advance(defaultRefresh - time.Nanosecond)
	if mustLoad(t, l) != third || sm.count() != 5 {
		t.Fatalf("refresh interval not restarted after recovery (%d reads)", sm.count())
	}

	// An invalid secret is a failed refresh too: the previous store stays.
	sm.set(`{"keys":[{"id":"","sha256":""}]}`, nil)
	clk.Advance(time.Nanosecond)
	if mustLoad(t, l) != third {
		t.Fatal("invalid secret replaced the previous store")
	}
}

func TestLoaderEmptyKeyListDeniesEveryone(t *testing.T) {
	sm := &fakeSM{value: `{"keys":[]}`}
	l, _ := newTestLoader(t, sm, nil)
	s := mustLoad(t, l)
	if s.Len() != 0 || s.Check("a", "sa") {
		t.Fatal("empty key list allowed")
	}
}

func TestLoaderOptions(t *testing.T) {
	if _, err := NewLoader(nil, testARN, LoaderOptions{}); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := NewLoader(&fakeSM{}, "", LoaderOptions{}); err == nil {
		t.Error("empty ARN accepted")
	}
	l, err := NewLoader(&fakeSM{}, testARN, LoaderOptions{Refresh: 10 * time.Second, RetryAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if l.opts.RetryAfter != 10*time.Second || l.opts.FetchTimeout != DefaultFetchTimeout || l.opts.MaxAge != DefaultMaxAge || l.opts.Clock == nil || l.opts.Logger == nil {
		t.Fatalf("defaults not applied: %+v", l.opts)
	}
	l, err = NewLoader(&fakeSM{}, testARN, LoaderOptions{Refresh: time.Hour, MaxAge: time.Minute})
	if err != nil || l.opts.MaxAge != time.Hour {
		t.Fatalf("MaxAge below Refresh: %+v, %v; want MaxAge raised to Refresh", l.opts, err)
	}
	l, err = NewLoader(&fakeSM{}, testARN, LoaderOptions{})
	if err != nil || l.opts.Refresh != defaultRefresh || defaultRefresh > config.DefaultRevocationWindow {
		t.Fatalf("default refresh %s, want %s within the window %s", l.opts.Refresh, defaultRefresh, config.DefaultRevocationWindow)
	}
}

// A caller that gives up does not cancel the shared read: the store it
// started loading is there for the next caller, without another read.
func TestLoaderReadSurvivesCancelledCaller(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	sm := &fakeSM{value: keysJSON(t, "a", "sa"), gate: gate, entered: entered}
	l, _ := newTestLoader(t, sm, nil)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := l.Load(ctx)
		done <- err
	}()
	<-entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled first load = %v, want context.Canceled", err)
	}
	close(gate)

	// The detached read completes; the next Load joins it or finds its store.
	s := mustLoad(t, l)
	if !s.Check("a", "sa") {
		t.Fatal("store does not check")
	}
	if sm.count() != 1 {
		t.Fatalf("%d reads, want 1", sm.count())
	}
}

// With a store in hand, a caller whose context ends during a due refresh
// gets the previous store.
func TestLoaderCancelledDuringRefreshGetsPreviousStore(t *testing.T) {
	sm := &fakeSM{value: keysJSON(t, "a", "sa")}
	l, clk := newTestLoader(t, sm, nil)
	first := mustLoad(t, l)

	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	sm.mu.Lock()
	sm.gate, sm.entered = gate, entered
	sm.mu.Unlock()
	clk.Advance(defaultRefresh)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *KeyStore)
	go func() {
		s, _ := l.Load(ctx)
		done <- s
	}()
	<-entered
	cancel()
	if got := <-done; got != first {
		t.Fatal("cancelled caller did not get the previous store")
	}
	close(gate)
}

func TestLoaderConcurrentUse(t *testing.T) {
	sm := &fakeSM{value: keysJSON(t, "a", "sa")}
	l, clk := newTestLoader(t, sm, nil)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if i%4 == 0 {
				clk.Advance(defaultRefresh)
			}
			s, err := l.Load(context.Background())
			if err != nil || !s.Check("a", "sa") {
				t.Errorf("Load() = %v, %v", s, err)
			}
		})
	}
	wg.Wait()
}

// A key revoked in the secret is refused by the authorizer within Refresh
// of the revocation, and API Gateway's cached verdict expires within the
// rest of the window: checked at the last instants the revoked key passes.
func TestRevokedKeyIsRefusedWithinTheWindow(t *testing.T) {
	ttl, refresh := config.RevocationSplit(config.DefaultRevocationWindow)
	sm := &fakeSM{value: keysJSON(t, "a", "sa", "b", "sb")}
	l, clk := newTestLoader(t, sm, nil)
	authz := NewAuthorizer(l.Load, nil)
	allowed := func() bool {
		resp, _ := authz.Handle(context.Background(), request(map[string]string{HeaderKeyID: "a", HeaderSecretKey: "sa"}))
		return resp.IsAuthorized
	}
	if !allowed() {
		t.Fatal("a not allowed before revocation")
	}
	// Revoked just after the read at t0: the worst case.
	clk.Advance(time.Nanosecond)
	sm.set(keysJSON(t, "b", "sb"), nil)
	revoked := clk.Now()
	clk.Set(t0.Add(refresh - time.Nanosecond))
	if !allowed() {
		t.Fatal("the key list was re-read before its refresh")
	}
	// The verdict just given may be cached by API Gateway for ttl: its
	// last instant of use is still inside the window.
	if last := clk.Now().Add(ttl); last.Sub(revoked) > config.DefaultRevocationWindow {
		t.Fatalf("a cached verdict outlives the revocation by %s, over the window %s", last.Sub(revoked), config.DefaultRevocationWindow)
	}
	clk.Set(t0.Add(refresh))
	if allowed() {
		t.Fatalf("revoked key still allowed %s after the read before its revocation", refresh)
	}
}

// A store's age counts from the start of the read that produced it, so a
// slow read does not stretch the window.
func TestRefreshCountsFromTheStartOfTheRead(t *testing.T) {
	sm := &fakeSM{value: keysJSON(t, "a", "sa")}
	l, clk := newTestLoader(t, sm, nil)
	sm.during = func() { clk.Advance(3 * time.Second) }
	mustLoad(t, l)
	clk.Set(t0.Add(defaultRefresh - time.Nanosecond))
	mustLoad(t, l)
	if sm.count() != 1 {
		t.Fatalf("%d reads before the refresh instant, want 1", sm.count())
	}
	clk.Set(t0.Add(defaultRefresh))
	mustLoad(t, l)
	if sm.count() != 2 {
		t.Fatalf("%d reads at t0+%s (the first read started at t0), want 2", sm.count(), defaultRefresh)
	}
}

// While Secrets Manager fails, the last keys read are trusted up to MaxAge
// and not a nanosecond longer; then every request is denied, with an
// error-level line saying why, until a read succeeds.
func TestStaleKeyStoreIsNotTrusted(t *testing.T) {
	var logs bytes.Buffer
	sm := &fakeSM{value: keysJSON(t, "a", "sa")}
	l, clk := newTestLoader(t, sm, &logs)
	first := mustLoad(t, l)
	sm.set("", errUnavailable)

	// Failed refreshes every RetryAfter keep the store up to MaxAge.
	for at := defaultRefresh; at <= DefaultMaxAge; at += DefaultRetryAfter {
		clk.Set(t0.Add(at))
		if got := mustLoad(t, l); got != first {
			t.Fatalf("at t0+%s the previous store was not kept", at)
		}
	}
	clk.Set(t0.Add(DefaultMaxAge))
	if got := mustLoad(t, l); got != first {
		t.Fatal("store exactly MaxAge old not trusted")
	}
	reads := sm.count()
	clk.Set(t0.Add(DefaultMaxAge + time.Nanosecond))
	if s, err := l.Load(context.Background()); s != nil || !errors.Is(err, ErrStaleKeys) {
		t.Fatalf("store past MaxAge: %v, %v; want ErrStaleKeys", s, err)
	}
	if sm.count() != reads {
		t.Fatal("a stale store made Load read before RetryAfter")
	}
	var authzLogs bytes.Buffer
	authz := NewAuthorizer(l.Load, slog.New(slog.NewJSONHandler(&authzLogs, nil)))
	resp, _ := authz.Handle(context.Background(), request(map[string]string{HeaderKeyID: "a", HeaderSecretKey: "sa"}))
	if resp.IsAuthorized || !strings.Contains(authzLogs.String(), `"level":"ERROR"`) || !strings.Contains(authzLogs.String(), string(reasonStaleKeys)) {
		t.Fatalf("stale store: authorized %v, logs %s", resp.IsAuthorized, authzLogs.String())
	}

	// The next failed refresh says so once, at error level.
	clk.Advance(DefaultRetryAfter)
	if _, err := l.Load(context.Background()); !errors.Is(err, ErrStaleKeys) || !strings.Contains(err.Error(), "ServiceUnavailable") {
		t.Fatalf("failed refresh of a stale store: %v", err)
	}
	if n := strings.Count(logs.String(), "too old to trust; denying every request"); n != 1 || !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Fatalf("%d denial lines in %s", n, logs.String())
	}

	// Recovery at the next attempt.
	sm.set(keysJSON(t, "a", "sa"), nil)
	clk.Advance(DefaultRetryAfter)
	if s := mustLoad(t, l); !s.Check("a", "sa") {
		t.Fatal("recovered store does not check")
	}
}
