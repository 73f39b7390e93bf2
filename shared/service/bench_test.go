package service_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/dev/promsink"
	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/logging"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/metrics"
	"github.com/opitios/opitios-alpaca/shared/service"
)

// benchL1Hit measures the Lambda handler on an L1 hit: event in, response
// out, with the given metrics recorder (nil: none).
func benchL1Hit(b *testing.B, rec *metrics.Recorder) {
	clk := market.ClockFunc(func() time.Time { return regular })
	_, simSrv := alpacasim.NewTestServer(b, alpacasim.Config{Clock: clk})
	svc, err := service.New(service.Config{Alpaca: alpaca.Config{BaseURL: simSrv.URL, KeyID: "k", SecretKey: "s"}, Clock: clk, Metrics: rec,
		Logger: logging.NewLogger(io.Discard, "json", 8)})
	if err != nil {
		b.Fatal(err)
	}
	h := svc.APIHandler(io.Discard)
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/v2/stocks/AAPL/quotes/latest"}
	ev.RequestContext.HTTP.Method = "GET"
	ctx := context.Background()
	if r, _ := h(ctx, ev); r.StatusCode != 200 {
		b.Fatal(r.StatusCode)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r, _ := h(ctx, ev); r.Headers["X-Cache"] != "HIT-L1" {
			b.Fatal(r.Headers["X-Cache"])
		}
	}
}

// The three differ only in the recorder: their ratio is the metrics'
// overhead on the L1-hit path (target: under 10 %).
func BenchmarkHandlerL1HitNoMetrics(b *testing.B) { benchL1Hit(b, nil) }

func BenchmarkHandlerL1HitEMF(b *testing.B) {
	benchL1Hit(b, metrics.New(metrics.Options{EMF: true, Function: "api"}))
}

func BenchmarkHandlerL1HitEMFAndPrometheus(b *testing.B) {
	benchL1Hit(b, metrics.New(metrics.Options{EMF: true, Function: "api", Sink: promsink.New(prometheus.NewRegistry())}))
}
