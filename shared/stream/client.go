package stream

import (
	"context"
	"errors"
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
	if c.ctx.Err() != nil {
		return
	}
	select {
	case c.send <- frame:
	default:
		c.cutSlow()
	}
}

// cutSlow sends 407 and disconnects, once, without waiting on the client.
func (c *client) cutSlow() {
	c.once.Do(func() {
		c.fh.h.stats.SlowClients.Add(1)
		c.fh.h.o.Logger.Info("stream: slow client cut off", "feed", c.fh.info.path)
		c.cancel()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = c.conn.Write(ctx, c.messageType(), ErrorFrame(c.framing, CodeSlowClient))
			_ = c.conn.CloseNow()
		}()
	})
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
		c.cancel()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = c.conn.Write(ctx, c.messageType(), ErrorFrame(c.framing, code))
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
// longer than WriteTimeout makes the client slow.
func (c *client) writeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case f := <-c.send:
			ctx, cancel := context.WithTimeout(c.ctx, c.fh.h.o.WriteTimeout)
			err := c.conn.Write(ctx, c.messageType(), f)
			cancel()
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					c.cutSlow()
				}
				c.close()
				return
			}
		}
	}
}

// readLoop reads client messages: authentication first (within
// AuthTimeout), then subscription changes.
func (c *client) readLoop() {
	authed := false
	deadline := time.Now().Add(c.fh.h.o.AuthTimeout)
	for c.ctx.Err() == nil {
		ctx, cancel := c.ctx, context.CancelFunc(func() {})
		if !authed {
			ctx, cancel = context.WithDeadline(c.ctx, deadline)
		}
		_, b, err := c.conn.Read(ctx)
		cancel()
		if err != nil {
			if !authed && errors.Is(err, context.DeadlineExceeded) && c.ctx.Err() == nil {
				c.closeWith(CodeAuthTimeout)
			}
			return
		}
		if !c.handle(b, &authed) {
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
