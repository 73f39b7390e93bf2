package stream

import (
	"io"
	"strconv"
	"time"

	"github.com/opitios/opitios-alpaca/shared/metrics"
)

// The hub's CloudWatch metrics, in metrics.Namespace with the dimension
// Service=hub. Counters are the change since the previous document.
const (
	MetricUpstreamConnected = "HubUpstreamConnected" // feeds whose upstream this hub holds, connected
	MetricUpstreamDrops     = "HubUpstreamDrops"     // upstream sessions ended
	MetricUpstreamErrors    = "HubUpstreamErrors"    // error messages from upstream (402, 405, 406, 409, ...)
	MetricUpstreamSymbols   = "HubUpstreamSymbols"   // trade and quote symbols subscribed upstream
	MetricUpstreamLag       = "HubUpstreamLagMs"     // the largest delay, receipt minus message time, since the previous document
	MetricMessages          = "HubMessages"          // data messages from upstream
	MetricL2Writes          = "HubL2Writes"          // entries written to L2
	MetricClients           = "HubClients"           // clients connected
	MetricSlowClients       = "HubSlowClients"       // clients cut off with 407
)

// observeLag records the delay of a message stamped t, received at now.
func (s *Stats) observeLag(now, t time.Time) {
	lag := now.Sub(t).Milliseconds()
	for {
		cur := s.lagMs.Load()
		if lag <= cur || s.lagMs.CompareAndSwap(cur, lag) {
			return
		}
	}
}

// emfState is what the previous EMF document reported, for the deltas.
type emfState struct{ drops, errors, messages, writes, slow int64 }

// EMFWriter writes the hub's stats as CloudWatch embedded-metric documents.
type EMFWriter struct {
	h    *Hub
	prev emfState
}

// NewEMFWriter returns a writer of h's stats.
func NewEMFWriter(h *Hub) *EMFWriter { return &EMFWriter{h: h} }

// Write writes one document stamped now to w: the gauges as they are, the
// counters as changes since the previous Write, and the lag since then.
func (e *EMFWriter) Write(w io.Writer, now time.Time) error {
	s := &e.h.stats
	cur := emfState{s.UpstreamDrops.Load(), s.UpstreamErrors.Load(), s.Messages.Load(), s.L2Writes.Load(), s.SlowClients.Load()}
	vals := []struct {
		name string
		v    int64
	}{
		{MetricUpstreamConnected, s.UpstreamConnected.Load()},
		{MetricUpstreamDrops, cur.drops - e.prev.drops},
		{MetricUpstreamErrors, cur.errors - e.prev.errors},
		{MetricUpstreamSymbols, s.UpstreamSymbols.Load()},
		{MetricUpstreamLag, s.lagMs.Swap(0)},
		{MetricMessages, cur.messages - e.prev.messages},
		{MetricL2Writes, cur.writes - e.prev.writes},
		{MetricClients, s.Clients.Load()},
		{MetricSlowClients, cur.slow - e.prev.slow},
	}
	e.prev = cur
	b := []byte(`{"_aws":{"Timestamp":`)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":"`+metrics.Namespace+`","Dimensions":[["Service"]],"Metrics":[`...)
	for i, m := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Name":"`+m.name+`"}`...)
	}
	b = append(b, `]}]},"Service":"hub"`...)
	for _, m := range vals {
		b = append(b, `,"`+m.name+`":`...)
		b = strconv.AppendInt(b, m.v, 10)
	}
	_, err := w.Write(append(b, "}\n"...))
	return err
}
