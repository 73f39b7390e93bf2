package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/shared/market"
)

func sampleEntry() *Entry {
	return &Entry{
		Symbol:     "AAPL",
		Data:       json.RawMessage(`{"ap":189.5,  "as":2,"ax":"V","bp":189.49,"bs":3,"bx":"V","c":["R"],"t":"2026-11-27T15:00:00.123456789Z","z":"C"}`),
		CachedAt:   time.Date(2026, 11, 27, 15, 0, 0, 500, time.UTC),
		FetchedAt:  time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC),
		DataSource: "alpaca/iex",
		Session:    market.Regular,
		TTL:        30 * time.Second,
	}
}

func TestEnvelopeGolden(t *testing.T) {
	got := AppendEnvelope(nil, sampleEntry())
	want := `{"symbol":"AAPL","data":{"ap":189.5,  "as":2,"ax":"V","bp":189.49,"bs":3,"bx":"V","c":["R"],"t":"2026-11-27T15:00:00.123456789Z","z":"C"},` +
		`"cached_at":"2026-11-27T15:00:00.0000005Z","fetched_at":"2026-11-27T15:00:00Z","data_source":"alpaca/iex","market_status":"regular","ttl_seconds":30}`
	if string(got) != want {
		t.Fatalf("envelope\n got %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("envelope is not valid JSON")
	}
}

func TestEnvelopeRoundTripKeepsDataBytes(t *testing.T) {
	e := sampleEntry()
	b := AppendEnvelope(nil, e)
	d, err := DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Data, e.Data) {
		t.Fatalf("data changed:\n got %s\nwant %s", d.Data, e.Data)
	}
	if d.Symbol != e.Symbol || !d.CachedAt.Equal(e.CachedAt) || !d.FetchedAt.Equal(e.FetchedAt) ||
		d.DataSource != e.DataSource || d.Session != e.Session || d.TTL != e.TTL {
		t.Fatalf("round trip: got %+v, want %+v", d, e)
	}
}

func TestDecodeEnvelopeRejects(t *testing.T) {
	good := string(AppendEnvelope(nil, sampleEntry()))
	cases := map[string]string{
		"empty":          ``,
		"not json":       `hello`,
		"truncated":      good[:len(good)-10],
		"no data":        `{"symbol":"A","cached_at":"2026-11-27T15:00:00Z","fetched_at":"2026-11-27T15:00:00Z","data_source":"x","market_status":"regular","ttl_seconds":30}`,
		"null data":      `{"symbol":"A","data":null,"cached_at":"2026-11-27T15:00:00Z","fetched_at":"2026-11-27T15:00:00Z","data_source":"x","market_status":"regular","ttl_seconds":30}`,
		"bad session":    `{"symbol":"A","data":{},"cached_at":"2026-11-27T15:00:00Z","fetched_at":"2026-11-27T15:00:00Z","data_source":"x","market_status":"lunch","ttl_seconds":30}`,
		"zero ttl":       `{"symbol":"A","data":{},"cached_at":"2026-11-27T15:00:00Z","fetched_at":"2026-11-27T15:00:00Z","data_source":"x","market_status":"regular","ttl_seconds":0}`,
		"huge ttl":       `{"symbol":"A","data":{},"cached_at":"2026-11-27T15:00:00Z","fetched_at":"2026-11-27T15:00:00Z","data_source":"x","market_status":"regular","ttl_seconds":999999}`,
		"no fetched_at":  `{"symbol":"A","data":{},"cached_at":"2026-11-27T15:00:00Z","data_source":"x","market_status":"regular","ttl_seconds":30}`,
		"no source":      `{"symbol":"A","data":{},"cached_at":"2026-11-27T15:00:00Z","fetched_at":"2026-11-27T15:00:00Z","market_status":"regular","ttl_seconds":30}`,
		"bad time":       `{"symbol":"A","data":{},"cached_at":"yesterday","fetched_at":"2026-11-27T15:00:00Z","data_source":"x","market_status":"regular","ttl_seconds":30}`,
		"array":          `[1,2,3]`,
		"bad data bytes": `{"symbol":"A","data":{"a":},"cached_at":"2026-11-27T15:00:00Z","fetched_at":"2026-11-27T15:00:00Z","data_source":"x","market_status":"regular","ttl_seconds":30}`,
	}
	for name, in := range cases {
		if _, err := DecodeEnvelope([]byte(in)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestEntryFreshness(t *testing.T) {
	e := sampleEntry() // fetched 15:00:00Z (10:00 New York), regular, 30 s
	at := e.FetchedAt
	cases := []struct {
		now     time.Time
		session market.Session
		want    bool
	}{
		{at, market.Regular, true},
		{at.Add(29*time.Second + 999*time.Millisecond), market.Regular, true},
		{at.Add(30 * time.Second), market.Regular, false},
		{at.Add(time.Second), market.AfterHours, false},
		{at.Add(time.Second), market.Closed, false},
	}
	for _, c := range cases {
		if got := e.Fresh(c.now, c.session); got != c.want {
			t.Errorf("Fresh(%v, %s) = %v, want %v", c.now, c.session, got, c.want)
		}
	}
	if e.Age(at.Add(12*time.Second)) != 12*time.Second || e.Left(at.Add(12*time.Second)) != 18*time.Second {
		t.Error("Age/Left wrong")
	}
	if e.Age(at.Add(-time.Second)) != 0 || e.Left(at.Add(time.Minute)) != 0 {
		t.Error("Age/Left must not go negative")
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(AppendEnvelope(nil, sampleEntry()))
	f.Add([]byte(`{"data":[1],"ttl_seconds":5}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"symbol":"A","data":{"x":",\"cached_at\":\""},"cached_at":"2026-11-27T15:00:00Z","fetched_at":"2026-11-27T15:00:00Z","data_source":"x","market_status":"regular","ttl_seconds":30}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The fast path agrees with encoding/json wherever it accepts.
		if own, ok := decodeOwn(b); ok {
			slow, err := decodeJSON(b)
			if err != nil {
				t.Fatalf("fast path accepted what encoding/json rejects: %v", err)
			}
			if !bytes.Equal(own.Data, slow.Data) || own.Symbol != slow.Symbol || own.TTL != slow.TTL || own.Session != slow.Session ||
				!own.FetchedAt.Equal(slow.FetchedAt) || !own.CachedAt.Equal(slow.CachedAt) || own.DataSource != slow.DataSource {
				t.Fatalf("fast %+v != slow %+v", own, slow)
			}
		}
		e, err := DecodeEnvelope(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		// Whatever decodes re-encodes to a value that decodes to the same entry.
		again, err := DecodeEnvelope(AppendEnvelope(nil, e))
		if err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
		if !bytes.Equal(again.Data, e.Data) || again.TTL != e.TTL || again.Session != e.Session || !again.FetchedAt.Equal(e.FetchedAt) {
			t.Fatalf("round trip changed the entry: %+v vs %+v", again, e)
		}
	})
}

func TestLastIndexAtComma(t *testing.T) {
	for _, c := range []struct {
		b, p string
	}{
		{`{"a":1},"cached_at":"x"`, `,"cached_at":"`},
		{`{"a":",\"cached_at\":\""},"cached_at":"x"`, `,"cached_at":"`},
		{`,"cached_at":"`, `,"cached_at":"`},
		{`no commas`, `,"cached_at":"`},
		{`a,b,c`, `,"cached_at":"`},
		{`,x,x`, `,x`},
	} {
		if got, want := lastIndexAtComma([]byte(c.b), c.p), bytes.LastIndex([]byte(c.b), []byte(c.p)); got != want {
			t.Errorf("lastIndexAtComma(%q, %q) = %d, want %d", c.b, c.p, got, want)
		}
	}
}
