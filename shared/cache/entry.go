package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/opitios/opitios-alpaca/shared/jsonenc"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// Entry is one cached origin answer and where it came from.
type Entry struct {
	Symbol     string          // the identifier, as in the key
	Data       json.RawMessage // the origin's JSON for this identifier, byte for byte
	CachedAt   time.Time       // when it was written to the cache
	FetchedAt  time.Time       // when the origin answered
	DataSource string          // e.g. "alpaca/iex", "alpaca-sim"
	Session    market.Session  // the market session it was fetched in
	TTL        time.Duration   // whole seconds
}

// ExpiresAt is the instant the entry stops being fresh, unless the session
// changes before.
func (e *Entry) ExpiresAt() time.Time { return e.FetchedAt.Add(e.TTL) }

// AnySession, passed to Entry.Fresh as the session, checks the expiry alone:
// the session of an entry whose data type is not session-bound.
const AnySession market.Session = ""

// Fresh reports whether the entry may be served at now, when the market is in
// session: now < FetchedAt + TTL and the session is the one it was fetched in
// (any session, if session is AnySession).
func (e *Entry) Fresh(now time.Time, session market.Session) bool {
	return (session == AnySession || session == e.Session) && now.Before(e.ExpiresAt())
}

// sessionOf is the session an entry of dt must have been fetched in to be
// fresh while the market is in session s: s, or AnySession if dt is not
// session-bound.
func sessionOf(dt DataType, s market.Session) market.Session {
	if !dt.SessionBound() {
		return AnySession
	}
	return s
}

// Age is how long ago the origin answered.
func (e *Entry) Age(now time.Time) time.Duration { return max(now.Sub(e.FetchedAt), 0) }

// Left is how much freshness remains at now.
func (e *Entry) Left(now time.Time) time.Duration { return max(e.ExpiresAt().Sub(now), 0) }

// ErrCorrupt is returned for an L2 value that is not a valid envelope.
var ErrCorrupt = errors.New("cache: corrupt envelope")

// AppendEnvelope appends the L2 envelope of e (docs/design.md, "Keys and the
// L2 envelope"):
//
//	{"symbol":…,"data":<raw>,"cached_at":…,"fetched_at":…,"data_source":…,"market_status":…,"ttl_seconds":N}
//
// data is copied byte for byte; nothing is re-encoded.
func AppendEnvelope(b []byte, e *Entry) []byte {
	b = append(b, `{"symbol":`...)
	b = jsonenc.AppendString(b, e.Symbol)
	b = append(b, `,"data":`...)
	b = append(b, e.Data...)
	b = append(b, `,"cached_at":"`...)
	b = e.CachedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","fetched_at":"`...)
	b = e.FetchedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data_source":`...)
	b = jsonenc.AppendString(b, e.DataSource)
	b = append(b, `,"market_status":`...)
	b = jsonenc.AppendString(b, string(e.Session))
	b = append(b, `,"ttl_seconds":`...)
	b = strconv.AppendInt(b, int64(e.TTL/time.Second), 10)
	return append(b, '}')
}

// envelope is the wire form used for decoding.
type envelope struct {
	Symbol       string          `json:"symbol"`
	Data         json.RawMessage `json:"data"`
	CachedAt     time.Time       `json:"cached_at"`
	FetchedAt    time.Time       `json:"fetched_at"`
	DataSource   string          `json:"data_source"`
	MarketStatus market.Session  `json:"market_status"`
	TTLSeconds   int64           `json:"ttl_seconds"`
}

// maxTTLSeconds bounds a decoded TTL: the longest policy TTL is ten hours.
const maxTTLSeconds = 24 * 3600

// DecodeEnvelope parses an L2 value. Anything that is not a complete,
// plausible envelope (bad JSON, missing data or timestamps, unknown session,
// a TTL outside 1 s–24 h) is ErrCorrupt. Data keeps the stored bytes.
func DecodeEnvelope(b []byte) (*Entry, error) { return decodeKeyed(b, "") }

// decodeKeyed is DecodeEnvelope of the value read under key, whose end
// (the identifier) the entry's Symbol shares rather than copies.
func decodeKeyed(b []byte, key string) (*Entry, error) {
	if e, ok := decodeOwnKeyed(b, key); ok {
		return e, nil
	}
	return decodeJSON(b)
}

// decodeJSON decodes an envelope in any JSON layout.
func decodeJSON(b []byte) (*Entry, error) {
	var v envelope
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return checked(&Entry{
		Symbol:     v.Symbol,
		Data:       v.Data,
		CachedAt:   v.CachedAt,
		FetchedAt:  v.FetchedAt,
		DataSource: v.DataSource,
		Session:    v.MarketStatus,
		TTL:        time.Duration(v.TTLSeconds) * time.Second,
	})
}

// checked applies the plausibility rules to a decoded entry.
func checked(e *Entry) (*Entry, error) {
	switch {
	case len(e.Data) == 0 || bytes.Equal(e.Data, []byte("null")):
		return nil, fmt.Errorf("%w: no data", ErrCorrupt)
	case e.FetchedAt.IsZero() || e.CachedAt.IsZero():
		return nil, fmt.Errorf("%w: missing timestamps", ErrCorrupt)
	case !e.Session.Valid():
		return nil, fmt.Errorf("%w: market_status %q", ErrCorrupt, e.Session)
	case e.TTL < time.Second || e.TTL > maxTTLSeconds*time.Second:
		return nil, fmt.Errorf("%w: ttl_seconds %d", ErrCorrupt, e.TTL/time.Second)
	case e.DataSource == "":
		return nil, fmt.Errorf("%w: no data_source", ErrCorrupt)
	}
	return e, nil
}

// decodeOwn parses the exact layout AppendEnvelope writes, several times
// faster than encoding/json (an L2 batch decodes many envelopes). Anything
// else, including valid JSON in another layout, is left to encoding/json.
// The data is still checked to be valid JSON.
func decodeOwn(b []byte) (*Entry, bool) { return decodeOwnKeyed(b, "") }

// decodeOwnKeyed is decodeOwn of the value read under key (see decodeKeyed).
func decodeOwnKeyed(b []byte, key string) (*Entry, bool) {
	const (
		pSymbol  = `{"symbol":"`
		pData    = `","data":`
		pCached  = `,"cached_at":"`
		pFetched = `","fetched_at":"`
		pSource  = `","data_source":"`
		pStatus  = `","market_status":"`
		pTTL     = `","ttl_seconds":`
	)
	if !bytes.HasPrefix(b, []byte(pSymbol)) || len(b) == 0 || b[len(b)-1] != '}' {
		return nil, false
	}
	rest := b[len(pSymbol):]
	i := bytes.Index(rest, []byte(pData))
	if i < 0 {
		return nil, false
	}
	symbol := rest[:i]
	rest = rest[i+len(pData):]
	j := lastIndexAtComma(rest, pCached)
	if j < 0 {
		return nil, false
	}
	data, tail := rest[:j], rest[j+len(pCached):len(rest)-1]
	field := func(sep string) ([]byte, bool) {
		k := bytes.Index(tail, []byte(sep))
		if k < 0 {
			return nil, false
		}
		v := tail[:k]
		tail = tail[k+len(sep):]
		return v, true
	}
	cached, ok1 := field(pFetched)
	fetched, ok2 := field(pSource)
	source, ok3 := field(pStatus)
	status, ok4 := field(pTTL)
	if !ok1 || !ok2 || !ok3 || !ok4 || !plain(symbol) || !plain(source) || !plain(status) || !validJSON(data) {
		return nil, false
	}
	return ownEntry(keyedString(symbol, key), data, cached, fetched, source, status, tail)
}

// ownEntry builds and checks the entry of decodeOwn's fields.
func ownEntry(symbol string, data, cached, fetched, source, status, ttl []byte) (*Entry, bool) {
	secs, ok := parseSeconds(ttl)
	ct, ok1 := parseTime(cached)
	ft, ok2 := parseTime(fetched)
	if !ok || !ok1 || !ok2 {
		return nil, false
	}
	e, err := checked(&Entry{
		Symbol:     symbol,
		Data:       json.RawMessage(data),
		CachedAt:   ct,
		FetchedAt:  ft,
		DataSource: knownSource(source),
		Session:    market.Session(status),
		TTL:        time.Duration(secs) * time.Second,
	})
	return e, err == nil
}

// keyedString returns b as a string: the end of key when key ends with b
// (no copy), else a copy.
func keyedString(b []byte, key string) string {
	if n := len(key) - len(b); n >= 0 && key[n:] == string(b) {
		return key[n:]
	}
	return string(b)
}

// knownSource returns b as a string, without a copy for the data sources
// the service writes.
func knownSource(b []byte) string {
	switch string(b) {
	case "alpaca-sim":
		return "alpaca-sim"
	case "alpaca/iex":
		return "alpaca/iex"
	case "alpaca/sip":
		return "alpaca/sip"
	case "alpaca/opra":
		return "alpaca/opra"
	case "alpaca/indicative":
		return "alpaca/indicative"
	}
	return string(b)
}

// parseSeconds parses the decimal digits of ttl_seconds, as
// strconv.ParseInt would, without a copy.
func parseSeconds(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		s, err := strconv.ParseInt(string(b), 10, 64)
		return s, err == nil
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			s, err := strconv.ParseInt(string(b), 10, 64)
			return s, err == nil
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseTime parses an RFC 3339 timestamp. The layout AppendEnvelope writes,
// UTC with 0 to 9 fraction digits (2006-01-02T15:04:05.999999999Z), is
// read directly; anything else goes to time.Parse.
func parseTime(b []byte) (time.Time, bool) {
	if t, ok := parseUTC(b); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	return t, err == nil
}

// parseUTC reads 2006-01-02T15:04:05[.fraction]Z, reporting false for
// anything else, including values time.Parse would refuse as out of range.
func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[len(b)-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, s := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	ns, ok := fraction(b[19 : len(b)-1])
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || !ok {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	return t, t.Day() == d // false for a day past the month's end
}

// fraction reads an empty fraction or "." and 1 to 9 digits as nanoseconds.
func fraction(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, true
	}
	if b[0] != '.' || len(b) < 2 || len(b) > 10 {
		return 0, false
	}
	ns := 0
	for _, c := range b[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		ns = ns*10 + int(c-'0')
	}
	for range 10 - len(b) {
		ns *= 10
	}
	return ns, true
}

// lastIndexAtComma is bytes.LastIndex for a pattern starting with ',',
// jumping from comma to comma backwards: the fields after data are short,
// so it finds them in a few steps, where a general search hashes every byte.
func lastIndexAtComma(b []byte, pattern string) int {
	for i := len(b); i > 0; {
		i = bytes.LastIndexByte(b[:i], ',')
		if i < 0 {
			return -1
		}
		if bytes.HasPrefix(b[i:], []byte(pattern)) {
			return i
		}
	}
	return -1
}

// plain reports whether b can stand inside a JSON string as is: printable
// ASCII without quotes or escapes.
func plain(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
