package stream

import (
	"reflect"
	"testing"
)

// ParseAction never panics, and what it accepts survives a round trip
// through EncodeAction in both framings.
func FuzzParseAction(f *testing.F) {
	for _, s := range []string{
		`{"action":"auth","key":"k","secret":"s"}`,
		`{"action":"subscribe","trades":["AAPL"],"quotes":["*"],"bars":null}`,
		`{"action":"unsubscribe","news":["*"]}`,
		`{"action":1}`, `[]`, `{"action":"subscribe","trades":[1]}`, `{`,
	} {
		f.Add([]byte(s), false)
		a, err := ParseAction([]byte(s), JSON)
		if err == nil {
			f.Add(EncodeAction(a, Msgpack), true)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, mp bool) {
		fr := JSON
		if mp {
			fr = Msgpack
		}
		a, err := ParseAction(b, fr)
		if err != nil {
			return
		}
		for _, g := range []Framing{JSON, Msgpack} {
			back, err := ParseAction(EncodeAction(a, g), g)
			if err != nil {
				t.Fatalf("re-encoded %+v does not parse: %v", a, err)
			}
			if back.Action != a.Action || back.Key != a.Key || back.Secret != a.Secret || !reflect.DeepEqual(back.Subs, a.Subs) {
				t.Fatalf("round trip: %+v became %+v", a, back)
			}
		}
	})
}
