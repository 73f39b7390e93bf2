package stream

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// client is one client connection.
type client struct {
	fh      *feedHub
	conn    *websocket.Conn
	framing Framing
	send    chan []byte          // frames to write; bounded
	subs    atomic.Pointer[Subs] // nil until authenticated
	slow    atomic.Bool
	ctx     context.Context
	cancel  context.CancelFunc
	once    sync.Once
}

// framingOf is the framing a handshake asks for.
func framingOf(r *http.Request) Framing {
	if strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "msgpack") {
		return Msgpack
	}
	return JSON
}

// serveClient runs one client connection until it ends.
func (fh *feedHub) serveClient(w http.ResponseWriter, r *http.Request) {
	framing := framingOf(r)
	if fh.info.msgpackOnly && framing != Msgpack {
		http.Error(w, "this feed requires Content-Type: application/msgpack", http.StatusBadRequest)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // clients authenticate in-band, as with Alpaca
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return
	}
	conn.SetReadLimit(maxClientMessageBytes)
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	c := &client{fh: fh, conn: conn, framing: framing, send: make(chan []byte, fh.h.o.QueueLen), ctx: ctx, cancel: cancel}
	fh.addClient(c)
	defer fh.removeClient(c)
	go c.writeLoop()
	c.enqueue(SuccessFrame(framing, "connected"))
	c.readLoop()
	c.close()
}

// enqueue queues a frame, or cuts the client off as slow when its queue is
// full. It never blocks.
func (c *client) enqueue(frame []byte) {
	if c.ctx.Err() != nil || c.slow.Load() {
		return
	}
	select {
	case c.send <- frame:
	default:
		c.cutSlow()
	}
}

// cutSlow marks the client slow, once: the writer discards what is queued,
// sends 407 as soon as the connection takes it (within WriteTimeout) and
// disconnects. Nobody waits for it.
func (c *client) cutSlow() {
	if c.slow.CompareAndSwap(false, true) {
		c.fh.h.stats.SlowClients.Add(1)
		c.fh.h.o.Logger.Info("stream: slow client cut off", "feed", c.fh.info.path)
		select {
		case c.send <- nil: // wakes the writer if it is idle
		default:
		}
	}
}

// close ends the connection with a normal closure.
func (c *client) close() {
	c.once.Do(func() {
		c.cancel()
		go func() { _ = c.conn.Close(websocket.StatusNormalClosure, "") }()
	})
}

// closeWith sends an error frame, then closes.
func (c *client) closeWith(code int) {
	c.once.Do(func() {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), c.fh.h.o.WriteTimeout)
			defer cancel()
			_ = c.conn.Write(ctx, c.messageType(), ErrorFrame(c.framing, code))
			c.cancel()
			_ = c.conn.Close(websocket.StatusPolicyViolation, errorText[code])
		}()
	})
}

func (c *client) messageType() websocket.MessageType {
	if c.framing == Msgpack {
		return websocket.MessageBinary
	}
	return websocket.MessageText
}

// writeLoop writes queued frames until the client ends. A write that takes
// longer than WriteTimeout closes the connection.
func (c *client) writeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case f := <-c.send:
			if c.slow.Load() {
				c.closeWith(CodeSlowClient)
				return
			}
			ctx, cancel := context.WithTimeout(c.ctx, c.fh.h.o.WriteTimeout)
			err := c.conn.Write(ctx, c.messageType(), f)
			cancel()
			if err != nil {
				c.close()
				return
			}
		}
	}
}

// readLoop reads client messages: authentication first (404 and
// disconnection after AuthTimeout), then subscription changes.
func (c *client) readLoop() {
	var authed atomic.Bool
	timer := time.AfterFunc(c.fh.h.o.AuthTimeout, func() {
		if !authed.Load() {
			c.closeWith(CodeAuthTimeout)
		}
	})
	defer timer.Stop()
	for c.ctx.Err() == nil {
		_, b, err := c.conn.Read(c.ctx)
		if err != nil {
			return
		}
		ok := authed.Load()
		goOn := c.handle(b, &ok)
		authed.Store(ok)
		if !goOn {
			return
		}
	}
}

// handle answers one client message and reports whether to go on.
func (c *client) handle(b []byte, authed *bool) bool {
	a, err := ParseAction(b, c.framing)
	if err != nil {
		c.enqueue(ErrorFrame(c.framing, CodeInvalidSyntax))
		return true
	}
	switch {
	case a.Action == "auth" && *authed:
		c.enqueue(ErrorFrame(c.framing, CodeAlreadyAuthed))
	case a.Action == "auth":
		if !c.authenticate(a.Key, a.Secret) {
			c.closeWith(CodeAuthFailed)
			return false
		}
		*authed = true
		c.subs.Store(&Subs{})
		c.enqueue(SuccessFrame(c.framing, "authenticated"))
	case a.Action != "subscribe" && a.Action != "unsubscribe":
		c.enqueue(ErrorFrame(c.framing, CodeInvalidSyntax))
	case !*authed:
		c.enqueue(ErrorFrame(c.framing, CodeNotAuthenticated))
	default:
		next, code := c.fh.reg.apply(c, a.Action == "subscribe", a.Subs)
		if code != 0 {
			c.enqueue(ErrorFrame(c.framing, code))
			return true
		}
		c.subs.Store(&next)
		c.enqueue(SubscriptionFrame(c.framing, c.fh.info.channels, next))
	}
	return true
}

// authenticate checks a key pair against the client key store.
func (c *client) authenticate(id, secret string) bool {
	keys := c.fh.h.o.Keys
	if keys == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	store, err := keys(ctx)
	if err != nil {
		c.fh.h.o.Logger.Warn("stream: client keys unavailable", "err", err)
		return false
	}
	return store.Check(id, secret)
}
