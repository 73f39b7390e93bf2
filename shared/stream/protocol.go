package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
)

// Alpaca's stream error codes.
const (
	CodeInvalidSyntax     = 400
	CodeNotAuthenticated  = 401
	CodeAuthFailed        = 402
	CodeAlreadyAuthed     = 403
	CodeAuthTimeout       = 404
	CodeSymbolLimit       = 405
	CodeConnectionLimit   = 406
	CodeSlowClient        = 407
	CodeInsufficientSub   = 409
	CodeInvalidForFeed    = 410
	CodeInternal          = 500
	maxClientMessageBytes = 64 << 10
)

// errorText is Alpaca's message for each code.
var errorText = map[int]string{
	CodeInvalidSyntax:    "invalid syntax",
	CodeNotAuthenticated: "not authenticated",
	CodeAuthFailed:       "auth failed",
	CodeAlreadyAuthed:    "already authenticated",
	CodeAuthTimeout:      "auth timeout",
	CodeSymbolLimit:      "symbol limit exceeded",
	CodeConnectionLimit:  "connection limit exceeded",
	CodeSlowClient:       "slow client",
	CodeInsufficientSub:  "insufficient subscription",
	CodeInvalidForFeed:   "invalid subscribe action for this feed",
	CodeInternal:         "internal error",
}

// ErrorFrame is the frame [{"T":"error","code":code,"msg":...}] in f.
func ErrorFrame(f Framing, code int) []byte {
	m := &Msg{T: "error", fields: []field{{"code", int64(code)}, {"msg", errorText[code]}}}
	m.encode()
	return Frame(f, []*Msg{m})
}

// SuccessFrame is the frame [{"T":"success","msg":msg}] in f.
func SuccessFrame(f Framing, msg string) []byte {
	m := &Msg{T: "success", fields: []field{{"msg", msg}}}
	m.encode()
	return Frame(f, []*Msg{m})
}

// SubscriptionFrame is the frame [{"T":"subscription",...}] listing every
// channel of chans with its symbols in s.
func SubscriptionFrame(f Framing, chans []string, s Subs) []byte {
	lists := make(map[string][]string, len(chans))
	for _, c := range chans {
		lists[c] = s.List(c)
	}
	m := &Msg{T: "subscription", fields: orderedChannels(chans, lists)}
	m.encode()
	return Frame(f, []*Msg{m})
}

// orderedChannels lists chans in their given order, each with its list.
func orderedChannels(chans []string, lists map[string][]string) []field {
	out := make([]field, 0, len(chans))
	for _, c := range chans {
		out = append(out, sortedFields(map[string][]string{c: lists[c]})...)
	}
	return out
}

// Frame encodes msgs as one frame (an array) in f.
func Frame(f Framing, msgs []*Msg) []byte {
	return AppendFrame(nil, f, msgs)
}

// AppendFrame appends the frame of msgs in f to b.
func AppendFrame(b []byte, f Framing, msgs []*Msg) []byte {
	if f == Msgpack {
		b = appendMsgpackArrayLen(b, len(msgs))
		for _, m := range msgs {
			b = append(b, m.mp...)
		}
		return b
	}
	b = append(b, '[')
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m.js...)
	}
	return append(b, ']')
}

func appendMsgpackArrayLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n < 1<<16:
		return append(b, 0xdc, byte(n>>8), byte(n))
	}
	return append(b, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// Action is a parsed client message.
type Action struct {
	Action      string // "auth", "subscribe", "unsubscribe", or anything else the client sent
	Key, Secret string
	Subs        Subs // the channels and symbols of a subscribe or unsubscribe
}

// errSyntax is a client message that is not one object of the protocol.
var errSyntax = errors.New("stream: invalid syntax")

// ParseAction parses one client message of framing f: a single object with
// an "action" string; "key" and "secret" strings; and channel names mapped
// to lists of symbol strings (or null). Anything else is an error (400).
// Unknown keys with list values are kept as channels, for the caller to
// refuse.
func ParseAction(b []byte, f Framing) (Action, error) {
	if len(b) > maxClientMessageBytes {
		return Action{}, errSyntax
	}
	var obj []field
	var err error
	if f == Msgpack {
		r := bytes.NewReader(b)
		var v any
		v, err = decodeMsgpackValue(msgpack.NewDecoder(r))
		obj, _ = v.([]field)
		if err == nil && r.Len() > 0 {
			err = errSyntax
		}
	} else {
		var v any
		v, err = decodeJSON(b)
		obj, _ = v.([]field)
	}
	if err != nil || obj == nil {
		return Action{}, errSyntax
	}
	return actionOf(obj)
}

func actionOf(obj []field) (Action, error) {
	a := Action{Subs: Subs{}}
	for _, f := range obj {
		if !utf8.ValidString(f.k) {
			return Action{}, errSyntax
		}
		switch f.k {
		case "action", "key", "secret":
			s, ok := f.v.(string)
			if !ok || !utf8.ValidString(s) {
				return Action{}, errSyntax
			}
			switch f.k {
			case "action":
				a.Action = s
			case "key":
				a.Key = s
			default:
				a.Secret = s
			}
		default:
			syms, ok := stringList(f.v)
			if !ok {
				return Action{}, errSyntax
			}
			if len(syms) > 0 {
				a.Subs[f.k] = setOf(syms)
			}
		}
	}
	if a.Action == "" {
		return Action{}, errSyntax
	}
	return a, nil
}

func stringList(v any) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok || s == "" || len(s) > 64 || !utf8.ValidString(s) {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// EncodeAction encodes a client action in f, as the hub sends it upstream.
func EncodeAction(a Action, f Framing) []byte {
	m := map[string]any{"action": a.Action}
	if a.Key != "" || a.Secret != "" {
		m["key"], m["secret"] = a.Key, a.Secret
	}
	for c := range a.Subs {
		m[c] = a.Subs.List(c)
	}
	if f == Msgpack {
		b, _ := msgpack.Marshal(m)
		return b
	}
	b, _ := json.Marshal(m)
	return b
}

// codeOf returns the code of an error message, 0 if it has none.
func codeOf(m *Msg) int {
	switch v := m.Field("code").(type) {
	case int64:
		return int(v)
	case uint64:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}
