package stream

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/config"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// Defaults of Options.
const (
	DefaultBaseURL         = "wss://stream.data.alpaca.markets"
	DefaultSymbolLimit     = 30
	DefaultLeaseTTL        = 6 * time.Second
	DefaultLeasePoll       = time.Second
	DefaultSilenceTimeout  = 10 * time.Second
	DefaultFlushInterval   = 100 * time.Millisecond
	DefaultRefreshInterval = time.Second
	DefaultAuthTimeout     = 10 * time.Second
	DefaultQueueLen        = 256
	DefaultWriteTimeout    = 5 * time.Second
	DefaultBackoffMin      = 500 * time.Millisecond
	DefaultBackoffMax      = 30 * time.Second
)

// Options configures a Hub. The zero value of each field means its default.
type Options struct {
	// Feeds are the feed paths served (Feeds entries). Default: FeedIEX.
	Feeds []string
	// BaseURL is the upstream stream host, ws:// or wss:// (http(s):// is
	// accepted and mapped). Default DefaultBaseURL.
	BaseURL string
	// KeyID and SecretKey are the service's Alpaca credentials.
	KeyID, SecretKey string
	// Keys returns the client key store that authenticates clients. Nil
	// refuses every client (402).
	Keys func(ctx context.Context) (*auth.KeyStore, error)
	// Redis holds the upstream leases. Nil: this hub holds every upstream
	// without a lease (one hub only).
	Redis redis.UniversalClient
	// Cache receives quotes, trades and bars. Nil: nothing is stored.
	Cache *cache.Cache
	// StockFeed and OptionFeed are the deployment's default feeds (entry
	// identifiers of the default feed carry no suffix). Defaults
	// alpaca.DefaultStockFeed and alpaca.DefaultOptionFeed.
	StockFeed, OptionFeed string
	// Source attributes stored entries: Source + "/" + feed + "+stream".
	// Default "alpaca". A source naming the simulator ("alpaca-sim") is
	// attributed "alpaca-sim+stream", feed left out.
	Source string
	// SymbolLimit caps the trade and quote symbols of each upstream (the
	// plan's limit); negative means none. Default DefaultSymbolLimit.
	SymbolLimit int
	// Hot symbols are subscribed upstream in the room clients leave.
	Hot []string
	// Clock gives every instant. Nil: market.SystemClock.
	Clock  market.Clock
	Logger *slog.Logger // nil: slog.Default()

	LeaseTTL        time.Duration // default DefaultLeaseTTL
	LeasePoll       time.Duration // standby poll, default DefaultLeasePoll
	SilenceTimeout  time.Duration // an upstream silent this long is dead; default DefaultSilenceTimeout
	FlushInterval   time.Duration // L2 write coalescing; default DefaultFlushInterval
	RefreshInterval time.Duration // re-store of quiet entries; default DefaultRefreshInterval
	AuthTimeout     time.Duration // client authentication; default DefaultAuthTimeout
	WriteTimeout    time.Duration // one write to a client; default DefaultWriteTimeout
	QueueLen        int           // frames queued per client; default DefaultQueueLen
	BackoffMin      time.Duration // first reconnect delay; default DefaultBackoffMin
	BackoffMax      time.Duration // longest reconnect delay; default DefaultBackoffMax
}

func (o Options) withDefaults() Options {
	if len(o.Feeds) == 0 {
		o.Feeds = []string{FeedIEX}
	}
	o.BaseURL = strings.TrimRight(cmp.Or(o.BaseURL, DefaultBaseURL), "/")
	o.StockFeed = cmp.Or(o.StockFeed, alpaca.DefaultStockFeed)
	o.OptionFeed = cmp.Or(o.OptionFeed, alpaca.DefaultOptionFeed)
	o.Source = cmp.Or(o.Source, "alpaca")
	if o.SymbolLimit == 0 {
		o.SymbolLimit = DefaultSymbolLimit
	}
	if o.Clock == nil {
		o.Clock = market.SystemClock
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.LeaseTTL = config.PositiveOr(o.LeaseTTL, DefaultLeaseTTL)
	o.LeasePoll = config.PositiveOr(o.LeasePoll, DefaultLeasePoll)
	o.SilenceTimeout = config.PositiveOr(o.SilenceTimeout, DefaultSilenceTimeout)
	o.FlushInterval = config.PositiveOr(o.FlushInterval, DefaultFlushInterval)
	o.RefreshInterval = config.PositiveOr(o.RefreshInterval, DefaultRefreshInterval)
	o.AuthTimeout = config.PositiveOr(o.AuthTimeout, DefaultAuthTimeout)
	o.WriteTimeout = config.PositiveOr(o.WriteTimeout, DefaultWriteTimeout)
	o.BackoffMin = config.PositiveOr(o.BackoffMin, DefaultBackoffMin)
	o.BackoffMax = config.PositiveOr(o.BackoffMax, DefaultBackoffMax)
	o.QueueLen = config.PositiveOr(o.QueueLen, DefaultQueueLen)
	return o
}

// Hub is the stream hub: an http.Handler serving clients on the feed paths,
// and, while Run runs, the holder (or standby) of each feed's upstream. It
// is safe for concurrent use.
type Hub struct {
	o     Options
	feeds map[string]*feedHub // by path, no slashes around
	stats Stats
}

// New returns a hub. It makes no network call.
func New(o Options) (*Hub, error) {
	o = o.withDefaults()
	h := &Hub{o: o, feeds: map[string]*feedHub{}}
	for _, p := range o.Feeds {
		f, err := feedOf(p)
		if err != nil {
			return nil, err
		}
		h.feeds[f.path] = newFeedHub(h, f)
	}
	return h, nil
}

// Paths returns the served paths, "/" + feed path.
func (h *Hub) Paths() []string {
	out := make([]string, 0, len(h.feeds))
	for _, p := range h.o.Feeds {
		out = append(out, "/"+strings.Trim(p, "/"))
	}
	return out
}

// Handles reports whether path is one of the hub's stream paths.
func (h *Hub) Handles(path string) bool {
	_, ok := h.feeds[strings.Trim(path, "/")]
	return ok
}

// Run holds or stands by for each feed's upstream, writes into the cache
// and serves the clients' subscriptions, until ctx ends. It then
// disconnects the clients and releases the leases.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, f := range h.feeds {
		wg.Go(func() { f.run(ctx) })
	}
	wg.Wait()
	return nil
}

// ServeHTTP accepts a client WebSocket on a feed path; other paths are 404.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := h.feeds[strings.Trim(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	f.serveClient(w, r)
}

// Healthy reports whether every feed's upstream is held by some hub: this
// one (connected and heard from) or another (the lease is taken).
func (h *Hub) Healthy(ctx context.Context) error {
	for _, f := range h.feeds {
		if f.up.healthy() {
			continue
		}
		if f.lease != nil {
			if n, err := h.o.Redis.Exists(ctx, f.lease.Key()).Result(); err == nil && n == 1 && !f.up.held.Load() {
				continue
			}
		}
		return errors.New("stream: upstream " + f.info.path + " is not connected")
	}
	return nil
}

// Stats are the hub's counters and gauges.
type Stats struct {
	UpstreamConnects  atomic.Int64 // sessions established
	UpstreamDrops     atomic.Int64 // sessions ended (drop, silence, error)
	UpstreamErrors    atomic.Int64 // error messages from upstream (402, 405, 406, 409, ...)
	UpstreamConnected atomic.Int64 // feeds connected now
	UpstreamSymbols   atomic.Int64 // trade and quote symbols subscribed upstream now
	Messages          atomic.Int64 // data messages received from upstream
	L2Writes          atomic.Int64 // entries written to L2
	Clients           atomic.Int64 // clients connected now
	SlowClients       atomic.Int64 // clients cut off with 407
	lagMs             atomic.Int64 // the largest message delay since the last EMF document
}

// Stats returns the hub's counters.
func (h *Hub) Stats() *Stats { return &h.stats }
