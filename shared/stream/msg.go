package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/opitios/opitios-alpaca/shared/jsonenc"
)

// Framing is how messages are encoded on one connection.
type Framing int

// The two framings Alpaca speaks.
const (
	JSON    Framing = iota // text frames of JSON arrays
	Msgpack                // binary frames of MessagePack arrays
)

// field is one key and value of a message. Values are string, int64,
// uint64, float64, bool, nil, time.Time, []any of those, or []field.
type field struct {
	k string
	v any
}

// Msg is one data message of a stream (a quote, a trade, a bar, ...),
// decoded once and encoded once per framing at creation: fanning it out
// costs a copy of bytes, never an encoding.
type Msg struct {
	T, S   string
	fields []field // every key but T and S, in arrival order
	js, mp []byte  // the message in each framing, T first
}

// timeKeys are the keys whose values are instants: MessagePack carries
// them as timestamps, JSON as RFC 3339 strings.
var timeKeys = map[string]bool{"t": true, "r": true, "created_at": true, "updated_at": true}

// NewMsg builds a message of type typ for symbol from fields given as
// alternating keys and values (see field for the value types).
func NewMsg(typ, symbol string, kv ...any) *Msg {
	m := &Msg{T: typ, S: symbol}
	for i := 0; i+1 < len(kv); i += 2 {
		m.fields = append(m.fields, field{kv[i].(string), kv[i+1]})
	}
	m.encode()
	return m
}

// Field returns the value of key (nil when absent).
func (m *Msg) Field(key string) any {
	for _, f := range m.fields {
		if f.k == key {
			return f.v
		}
	}
	return nil
}

// Bytes returns the message encoded in framing f. The caller must not
// modify it.
func (m *Msg) Bytes(f Framing) []byte {
	if f == Msgpack {
		return m.mp
	}
	return m.js
}

func (m *Msg) encode() {
	b := append([]byte(`{"T":`), jsonenc.AppendString(nil, m.T)...)
	if m.S != "" {
		b = append(b, `,"S":`...)
		b = jsonenc.AppendString(b, m.S)
	}
	for _, f := range m.fields {
		b = append(b, ',')
		b = jsonenc.AppendString(b, f.k)
		b = append(b, ':')
		b = appendJSONValue(b, f.v)
	}
	m.js = append(b, '}')
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	n := len(m.fields) + 1
	if m.S != "" {
		n++
	}
	_ = enc.EncodeMapLen(n)
	_ = enc.EncodeString("T")
	_ = enc.EncodeString(m.T)
	if m.S != "" {
		_ = enc.EncodeString("S")
		_ = enc.EncodeString(m.S)
	}
	for _, f := range m.fields {
		_ = enc.EncodeString(f.k)
		encodeMsgpackValue(enc, f.v)
	}
	m.mp = buf.Bytes()
}

// appendJSONValue appends v as JSON.
func appendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return jsonenc.AppendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case float64:
		return appendFloat(b, x)
	case time.Time:
		b = append(b, '"')
		b = x.UTC().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, e)
		}
		return append(b, ']')
	case []field:
		b = append(b, '{')
		for i, f := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, f.k)
			b = append(b, ':')
			b = appendJSONValue(b, f.v)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// appendFloat formats f as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func encodeMsgpackValue(enc *msgpack.Encoder, v any) {
	switch x := v.(type) {
	case []any:
		_ = enc.EncodeArrayLen(len(x))
		for _, e := range x {
			encodeMsgpackValue(enc, e)
		}
	case []field:
		_ = enc.EncodeMapLen(len(x))
		for _, f := range x {
			_ = enc.EncodeString(f.k)
			encodeMsgpackValue(enc, f.v)
		}
	case time.Time:
		_ = enc.EncodeTime(x)
	default:
		_ = enc.Encode(x)
	}
}

// errNotArray is returned for a frame that is not an array of objects.
var errNotArray = errors.New("stream: frame is not an array of messages")

// DecodeFrame decodes a frame of framing f (an array of messages). Each
// message's fields are kept in order; control messages (success, error,
// subscription) are returned like data messages, by their T.
func DecodeFrame(b []byte, f Framing) ([]*Msg, error) {
	var raw []any
	if f == Msgpack {
		d := msgpack.NewDecoder(bytes.NewReader(b))
		n, err := d.DecodeArrayLen()
		if err != nil || n < 0 {
			return nil, errNotArray
		}
		for range n {
			v, err := decodeMsgpackValue(d)
			if err != nil {
				return nil, err
			}
			raw = append(raw, v)
		}
	} else {
		v, err := decodeJSON(b)
		if err != nil {
			return nil, err
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, errNotArray
		}
		raw = arr
	}
	return msgsOf(raw)
}

// msgsOf turns decoded objects into messages.
func msgsOf(raw []any) ([]*Msg, error) {
	out := make([]*Msg, 0, len(raw))
	for _, v := range raw {
		obj, ok := v.([]field)
		if !ok {
			return nil, errNotArray
		}
		m := &Msg{}
		for _, f := range obj {
			switch s, _ := f.v.(string); {
			case f.k == "T":
				m.T = s
			case f.k == "S" && s != "":
				m.S = s
			default:
				if str, ok := f.v.(string); ok && timeKeys[f.k] {
					if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
						f.v = t
					}
				}
				m.fields = append(m.fields, f)
			}
		}
		m.encode()
		out = append(out, m)
	}
	return out, nil
}

// decodeMsgpackValue decodes one value, maps as ordered fields.
func decodeMsgpackValue(d *msgpack.Decoder) (any, error) {
	code, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	if isMsgpackMap(code) {
		n, err := d.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		obj := make([]field, 0, min(max(n, 0), 64)) // n is untrusted
		for range max(n, 0) {
			k, err := d.DecodeString()
			if err != nil {
				return nil, err
			}
			v, err := decodeMsgpackValue(d)
			if err != nil {
				return nil, err
			}
			obj = append(obj, field{k, v})
		}
		return obj, nil
	}
	if isMsgpackArray(code) {
		n, err := d.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		arr := make([]any, 0, min(max(n, 0), 64))
		for range max(n, 0) {
			v, err := decodeMsgpackValue(d)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		return arr, nil
	}
	v, err := d.DecodeInterfaceLoose()
	if err != nil {
		return nil, err
	}
	return normalise(v), nil
}

func isMsgpackMap(c byte) bool   { return c >= 0x80 && c <= 0x8f || c == 0xde || c == 0xdf }
func isMsgpackArray(c byte) bool { return c >= 0x90 && c <= 0x9f || c == 0xdc || c == 0xdd }

// normalise maps scalars decoded loosely to the value types of field.
func normalise(v any) any {
	switch x := v.(type) {
	case int64, uint64, float64, string, bool, nil, time.Time:
		return x
	case []byte:
		return string(x)
	case float32:
		return float64(x)
	}
	return fmt.Sprint(v)
}

// decodeJSON decodes one JSON value, objects as ordered fields and numbers
// as int64 when integral, else float64.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := jsonValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("stream: trailing data after JSON value")
	}
	return v, nil
}

func jsonValue(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			var arr []any
			for d.More() {
				v, err := jsonValue(d)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := d.Token()
			return arr, err
		}
		if t == '{' {
			return jsonObject(d)
		}
		return nil, errors.New("stream: unexpected delimiter")
	case json.Number:
		if !strings.ContainsAny(string(t), ".eE") {
			if n, err := t.Int64(); err == nil {
				return n, nil
			}
		}
		return t.Float64()
	}
	return tok, nil // string, bool, nil
}

func jsonObject(d *json.Decoder) (any, error) {
	obj := []field{}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return nil, err
		}
		v, err := jsonValue(d)
		if err != nil {
			return nil, err
		}
		obj = append(obj, field{k.(string), v})
	}
	_, err := d.Token()
	return obj, err
}

// sortedFields returns m's map of string lists as ordered fields, keys
// sorted: the shape of a subscription message.
func sortedFields(m map[string][]string) []field {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]field, 0, len(keys))
	for _, k := range keys {
		arr := make([]any, len(m[k]))
		for i, s := range m[k] {
			arr[i] = s
		}
		out = append(out, field{k, arr})
	}
	return out
}
