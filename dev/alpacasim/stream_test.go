package alpacasim_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/opitios/opitios-alpaca/dev/alpacasim"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// streamConn is a test client of one of the simulator's streams: its
// frames' messages arrive on msgs.
type streamConn struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
	msgs chan map[string]any
	err  error // why the reading stopped, once msgs is closed
}

func dialStream(t *testing.T, st *alpacasim.Streams, path, subscribe string) *streamConn {
	t.Helper()
	ts := httptest.NewServer(st)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		conn.CloseNow()
		st.Drop()
		ts.Close()
	})
	c := &streamConn{t: t, ctx: ctx, conn: conn, msgs: make(chan map[string]any, 10000)}
	go c.read()
	c.send(`{"action":"auth","key":"` + testKey + `","secret":"` + testSecret + `"}`)
	c.send(subscribe)
	return c
}

func (c *streamConn) send(msg string) {
	c.t.Helper()
	if err := c.conn.Write(c.ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *streamConn) read() {
	defer close(c.msgs)
	for {
		_, b, err := c.conn.Read(c.ctx)
		if err != nil {
			c.err = err
			return
		}
		var msgs []map[string]any
		if err := json.Unmarshal(b, &msgs); err != nil {
			c.err = fmt.Errorf("frame %s: %w", b, err)
			return
		}
		for _, m := range msgs {
			c.msgs <- m
		}
	}
}

// collect returns the messages received within d by type, without their
// "T" and "S" fields.
func (c *streamConn) collect(d time.Duration) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				return out
			}
			typ, _ := m["T"].(string)
			delete(m, "T")
			delete(m, "S")
			out[typ] = append(out[typ], m)
		case <-timeout:
			return out
		}
	}
}

// trades returns the trades received within d, without their "T" and "S"
// fields.
func (c *streamConn) trades(d time.Duration) []map[string]any {
	return c.collect(d)["t"]
}

// restJSON answers path from s and decodes field of the answer.
func restJSON(t *testing.T, s *alpacasim.Server, path, field string) any {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("APCA-API-KEY-ID", testKey)
	req.Header.Set("APCA-API-SECRET-KEY", testSecret)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 200 {
		t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	return body[field]
}

// The trades streamed are the simulator's trades: the first is the REST
// latest trade, those after it the REST trades history up to the clock's
// instant, and the last one streamed equals the REST latest trade at that
// fixed instant.
func TestStreamedTradesAreRESTTrades(t *testing.T) {
	t0 := friday.Add(17 * time.Second)
	clock := market.NewManualClock(t0)
	s := alpacasim.New(alpacasim.Config{KeyID: testKey, SecretKey: testSecret, Clock: clock})
	st := alpacasim.NewStreams(s, alpacasim.StreamConfig{Tick: 10 * time.Millisecond})
	c := dialStream(t, st, "/v2/iex", `{"action":"subscribe","trades":["AAPL"]}`)
	first := c.trades(300 * time.Millisecond)
	if len(first) != 1 {
		t.Fatalf("%d trades streamed at a standing clock, want the latest one (%v)", len(first), c.err)
	}
	if want := restJSON(t, s, "/v2/stocks/AAPL/trades/latest?feed=iex", "trade"); !reflect.DeepEqual(first[0], want) {
		t.Fatalf("first streamed trade %v, want the REST latest trade %v", first[0], want)
	}
	t1 := t0.Add(3*time.Minute + 250*time.Millisecond)
	clock.Set(t1)
	got := append(first, c.trades(300*time.Millisecond)...)
	want := restJSON(t, s, "/v2/stocks/AAPL/trades?feed=iex&limit=10000&start="+
		first[0]["t"].(string)+"&end="+t1.Format(time.RFC3339Nano), "trades").([]any)
	if len(got) != len(want) || len(got) < 4 {
		t.Fatalf("%d trades streamed from %s to %s, REST history has %d", len(got), first[0]["t"], t1, len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("streamed trade %d %v, REST history %v", i, got[i], want[i])
		}
	}
	if latest := restJSON(t, s, "/v2/stocks/AAPL/trades/latest?feed=iex", "trade"); !reflect.DeepEqual(got[len(got)-1], latest) {
		t.Fatalf("last streamed trade %v, REST latest trade at %s %v", got[len(got)-1], t1, latest)
	}
}

// The crypto stream carries the simulator's crypto trades: after a jump of
// the injected clock, the last one streamed is the REST latest trade.
func TestStreamedCryptoTradesAreRESTTrades(t *testing.T) {
	clock := market.NewManualClock(friday)
	s := alpacasim.New(alpacasim.Config{KeyID: testKey, SecretKey: testSecret, Clock: clock})
	st := alpacasim.NewStreams(s, alpacasim.StreamConfig{Tick: 10 * time.Millisecond})
	c := dialStream(t, st, "/v1beta3/crypto/us", `{"action":"subscribe","trades":["BTC/USD"]}`)
	if first := c.trades(300 * time.Millisecond); len(first) != 1 {
		t.Fatalf("%d crypto trades streamed at a standing clock, want the latest one (%v)", len(first), c.err)
	}
	clock.Advance(2 * time.Minute)
	got := c.trades(300 * time.Millisecond)
	path := "/v1beta3/crypto/us/latest/trades?symbols=BTC/USD"
	latest := restJSON(t, s, path, "trades").(map[string]any)["BTC/USD"]
	if len(got) < 2 || !reflect.DeepEqual(got[len(got)-1], latest) {
		t.Fatalf("%d crypto trades streamed, the last %v; REST latest trade %v", len(got), got[len(got)-1], latest)
	}
}

// A client may send its first frame right behind the upgrade request,
// before the 101 answer arrives: the server must read the bytes it has
// already buffered, not lose them.
func TestFrameSentWithTheUpgradeIsRead(t *testing.T) {
	s := alpacasim.New(alpacasim.Config{KeyID: testKey, SecretKey: testSecret, Clock: market.NewManualClock(friday)})
	ts := httptest.NewServer(alpacasim.NewStreams(s, alpacasim.StreamConfig{AuthTimeout: 2 * time.Second}))
	defer ts.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	upgrade := "GET /v2/iex HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	auth := `{"action":"auth","key":"` + testKey + `","secret":"` + testSecret + `"}`
	if _, err := conn.Write(append([]byte(upgrade), maskedTextFrame(auth)...)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %v, %v", resp, err)
	}
	for _, want := range []string{"connected", "authenticated"} {
		if got := readTextFrame(t, r); !strings.Contains(got, `"msg":"`+want+`"`) {
			t.Fatalf("frame %s, want the %q message", got, want)
		}
	}
}

// maskedTextFrame is msg (under 126 bytes) as a client's masked text frame.
func maskedTextFrame(msg string) []byte {
	mask := []byte{1, 2, 3, 4}
	f := append([]byte{0x81, 0x80 | byte(len(msg))}, mask...)
	for i := range len(msg) {
		f = append(f, msg[i]^mask[i%4])
	}
	return f
}

// readTextFrame reads one unmasked server frame (under 64 KiB) from r.
func readTextFrame(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatal(err)
	}
	n := int(h[1] & 0x7f)
	if n == 126 {
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			t.Fatal(err)
		}
		n = int(binary.BigEndian.Uint16(ext[:]))
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// busyContract returns the contract among the first hundred AAPL ones
// listed at t0 with the most REST trades in [t0, t1] (asked at t1); it
// leaves the clock at t0.
func busyContract(t *testing.T, s *alpacasim.Server, clock *market.ManualClock, t0, t1 time.Time) string {
	t.Helper()
	clock.Set(t0)
	syms := s.OptionSymbols("AAPL")
	clock.Set(t1)
	defer clock.Set(t0)
	syms = syms[:min(100, len(syms))]
	trades := restJSON(t, s, "/v1beta1/options/trades?limit=10000&symbols="+strings.Join(syms, ",")+
		"&start="+t0.Format(time.RFC3339Nano)+"&end="+t1.Format(time.RFC3339Nano), "trades").(map[string]any)
	best, n := "", 0
	for sym, list := range trades {
		if k := len(list.([]any)); k > n || (k == n && sym < best) {
			best, n = sym, k
		}
	}
	if n < 4 {
		t.Fatalf("no AAPL contract has 4 trades in [%s, %s] (%d listed)", t0, t1, len(syms))
	}
	return best
}

// restOption is the REST latest option quote or trade (kind "quotes" or
// "trades") of sym at the server's clock.
func restOption(t *testing.T, s *alpacasim.Server, kind, sym string) any {
	t.Helper()
	return restJSON(t, s, "/v1beta1/options/"+kind+"/latest?symbols="+sym, kind).(map[string]any)[sym]
}

// The option feeds carry the simulator's option quotes and trades: at a
// standing clock, the REST latest quote and trade once; after a jump of the
// clock, the REST latest quote at the new instant and the trades of the REST
// history since the first one.
func TestStreamedOptionsAreRESTOptions(t *testing.T) {
	t0 := friday.Add(17*time.Second + 250*time.Millisecond)
	t1 := t0.Add(5 * time.Minute)
	clock := market.NewManualClock(t0)
	s := alpacasim.New(alpacasim.Config{KeyID: testKey, SecretKey: testSecret, Clock: clock})
	sym := busyContract(t, s, clock, t0, t1)
	st := alpacasim.NewStreams(s, alpacasim.StreamConfig{Tick: 10 * time.Millisecond})
	c := dialStream(t, st, "/v1beta1/opra", `{"action":"subscribe","quotes":["`+sym+`"],"trades":["`+sym+`"]}`)
	first := c.collect(300 * time.Millisecond)
	if q, want := first["q"], restOption(t, s, "quotes", sym); len(q) != 1 || !reflect.DeepEqual(q[0], want) {
		t.Fatalf("quotes streamed at a standing clock %v, want the REST latest quote %v once (%v)", q, want, c.err)
	}
	if tr, want := first["t"], restOption(t, s, "trades", sym); len(tr) != 1 || !reflect.DeepEqual(tr[0], want) {
		t.Fatalf("trades streamed at a standing clock %v, want the REST latest trade %v", tr, want)
	}
	clock.Set(t1)
	next := c.collect(300 * time.Millisecond)
	if q, want := next["q"], restOption(t, s, "quotes", sym); len(q) != 1 || !reflect.DeepEqual(q[0], want) {
		t.Fatalf("quotes streamed after the jump %v, want the REST latest quote %v once", q, want)
	}
	got := append(first["t"], next["t"]...)
	want := restJSON(t, s, "/v1beta1/options/trades?limit=10000&symbols="+sym+"&start="+
		got[0]["t"].(string)+"&end="+t1.Format(time.RFC3339Nano), "trades").(map[string]any)[sym].([]any)
	if len(got) != len(want) || len(got) < 4 {
		t.Fatalf("%d trades of %s streamed to %s, REST history has %d", len(got), sym, t1, len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("streamed trade %d %v, REST history %v", i, got[i], want[i])
		}
	}
}

// Contracts the simulator does not list (an unlisted strike, an unknown
// root, an expired expiration) stream nothing, before and after a jump of
// the clock, and raise no error: the subscription is acknowledged.
func TestUnknownContractsStreamNothing(t *testing.T) {
	clock := market.NewManualClock(friday)
	s := alpacasim.New(alpacasim.Config{KeyID: testKey, SecretKey: testSecret, Clock: clock})
	st := alpacasim.NewStreams(s, alpacasim.StreamConfig{Tick: 10 * time.Millisecond})
	syms := `["AAPL261218C00200001","ZZZZZ261218C00200000","AAPL240119C00200000"]`
	c := dialStream(t, st, "/v1beta1/indicative", `{"action":"subscribe","quotes":`+syms+`,"trades":`+syms+`}`)
	got := c.collect(200 * time.Millisecond)
	clock.Advance(10 * time.Minute)
	for typ, msgs := range c.collect(200 * time.Millisecond) {
		got[typ] = append(got[typ], msgs...)
	}
	if len(got["subscription"]) != 1 || len(got) != 2 || len(got["success"]) != 2 {
		t.Fatalf("messages of unknown contracts %v (%v), want only connected, authenticated and the subscription", got, c.err)
	}
}

// checkStreamedNews subscribes news to subscribe, moves the clock from a
// standing t0 (nothing streamed) to t1, and checks the articles streamed
// are those REST /v1beta1/news answers for query in [t0, t1], oldest first,
// without their images, with empty content; it returns how many.
func checkStreamedNews(t *testing.T, subscribe, query string, t0, t1 time.Time) int {
	t.Helper()
	clock := market.NewManualClock(t0)
	s := alpacasim.New(alpacasim.Config{KeyID: testKey, SecretKey: testSecret, Clock: clock})
	st := alpacasim.NewStreams(s, alpacasim.StreamConfig{Tick: 10 * time.Millisecond})
	c := dialStream(t, st, "/v1beta1/news", `{"action":"subscribe","news":`+subscribe+`}`)
	if got := c.collect(200 * time.Millisecond)["n"]; len(got) != 0 {
		t.Fatalf("%d articles streamed at a standing clock, want none", len(got))
	}
	clock.Set(t1)
	got := c.collect(300 * time.Millisecond)["n"]
	want := restJSON(t, s, "/v1beta1/news?sort=asc&limit=50&"+query+"&start="+t0.Format(time.RFC3339Nano)+
		"&end="+t1.Format(time.RFC3339Nano), "news").([]any)
	if len(want) == 50 || len(got) != len(want) {
		t.Fatalf("%d articles streamed in [%s, %s], REST has %d (at most 49 wanted) (%v)", len(got), t0, t1, len(want), c.err)
	}
	for i, w := range want {
		item := w.(map[string]any)
		delete(item, "images")
		if item["content"] != "" || !reflect.DeepEqual(got[i], item) {
			t.Fatalf("streamed article %d %v, REST %v", i, got[i], item)
		}
	}
	return len(got)
}

// The news stream carries the REST articles created since the last tick:
// every one for "*", and a symbol's alone for that symbol.
func TestStreamedNewsIsRESTNews(t *testing.T) {
	t0 := friday.Add(250 * time.Millisecond)
	if n := checkStreamedNews(t, `["*"]`, "", t0, t0.Add(10*time.Minute)); n < 2 {
		t.Fatalf("%d articles of any symbol in 10 minutes, want a window holding several", n)
	}
	if n := checkStreamedNews(t, `["AAPL"]`, "symbols=AAPL", t0, t0.Add(36*time.Hour)); n < 2 {
		t.Fatalf("%d AAPL articles in 36 hours, want at least 2", n)
	}
}
