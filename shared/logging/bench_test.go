package logging

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

// BenchmarkRequestLine logs the API's per-request line (shared/api's
// logRequest) through the process logger, to a discarded writer.
func BenchmarkRequestLine(b *testing.B) {
	for _, format := range []string{"json", "text"} {
		b.Run(format, func(b *testing.B) {
			l := NewLogger(io.Discard, format, slog.LevelInfo)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b.ReportAllocs()
			for b.Loop() {
				l.LogAttrs(ctx, slog.LevelInfo, "request",
					slog.String("request_id", "0e8396b7d7cf0debab7c2c5d05aaba90"),
					slog.String("route", "/v2/stocks/{symbol}/quotes/latest"),
					slog.Int("status", 200),
					slog.String("cache", "HIT-L1"),
					slog.Float64("latency_ms", 0.042),
					slog.String("key_id", "dev"),
				)
			}
		})
	}
}
