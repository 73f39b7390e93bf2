package config

import "testing"

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
