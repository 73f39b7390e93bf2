package service

import (
	"context"
	"io"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// APIHandler wraps the API handler for Lambda: after each invocation it
// writes the invocation's metrics to out as EMF (once, aggregated), and
// drops L1 if the heap has grown past 80 % of the function's memory. Both
// happen inside the invocation, before it returns: nothing is left to a
// background goroutine that a frozen instance would not run.
func (s *Service) APIHandler(out io.Writer) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var limit uint64
	if s.Config.MemoryLimitMB > 0 {
		limit = uint64(s.Config.MemoryLimitMB) << 20 * 8 / 10
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp, err := s.API.Handle(ctx, ev)
		if limit > 0 {
			s.Cache.RelieveMemory(limit)
		}
		if s.Config.Metrics != nil {
			if ferr := s.Config.Metrics.FlushEMF(out, time.Now()); ferr != nil {
				s.log.Warn("metrics: EMF flush failed", "err", ferr)
			}
		}
		return resp, err
	}
}
