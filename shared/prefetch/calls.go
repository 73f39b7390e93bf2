package prefetch

import (
	"context"
	"sync/atomic"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
)

// CallCounter is an alpaca.Limiter that counts the HTTP requests an origin
// client makes: the client waits on its Limiter before every attempt,
// retries included, so the attempts the wrapped limiter admits are exactly
// the requests sent. Install it as the client's Config.Limiter and give it
// to the Job as Deps.Calls. It is safe for concurrent use.
type CallCounter struct {
	next alpaca.Limiter
	n    atomic.Int64
}

// CountCalls returns a CallCounter admitting what next admits (everything
// when next is nil).
func CountCalls(next alpaca.Limiter) *CallCounter { return &CallCounter{next: next} }

// Wait waits on the wrapped limiter and counts the attempt if admitted.
func (c *CallCounter) Wait(ctx context.Context) error {
	if c.next != nil {
		if err := c.next.Wait(ctx); err != nil {
			return err
		}
	}
	c.n.Add(1)
	return nil
}

// Calls returns how many attempts have been admitted.
func (c *CallCounter) Calls() int64 { return c.n.Load() }
