package stream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/opitios/opitios-alpaca/shared/auth"
	"github.com/opitios/opitios-alpaca/shared/stream"
)

// raw is a JSON protocol client.
type raw struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialRaw(t *testing.T, url string) *raw { return dialRawAt(t, url, "/v2/iex") }

// dialRawAt dials the stream path of the server at url.
func dialRawAt(t *testing.T, url, path string) *raw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(url, "http://", "ws://", 1)+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(-1)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &raw{t, conn}
}

func (r *raw) send(msg string) {
	r.t.Helper()
	if err := r.conn.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		r.t.Fatal(err)
	}
}

// expect reads one frame and checks it is want.
func (r *raw) expect(want string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := r.conn.Read(ctx)
	if err != nil {
		r.t.Fatalf("reading, want %s: %v", want, err)
	}
	if string(b) != want {
		r.t.Fatalf("got %s, want %s", b, want)
	}
}

func (r *raw) auth() {
	r.t.Helper()
	r.expect(`[{"T":"success","msg":"connected"}]`)
	r.send(`{"action":"auth","key":"` + auth.DevKeyID + `","secret":"` + auth.DevSecret + `"}`)
	r.expect(`[{"T":"success","msg":"authenticated"}]`)
}

// protocolHub is a hub whose upstream is a simulator frozen at session.
func protocolHub(t *testing.T, mod func(*stream.Options)) *hubEnv {
	clock := clockFunc(func() time.Time { return session })
	s := startSim(t, clock)
	o := testOptions(s, clock, nil)
	o.SymbolLimit = 3
	o.Hot = []string{"SPY"}
	if mod != nil {
		mod(&o)
	}
	return startHub(t, o)
}

// The protocol answers Alpaca's messages byte for byte, with its error
// codes.
func TestProtocolAnswers(t *testing.T) {
	h := protocolHub(t, nil)
	r := dialRaw(t, h.url)
	r.expect(`[{"T":"success","msg":"connected"}]`)
	r.send(`{"action":"subscribe","trades":["AAPL"]}`)
	r.expect(`[{"T":"error","code":401,"msg":"not authenticated"}]`)
	r.send(`not json`)
	r.expect(`[{"T":"error","code":400,"msg":"invalid syntax"}]`)
	r.send(`{"action":"auth","key":"` + auth.DevKeyID + `","secret":"` + auth.DevSecret + `"}`)
	r.expect(`[{"T":"success","msg":"authenticated"}]`)
	r.send(`{"action":"subscribe","trades":["AAPL"],"quotes":["AAPL","MSFT"],"bars":["*"]}`)
	r.expect(`[{"T":"subscription","trades":["AAPL"],"quotes":["AAPL","MSFT"],"bars":["*"],"updatedBars":[],"dailyBars":[],"statuses":[],"lulds":[],"corrections":["AAPL"],"cancelErrors":["AAPL"],"imbalances":[]}]`)
	r.send(`{"action":"subscribe","quotes":["TSLA","NVDA"]}`)
	r.expect(`[{"T":"error","code":405,"msg":"symbol limit exceeded"}]`)
	r.send(`{"action":"subscribe","trades":["*"]}`)
	r.expect(`[{"T":"error","code":405,"msg":"symbol limit exceeded"}]`)
	r.send(`{"action":"subscribe","orderbooks":["AAPL"]}`)
	r.expect(`[{"T":"error","code":410,"msg":"invalid subscribe action for this feed"}]`)
	r.send(`{"action":"unsubscribe","trades":["AAPL"],"quotes":["MSFT"],"bars":["*"]}`)
	r.expect(`[{"T":"subscription","trades":[],"quotes":["AAPL"],"bars":[],"updatedBars":[],"dailyBars":[],"statuses":[],"lulds":[],"corrections":[],"cancelErrors":[],"imbalances":[]}]`)
	r.send(`{"action":"subscribe","quotes":["TSLA","NVDA"]}`)
	r.expect(`[{"T":"subscription","trades":[],"quotes":["AAPL","NVDA","TSLA"],"bars":[],"updatedBars":[],"dailyBars":[],"statuses":[],"lulds":[],"corrections":[],"cancelErrors":[],"imbalances":[]}]`)
}

// A wrong key gets 402 and a client that never authenticates 404, each
// followed by the end of the connection.
func TestAuthFailureAndTimeout(t *testing.T) {
	h := protocolHub(t, func(o *stream.Options) { o.AuthTimeout = 300 * time.Millisecond })
	r := dialRaw(t, h.url)
	r.expect(`[{"T":"success","msg":"connected"}]`)
	r.send(`{"action":"auth","key":"` + auth.DevKeyID + `","secret":"wrong"}`)
	r.expect(`[{"T":"error","code":402,"msg":"auth failed"}]`)
	expectClosed(t, r)

	r = dialRaw(t, h.url)
	r.expect(`[{"T":"success","msg":"connected"}]`)
	began := time.Now()
	r.expect(`[{"T":"error","code":404,"msg":"auth timeout"}]`)
	if d := time.Since(began); d < 250*time.Millisecond {
		t.Fatalf("auth timeout after %v, want 300ms", d)
	}
	expectClosed(t, r)
}

func expectClosed(t *testing.T, r *raw) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, b, err := r.conn.Read(ctx); err == nil {
		t.Fatalf("read %s, want the connection closed", b)
	}
}

// A client that stops reading is cut off with 407 when its queue fills,
// while another client keeps receiving; once it reads again, it finds 407
// after what was in flight, then the end of the connection.
func TestSlowClientCutOff(t *testing.T) {
	clock := runningClock()
	// Quotes every 100 ms: the other client, under the race detector on a
	// busy machine, must not fall 8 frames behind.
	s := startSimTick(t, clock, 100*time.Millisecond)
	o := testOptions(s, clock, nil)
	o.QueueLen = 8
	o.WriteTimeout = time.Minute // the write in flight waits for the reader
	h := startHub(t, o)
	// The other client reads another symbol: the burst below is for the
	// slow client alone, so what this one sees shows that nobody waits for
	// the slow one.
	var fast counts
	sdkClient(t, h.url, &fast, "MSFT")
	slow := dialRaw(t, h.url)
	slow.auth()
	slow.send(`{"action":"subscribe","quotes":["AAPL"]}`)
	slow.expect(`[{"T":"subscription","trades":[],"quotes":["AAPL"],"bars":[],"updatedBars":[],"dailyBars":[],"statuses":[],"lulds":[],"corrections":[],"cancelErrors":[],"imbalances":[]}]`)
	simPost(t, s, "/_sim/stream/burst?symbol=AAPL&n=200000")
	eventually(t, 60*time.Second, "the slow client cut off", func() bool { return h.hub.Stats().SlowClients.Load() == 1 })
	got407 := make(chan bool, 1)
	go func() {
		for {
			_, b, err := slow.conn.Read(context.Background())
			if err != nil {
				got407 <- false
				return
			}
			if string(b) == `[{"T":"error","code":407,"msg":"slow client"}]` {
				got407 <- true
				return
			}
		}
	}()
	n := fast.quotes.Load()
	eventually(t, 10*time.Second, "the other client still receives", func() bool { return fast.quotes.Load() > n+3 })
	select {
	case ok := <-got407:
		if !ok {
			t.Fatal("the slow client's connection ended without 407")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the slow client got neither 407 nor the end of its connection")
	}
	expectClosed(t, slow)
}
