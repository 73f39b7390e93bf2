package alpacasim

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/opitios/opitios-alpaca/shared/stream"
)

// StreamConfig configures the simulator's real-time streams. The zero
// value is usable.
type StreamConfig struct {
	// Tick is the real interval between emissions: at each tick every
	// connection gets the quote of each subscribed symbol at the clock's
	// instant when it changed since the last tick, the trades made since
	// the last tick, and the minute bar that completed, if any (the news
	// stream: the articles created since the last tick). Default 100 ms.
	Tick time.Duration
	// SymbolLimit caps the symbols of trades and quotes per connection, as
	// the free IEX plan does (405 beyond it); negative means none. Default
	// 30.
	SymbolLimit int
	// AuthTimeout is the time a connection has to authenticate (404 after
	// it). Default 10 s.
	AuthTimeout time.Duration
}

// Streams serves Alpaca's stream protocol on the stream paths
// (/v2/{iex,sip,delayed_sip,test}, /v1beta1/{indicative,opra},
// /v1beta3/crypto/us, /v1beta1/news) with the real connection limit: one
// authenticated connection per feed and key pair; another gets 406
// "connection limit exceeded". Stock quotes streamed are the simulator's
// REST latest quote at the clock's instant of the tick, so the REST answer
// at an instant equals the last quote streamed by then; trades are the
// simulator's trades (the REST trades history) made since the last tick,
// so the REST latest trade equals the last trade streamed, and minute bars
// are the REST 1Min bars. The crypto stream carries the crypto quotes,
// trades and minute bars the same way, and the option streams the option
// quotes (the REST latest option quote) and trades (the REST option trades
// history) of the listed contracts subscribed, unknown ones skipped. The
// news stream carries, at each tick, the REST /v1beta1/news articles created
// since the last tick that name a subscribed symbol (any, for "*"), as REST
// returns them without content, images left out as Alpaca's stream does.
//
// Everything else is passed to the Server, and the control endpoints are:
//
//	GET  /_sim/stream/stats              StreamStats as JSON
//	POST /_sim/stream/drop               close every stream connection
//	POST /_sim/stream/silence?on=true    freeze every connection (no data, no pongs); on=false thaws
//	POST /_sim/stream/burst?symbol=AAPL&n=1000  send n quotes of symbol at once (frames of 5,000) to its subscribers
type Streams struct {
	s       *Server
	cfg     StreamConfig
	mu      sync.Mutex
	conns   map[*simConn]struct{}
	holders map[string]*simConn // feed + key -> the authenticated connection
	silent  atomic.Bool
	total   atomic.Int64 // connections accepted
	refused atomic.Int64 // 406s
}

// StreamStats counts stream connections.
type StreamStats struct {
	Connections int   `json:"connections"`       // open now
	Authorized  int   `json:"authorized"`        // open and authenticated now
	Total       int64 `json:"total_connections"` // accepted since start
	Refused     int64 `json:"refused_406"`
}

// NewStreams returns the stream server of s.
func NewStreams(s *Server, cfg StreamConfig) *Streams {
	if cfg.Tick <= 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if cfg.SymbolLimit == 0 {
		cfg.SymbolLimit = 30
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 10 * time.Second
	}
	return &Streams{s: s, cfg: cfg, conns: map[*simConn]struct{}{}, holders: map[string]*simConn{}}
}

// Stats returns the connection counts.
func (st *Streams) Stats() StreamStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	return StreamStats{Connections: len(st.conns), Authorized: len(st.holders), Total: st.total.Load(), Refused: st.refused.Load()}
}

// Drop closes every stream connection.
func (st *Streams) Drop() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for c := range st.conns {
		c.kill()
	}
}

// SetSilent freezes (true) or thaws every stream connection.
func (st *Streams) SetSilent(on bool) { st.silent.Store(on) }

// ServeHTTP serves WebSocket requests of the stream paths and
// /_sim/stream/, and passes anything else to the Server.
func (st *Streams) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.URL.Path, "/")
	switch {
	case strings.HasPrefix(r.URL.Path, "/_sim/stream/"):
		st.serveControl(w, r)
	case slices.Contains(stream.Feeds, path) && isUpgrade(r):
		st.serveConn(w, r, path)
	default:
		st.s.ServeHTTP(w, r)
	}
}

// isUpgrade reports whether r asks for a WebSocket: a plain GET of a stream
// path (/v1beta1/news is also the REST news route) goes to the Server.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func (st *Streams) serveControl(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Alpaca-Simulator", "true")
	q := r.URL.Query()
	switch r.URL.Path {
	case "/_sim/stream/stats":
		b, _ := json.Marshal(st.Stats())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
		return
	case "/_sim/stream/drop":
		st.Drop()
	case "/_sim/stream/silence":
		on, err := strconv.ParseBool(q.Get("on"))
		if err != nil {
			writeError(w, badRequest("invalid parameter"))
			return
		}
		st.SetSilent(on)
	case "/_sim/stream/burst":
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n < 1 || n > 1_000_000 || q.Get("symbol") == "" {
			writeError(w, badRequest("invalid parameter"))
			return
		}
		st.burst(q.Get("symbol"), n)
	default:
		writeError(w, &apiError{http.StatusNotFound, 40410000, "endpoint not found"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// freezable is a connection whose reads and writes wait while the streams
// are silent: the peer hears nothing, not even pongs. It reads through r,
// the server's reader of the connection, which may already hold the
// client's first frames.
type freezable struct {
	net.Conn
	r      io.Reader
	silent *atomic.Bool
}

func (f freezable) wait() {
	for f.silent.Load() {
		time.Sleep(20 * time.Millisecond)
	}
}

func (f freezable) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	f.wait()
	return n, err
}

func (f freezable) Write(b []byte) (int, error) {
	f.wait()
	return f.Conn.Write(b)
}

// hijacker hands coder/websocket a freezable connection.
type hijacker struct {
	http.ResponseWriter
	silent *atomic.Bool
}

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	fc := freezable{c, brw.Reader, h.silent}
	return fc, bufio.NewReadWriter(bufio.NewReader(fc), bufio.NewWriter(fc)), nil
}

// simConn is one stream connection.
type simConn struct {
	st      *Streams
	feed    string
	conn    *websocket.Conn
	framing stream.Framing
	ctx     context.Context
	kill    context.CancelFunc
	wmu     sync.Mutex
	mu      sync.Mutex
	subs    stream.Subs
	holder  string // the holders key, once authenticated
}

func (st *Streams) serveConn(w http.ResponseWriter, r *http.Request, feed string) {
	framing := stream.JSON
	if strings.Contains(r.Header.Get("Content-Type"), "msgpack") {
		framing = stream.Msgpack
	}
	conn, err := websocket.Accept(hijacker{w, &st.silent}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	c := &simConn{st: st, feed: feed, conn: conn, framing: framing, ctx: ctx, kill: cancel, subs: stream.Subs{}}
	st.mu.Lock()
	st.conns[c] = struct{}{}
	st.mu.Unlock()
	st.total.Add(1)
	defer st.remove(c)
	defer conn.CloseNow()
	c.write(stream.SuccessFrame(framing, "connected"))
	if !c.authenticate() {
		return
	}
	go c.emit()
	for ctx.Err() == nil {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return
		}
		c.handle(b)
	}
}

func (st *Streams) remove(c *simConn) {
	c.kill()
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.conns, c)
	if c.holder != "" && st.holders[c.holder] == c {
		delete(st.holders, c.holder)
	}
}

func (c *simConn) write(frame []byte) {
	typ := websocket.MessageText
	if c.framing == stream.Msgpack {
		typ = websocket.MessageBinary
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	if c.conn.Write(ctx, typ, frame) != nil {
		c.kill()
	}
}

// fail sends an error and ends the connection.
func (c *simConn) fail(code int) bool {
	c.write(stream.ErrorFrame(c.framing, code))
	c.kill()
	return false
}

// authenticate waits for the auth message and enforces the keys and the
// connection limit.
func (c *simConn) authenticate() bool {
	ctx, cancel := context.WithTimeout(c.ctx, c.st.cfg.AuthTimeout)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			if c.ctx.Err() == nil {
				return c.fail(stream.CodeAuthTimeout)
			}
			return false
		}
		a, err := stream.ParseAction(b, c.framing)
		switch {
		case err != nil:
			c.write(stream.ErrorFrame(c.framing, stream.CodeInvalidSyntax))
			continue
		case a.Action != "auth":
			c.write(stream.ErrorFrame(c.framing, stream.CodeNotAuthenticated))
			continue
		case !credentialOK(a.Key, c.st.s.cfg.KeyID) || !credentialOK(a.Secret, c.st.s.cfg.SecretKey):
			return c.fail(stream.CodeAuthFailed)
		}
		key := c.feed + "\x00" + a.Key
		c.st.mu.Lock()
		_, taken := c.st.holders[key]
		if !taken {
			c.st.holders[key], c.holder = c, key
		}
		c.st.mu.Unlock()
		if taken {
			c.st.refused.Add(1)
			return c.fail(stream.CodeConnectionLimit)
		}
		c.write(stream.SuccessFrame(c.framing, "authenticated"))
		return true
	}
}

// handle answers a subscribe or unsubscribe.
func (c *simConn) handle(b []byte) {
	a, err := stream.ParseAction(b, c.framing)
	if err != nil || (a.Action != "subscribe" && a.Action != "unsubscribe") {
		c.write(stream.ErrorFrame(c.framing, stream.CodeInvalidSyntax))
		return
	}
	chans := simChannels(c.feed)
	for ch := range a.Subs {
		if !slices.Contains(chans, ch) || ch == "corrections" || ch == "cancelErrors" {
			c.write(stream.ErrorFrame(c.framing, stream.CodeInvalidForFeed))
			return
		}
	}
	c.mu.Lock()
	next := stream.Subs{}
	for _, ch := range chans {
		next.Add(ch, c.subs.List(ch)...)
	}
	for ch := range a.Subs {
		if a.Action == "subscribe" {
			next.Add(ch, a.Subs.List(ch)...)
		} else {
			next.Remove(ch, a.Subs.List(ch)...)
		}
	}
	next.Remove("corrections", next.List("corrections")...)
	next.Remove("cancelErrors", next.List("cancelErrors")...)
	next.Add("corrections", next.List("trades")...)
	next.Add("cancelErrors", next.List("trades")...)
	if !c.withinLimit(next) {
		c.mu.Unlock()
		c.write(stream.ErrorFrame(c.framing, stream.CodeSymbolLimit))
		return
	}
	c.subs = next
	c.mu.Unlock()
	c.write(stream.SubscriptionFrame(c.framing, chans, next))
}

func (c *simConn) withinLimit(s stream.Subs) bool {
	limit := c.st.cfg.SymbolLimit
	if limit < 0 {
		return true
	}
	syms := map[string]bool{}
	for _, ch := range []string{"trades", "quotes"} {
		for _, x := range s.List(ch) {
			if x == stream.Wildcard {
				return false
			}
			syms[x] = true
		}
	}
	return len(syms) <= limit
}

// simChannels are a feed's channels, in subscription-message order.
func simChannels(feed string) []string {
	switch {
	case strings.HasPrefix(feed, "v2/"):
		return []string{"trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds", "corrections", "cancelErrors"}
	case feed == stream.FeedCrypto:
		return []string{"trades", "quotes", "bars", "updatedBars", "dailyBars", "orderbooks"}
	case feed == stream.FeedNews:
		return []string{"news"}
	}
	return []string{"trades", "quotes"}
}

// now is the simulator's clock.
func (c *simConn) now() time.Time { return c.st.s.clock.Now() }
