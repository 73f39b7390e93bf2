package stream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// upstream is a feed's connection to Alpaca, run while the hub holds the
// feed's lease.
type upstream struct {
	fh        *feedHub
	url       string
	held      atomic.Bool  // this hub holds the lease
	connected atomic.Bool  // a session is established and not silent
	heard     atomic.Int64 // frames and pongs received; refresh needs it to move
	mu        sync.Mutex
	sent      Subs // what was last asked of upstream
	acked     Subs // what upstream last confirmed
}

// codeError is an error message from upstream.
type codeError struct {
	code int
	msg  string
}

func (e codeError) Error() string { return fmt.Sprintf("upstream error %d: %s", e.code, e.msg) }

// errSilent ends a session that was silent past SilenceTimeout.
var errSilent = errors.New("upstream silent")

func (u *upstream) setHeld(b bool) { u.held.Store(b) }

// healthy reports whether the upstream is connected here.
func (u *upstream) healthy() bool { return u.connected.Load() }

// current returns the subscription upstream last confirmed.
func (u *upstream) current() Subs {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.acked.clone()
}

// run keeps a session open until ctx ends, reconnecting with jittered
// exponential backoff (reset after a session that lasted a minute).
func (u *upstream) run(ctx context.Context) {
	o := u.fh.h.o
	backoff := o.BackoffMin
	for ctx.Err() == nil {
		began := time.Now()
		err := u.session(ctx)
		if ctx.Err() != nil {
			return
		}
		u.report(err)
		if time.Since(began) > time.Minute {
			backoff = o.BackoffMin
		}
		var ce codeError
		if errors.As(err, &ce) && (ce.code == CodeAuthFailed || ce.code == CodeInsufficientSub) {
			backoff = o.BackoffMax // only an operator can fix these
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		_ = market.Sleep(ctx, wait)
		backoff = min(backoff*2, o.BackoffMax)
	}
}

// report logs why a session ended, with a clear line for Alpaca's account
// errors, and counts it.
func (u *upstream) report(err error) {
	st, log := &u.fh.h.stats, u.fh.h.o.Logger
	st.UpstreamDrops.Add(1)
	var ce codeError
	if !errors.As(err, &ce) {
		log.Warn("stream: upstream session ended; reconnecting", "feed", u.fh.info.path, "err", err)
		return
	}
	st.UpstreamErrors.Add(1)
	switch ce.code {
	case CodeConnectionLimit:
		log.Error("stream: Alpaca refused the upstream: connection limit exceeded (406); another client uses this account's stream", "feed", u.fh.info.path)
	case CodeAuthFailed:
		log.Error("stream: Alpaca refused the service's keys (402 auth failed)", "feed", u.fh.info.path)
	case CodeInsufficientSub:
		log.Error("stream: the Alpaca plan does not include this feed (409 insufficient subscription)", "feed", u.fh.info.path)
	default:
		log.Error("stream: upstream error", "feed", u.fh.info.path, "code", ce.code, "msg", ce.msg)
	}
}

// session runs one upstream connection: greeting, auth, subscription, then
// frames until it fails, falls silent, or ctx ends.
func (u *upstream) session(ctx context.Context) error {
	o := u.fh.h.o
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, _, err := websocket.Dial(dctx, u.url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Content-Type": {"application/msgpack"}},
	})
	cancel()
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(64 << 20)
	if err := u.handshake(ctx, conn); err != nil {
		return err
	}
	u.mu.Lock()
	u.sent, u.acked = Subs{}, Subs{}
	u.mu.Unlock()
	st := &u.fh.h.stats
	st.UpstreamConnects.Add(1)
	st.UpstreamConnected.Add(1)
	u.connected.Store(true)
	defer func() {
		u.connected.Store(false)
		st.UpstreamConnected.Add(-1)
		u.fh.sink.forgetIfAny()
	}()
	o.Logger.Info("stream: upstream connected", "feed", u.fh.info.path)
	return u.loop(ctx, conn)
}

// handshake reads the greeting and authenticates.
func (u *upstream) handshake(ctx context.Context, conn *websocket.Conn) error {
	if err := expect(ctx, conn, "connected"); err != nil {
		return err
	}
	o := u.fh.h.o
	auth := EncodeAction(Action{Action: "auth", Key: o.KeyID, Secret: o.SecretKey}, Msgpack)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := conn.Write(wctx, websocket.MessageBinary, auth); err != nil {
		return err
	}
	return expect(ctx, conn, "authenticated")
}

// expect reads one frame and wants [{"T":"success","msg":msg}].
func expect(ctx context.Context, conn *websocket.Conn, msg string) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, b, err := conn.Read(rctx)
	if err != nil {
		return err
	}
	msgs, err := DecodeFrame(b, Msgpack)
	if err != nil || len(msgs) == 0 {
		return fmt.Errorf("upstream: unreadable answer waiting for %q", msg)
	}
	m := msgs[0]
	if m.T == "error" {
		s, _ := m.Field("msg").(string)
		return codeError{codeOf(m), s}
	}
	if s, _ := m.Field("msg").(string); m.T != "success" || s != msg {
		return fmt.Errorf("upstream: expected %q, got %s", msg, m.js)
	}
	return nil
}

// loop reads frames in the background and, here, keeps the subscription in
// line with the clients', pings, and watches for silence.
func (u *upstream) loop(ctx context.Context, conn *websocket.Conn) error {
	o := u.fh.h.o
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	heard := make(chan struct{}, 1)
	readErr := make(chan error, 1)
	go func() { readErr <- u.readLoop(sctx, conn, heard) }()
	if err := u.sync(sctx, conn); err != nil {
		return err
	}
	pingEvery := min(o.SilenceTimeout/3, o.RefreshInterval)
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	silence := time.NewTimer(o.SilenceTimeout)
	defer silence.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return err
		case <-heard:
			silence.Reset(o.SilenceTimeout)
		case <-silence.C:
			return errSilent
		case <-u.fh.reg.changed:
			if err := u.sync(sctx, conn); err != nil {
				return err
			}
		case <-ping.C:
			go u.ping(sctx, conn, pingEvery, heard)
		}
	}
}

// ping sends a ping; its pong counts as hearing from upstream.
func (u *upstream) ping(ctx context.Context, conn *websocket.Conn, d time.Duration, heard chan<- struct{}) {
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if conn.Ping(pctx) == nil {
		u.touch(heard)
	}
}

func (u *upstream) touch(heard chan<- struct{}) {
	u.heard.Add(1)
	select {
	case heard <- struct{}{}:
	default:
	}
}

// readLoop reads frames until an error: data goes to publish, control
// messages update the confirmed subscription or end the session.
func (u *upstream) readLoop(ctx context.Context, conn *websocket.Conn, heard chan<- struct{}) error {
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		u.touch(heard)
		msgs, err := DecodeFrame(b, Msgpack)
		if err != nil {
			u.fh.h.o.Logger.Warn("stream: unreadable upstream frame", "feed", u.fh.info.path, "err", err)
			continue
		}
		data := msgs[:0:0]
		for _, m := range msgs {
			if err := u.control(m); err != nil {
				return err
			}
			if _, ok := channelOf[m.T]; ok {
				data = append(data, m)
			}
		}
		if len(data) > 0 {
			u.fh.publish(data)
		}
	}
}

// control handles a control message; an error ends the session.
func (u *upstream) control(m *Msg) error {
	switch m.T {
	case "subscription":
		s := Subs{}
		for _, f := range m.fields {
			if syms, ok := stringList(f.v); ok && len(syms) > 0 {
				s[f.k] = setOf(syms)
			}
		}
		u.mu.Lock()
		u.acked = s
		u.mu.Unlock()
		u.fh.h.stats.UpstreamSymbols.Store(int64(count(s)))
	case "error":
		msg, _ := m.Field("msg").(string)
		ce := codeError{codeOf(m), msg}
		if ce.code == CodeSymbolLimit || ce.code == CodeInvalidForFeed {
			u.fh.h.stats.UpstreamErrors.Add(1)
			u.fh.h.o.Logger.Error("stream: Alpaca refused a subscription change", "feed", u.fh.info.path, "code", ce.code, "msg", msg)
			return nil
		}
		return ce
	}
	return nil
}

// sync asks upstream for the difference between what the clients want and
// what was last asked.
func (u *upstream) sync(ctx context.Context, conn *websocket.Conn) error {
	want := u.fh.reg.want()
	u.mu.Lock()
	add, rem := want.minus(u.sent), u.sent.minus(want)
	u.sent = want
	u.mu.Unlock()
	for _, ch := range []struct {
		action string
		s      Subs
	}{{"subscribe", add}, {"unsubscribe", rem}} {
		if ch.s.empty() {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := conn.Write(wctx, websocket.MessageBinary, EncodeAction(Action{Action: ch.action, Subs: ch.s}, Msgpack))
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}
