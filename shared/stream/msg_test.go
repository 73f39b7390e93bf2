package stream

import (
	"testing"
	"time"
)

// A message decoded from either framing encodes to the same JSON, and the
// REST object drops S and T and follows the REST order.
func TestMsgFramingsAgree(t *testing.T) {
	in := `[{"T":"q","S":"AAPL","bx":"V","bp":189.5,"bs":300,"ax":"V","ap":189.52,"as":100,"t":"2026-03-10T15:59:59.123456789Z","c":["R"],"z":"C"}]`
	js, err := DecodeFrame([]byte(in), JSON)
	if err != nil || len(js) != 1 {
		t.Fatal(err)
	}
	if got := string(Frame(JSON, js)); got != in {
		t.Fatalf("JSON round trip:\n got %s\nwant %s", got, in)
	}
	mp, err := DecodeFrame(Frame(Msgpack, js), Msgpack)
	if err != nil || len(mp) != 1 {
		t.Fatal(err)
	}
	if got := string(Frame(JSON, mp)); got != in {
		t.Fatalf("via MessagePack:\n got %s\nwant %s", got, in)
	}
	if _, ok := mp[0].Field("t").(time.Time); !ok {
		t.Fatalf("t decoded as %T, want time.Time", mp[0].Field("t"))
	}
	want := `{"t":"2026-03-10T15:59:59.123456789Z","ax":"V","ap":189.52,"as":100,"bx":"V","bp":189.5,"bs":300,"c":["R"],"z":"C"}`
	if got := string(RESTObject(mp[0])); got != want {
		t.Fatalf("REST object:\n got %s\nwant %s", got, want)
	}
}
