package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
	"github.com/opitios/opitios-alpaca/shared/service"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

// envHub turns the stream hub on (1) or off (0). It is on by default with
// the simulator and off with Alpaca, whose one stream per account a
// developer's own programs may already use.
const envHub = "OPITIOS_HUB"

// localFeeds are the stream paths served locally.
var localFeeds = []string{stream.FeedIEX, stream.FeedIndicative, stream.FeedCrypto, stream.FeedNews}

// localHub is the stream hub, run in-process on the API's port.
type localHub struct {
	hub  *stream.Hub
	stop func() error
}

// startHub runs the stream hub against upstream (the simulator's URL, or
// "" for Alpaca's stream host), writing into the service's cache. It
// returns nil when the hub is off.
func startHub(ctx context.Context, getenv func(string) string, svc *service.Service, upstream string, store *auth.KeyStore, clock market.Clock, log *slog.Logger) (*localHub, error) {
	on, err := config.Bool(getenv, envHub, upstream != "")
	if err != nil || !on {
		return nil, err
	}
	o, err := stream.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if len(o.Feeds) == 0 {
		o.Feeds = localFeeds
	}
	o.BaseURL = upstream
	if upstream != "" {
		o.Source = alpaca.SourceSimulator
	}
	ac := svc.Config.Alpaca
	o.KeyID, o.SecretKey, o.StockFeed, o.OptionFeed = ac.KeyID, ac.SecretKey, ac.StockFeed, ac.OptionFeed
	o.Keys = func(context.Context) (*auth.KeyStore, error) { return store, nil }
	o.Redis, o.Cache, o.Clock, o.Logger = svc.Redis, svc.Cache, clock, log
	h, err := stream.New(o)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.Run(hctx)
	}()
	return &localHub{hub: h, stop: func() error { cancel(); <-done; return nil }}, nil
}

// withHub sends WebSocket upgrades on the hub's stream paths to it and
// everything else to next: /v1beta1/news is both the news stream and the
// REST news route, told apart as Alpaca's hosts tell them apart, by the
// upgrade.
func withHub(h *localHub, next http.Handler) http.Handler {
	if h == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.hub.Handles(r.URL.Path) && isUpgrade(r) {
			h.hub.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isUpgrade reports whether r asks to switch to the WebSocket protocol.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// describe is the banner's stream line.
func (h *localHub) describe(apiURL string) string {
	if h == nil {
		return fmt.Sprintf("off (%s=1 to turn on)", envHub)
	}
	ws := strings.Replace(apiURL, "http://", "ws://", 1)
	var urls []string
	for _, p := range h.hub.Paths() {
		urls = append(urls, ws+p)
	}
	return strings.Join(urls, " ")
}

// writeHubLines adds the stream lines to the banner.
func writeHubLines(w io.Writer, h *localHub, apiURL string) {
	fmt.Fprintf(w, "  %-11s %s\n", "streams", h.describe(apiURL))
	if h != nil {
		fmt.Fprintf(w, "  %-11s %s\n", "", "(Alpaca's stream protocol; SDK: stream.WithBaseURL(\""+apiURL+"/v2\"))")
	}
}
