package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/config"
)

// bannerInfo is what the start-up banner states.
type bannerInfo struct {
	apiURL    string
	l2        *l2
	l2Desc    string // service.Config.DescribeL2: the URL without credentials, and the mode
	l2OK      bool   // L2 answered PING at start
	sim       *simulator
	originURL string // Alpaca's data URL, when the origin is Alpaca
	feed      string
	set       settings
	prefetch  string
	hub       *localHub
}

// readyLine is the banner's last line: everything is serving.
const readyLine = "ready"

// writeBanner states the listen address, the L2, the origin, the client key
// and an example request, then readyLine. Client secrets appear only for the
// development pair, which is public.
func writeBanner(w io.Writer, b bannerInfo) {
	var sb strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&sb, "  %-11s %s\n", label, fmt.Sprintf(format, args...))
	}
	sb.WriteString("opitios-alpaca, the whole service on this machine\n")
	line("API", "%s   (Prometheus: %s/metrics)", b.apiURL, b.apiURL)
	switch b.l2.kind {
	case l2Child:
		line("L2 cache", "redis-server, child pid %d, %s; no persistence, stopped on exit", b.l2.pid, b.l2Desc)
	case l2Embedded:
		line("L2 cache", "embedded Redis-protocol server (miniredis), %s: in-memory, single-process, emptied on exit", b.l2Desc)
	default:
		line("L2 cache", "%s %s", config.EnvRedisURL, b.l2Desc)
	}
	if !b.l2OK {
		line("", "L2 is not reachable now: answers come from L1 and the origin until it is")
	}
	feed := b.feed
	if feed == "" {
		feed = alpaca.DefaultStockFeed
	}
	if b.sim != nil {
		line("origin", "Alpaca simulator, %s: simulated data, attributed %s, never market data", b.sim.url, alpaca.SourceSimulator)
		if !b.set.simAt.IsZero() {
			line("", "simulated clock started at %s (%s)", b.set.simAt.Format(time.RFC3339), envSimAt)
		}
		line("", "(set %s and %s to use Alpaca)", config.EnvAlpacaKeyID, config.EnvAlpacaSecretKey)
	} else {
		url := b.originURL
		if url == "" {
			url = alpaca.DefaultBaseURL
		}
		line("origin", "Alpaca, %s, stock feed %s", url, feed)
	}
	id, secret := auth.DevKeyID, auth.DevSecret
	if b.set.devKeys {
		line("client key", "%s: %s   %s: %s", auth.HeaderKeyID, auth.DevKeyID, auth.HeaderSecretKey, auth.DevSecret)
		line("", "(the development pair; set %s=id:secret,... for your own)", config.EnvClientKeys)
	} else {
		ids := b.set.keyIDs()
		id, secret = ids[0], "<secret of "+ids[0]+">"
		line("client keys", "from %s: %s", config.EnvClientKeys, strings.Join(ids, ", "))
	}
	line("prefetch", "%s", b.prefetch)
	writeHubLines(&sb, b.hub, b.apiURL)
	line("try", "curl -i -H '%s: %s' -H '%s: %s' %s/v2/stocks/AAPL/quotes/latest",
		auth.HeaderKeyID, id, auth.HeaderSecretKey, secret, b.apiURL)
	line("stop", "Ctrl-C")
	sb.WriteString(readyLine + "\n")
	_, _ = io.WriteString(w, sb.String())
}
