package config

import (
	"testing"
	"time"
)

func TestOriginInstances(t *testing.T) {
	tests := []struct{ api, prefetch, want int }{
		{DefaultAPIConcurrency, DefaultPrefetchConcurrency, DefaultOriginInstances},
		{100, 1, 101},
		{100, 0, 100 + UnreservedConcurrency},
		{0, 0, 2 * UnreservedConcurrency},
		{-1, 3, UnreservedConcurrency + 3},
	}
	for _, tt := range tests {
		if got := OriginInstances(tt.api, tt.prefetch); got != tt.want {
			t.Errorf("OriginInstances(%d, %d) = %d, want %d", tt.api, tt.prefetch, got, tt.want)
		}
	}
}

func TestRevocationSplitAddsUpToTheWindow(t *testing.T) {
	tests := []struct{ window, ttl, refresh time.Duration }{
		{DefaultRevocationWindow, 30 * time.Second, 30 * time.Second},
		{61 * time.Second, 30 * time.Second, 31 * time.Second},
		{time.Second, 0, time.Second},
		{MaxRevocationWindow, 30 * time.Minute, 30 * time.Minute},
	}
	for _, tt := range tests {
		ttl, refresh := RevocationSplit(tt.window)
		if ttl != tt.ttl || refresh != tt.refresh || ttl+refresh != tt.window {
			t.Errorf("RevocationSplit(%s) = %s, %s; want %s, %s", tt.window, ttl, refresh, tt.ttl, tt.refresh)
		}
	}
	if DefaultRevocationWindow > time.Minute {
		t.Errorf("default window %s, want at most a minute", DefaultRevocationWindow)
	}
}

func TestRevocationWindow(t *testing.T) {
	for v, want := range map[string]time.Duration{"": DefaultRevocationWindow, "90": 90 * time.Second, "1": time.Second} {
		if got, err := RevocationWindow(env(map[string]string{EnvRevocationWindow: v})); err != nil || got != want {
			t.Errorf("%q: %s, %v; want %s", v, got, err, want)
		}
	}
	for _, v := range []string{"0", "3601", "1m", "-5"} {
		if _, err := RevocationWindow(env(map[string]string{EnvRevocationWindow: v})); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

func TestPositiveOr(t *testing.T) {
	if got := PositiveOr(0, 5); got != 5 {
		t.Errorf("PositiveOr(0, 5) = %d", got)
	}
	if got := PositiveOr(-time.Second, time.Minute); got != time.Minute {
		t.Errorf("PositiveOr(-1s, 1m) = %v", got)
	}
	if got := PositiveOr(0.25, 0.5); got != 0.25 {
		t.Errorf("PositiveOr(0.25, 0.5) = %v", got)
	}
}
