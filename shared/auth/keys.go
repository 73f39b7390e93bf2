// Package auth checks the API keys that this service issues to its clients.
//
// Clients present them the way Alpaca's own clients do, in two headers,
// APCA-API-KEY-ID and APCA-API-SECRET-KEY, so any Alpaca SDK works unchanged.
// In AWS the check runs in an API Gateway Lambda authorizer (Authorizer); the
// local gateway calls KeyStore.CheckHeaders, so both apply the same rules.
//
// # Keys at rest
//
// Only the SHA-256 digest of each secret is stored (hex, in the Secrets
// Manager secret named by CLIENT_KEYS_SECRET_ARN). A fast, unsalted hash is
// adequate here because the secrets are not passwords: they are random tokens
// of at least 128 bits issued by the service, so no dictionary or brute-force
// search over the digest is feasible, and a slow password hash (bcrypt,
// scrypt, argon2) would only add tens of milliseconds to every authorizer
// call without adding security. What the digest protects against is a leak
// of the stored list itself: it cannot be replayed as credentials.
//
// # Timing
//
// Digests are compared with crypto/subtle.ConstantTimeCompare. An unknown key
// id takes the same path as a known one: the presented secret is hashed and
// compared against a per-store random dummy digest, so the time taken does
// not reveal whether an id exists. Inputs that are empty or longer than
// MaxCredentialLen are rejected before hashing; that reveals only a property
// of the request's own input.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Header names, as Alpaca defines them. HTTP header names are
// case-insensitive; API Gateway HTTP APIs deliver them lower-cased.
const (
	HeaderKeyID     = "APCA-API-KEY-ID"
	HeaderSecretKey = "APCA-API-SECRET-KEY"
)

// MaxCredentialLen is the longest key id or secret, in bytes, that is ever
// looked at. Longer values are denied without hashing.
const MaxCredentialLen = 256

// The development key that DevKeys returns, for `make run` only.
const (
	DevKeyID  = "dev"
	DevSecret = "dev-secret"
)

// ErrInvalidKeys reports a key list that NewKeyStore or ParseClientKeys
// refuses. Its message never contains a secret.
var ErrInvalidKeys = errors.New("auth: invalid client keys")

// HashedKey is one issued client key as stored: its id and the SHA-256 of its
// secret, as 64 hex digits. It is also the JSON shape of an entry of the
// client-keys secret.
type HashedKey struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
}

// HashSecret returns the SHA-256 of secret's bytes as 64 lower-case hex
// digits: the form stored in HashedKey.SHA256.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// KeyStore is an immutable set of client keys, safe for concurrent use.
type KeyStore struct {
	digests map[string][sha256.Size]byte
	dummy   [sha256.Size]byte
	// compare is subtle.ConstantTimeCompare; tests wrap it to observe that
	// unknown ids are compared too.
	compare func(x, y []byte) int
}

// NewKeyStore returns a store of keys. Each id must be non-empty, at most
// MaxCredentialLen bytes, free of blanks and control characters, and unique;
// each digest must be 64 hex digits (either case). An empty list is valid and
// denies everyone. Errors wrap ErrInvalidKeys.
func NewKeyStore(keys []HashedKey) (*KeyStore, error) {
	s := &KeyStore{
		digests: make(map[string][sha256.Size]byte, len(keys)),
		compare: subtle.ConstantTimeCompare,
	}
	// The dummy is random so that no secret is known to hash to it.
	if _, err := rand.Read(s.dummy[:]); err != nil {
		return nil, fmt.Errorf("auth: random dummy digest: %w", err)
	}
	for i, k := range keys {
		if err := validID(k.ID); err != nil {
			return nil, fmt.Errorf("%w: key %d: %v", ErrInvalidKeys, i, err)
		}
		if _, dup := s.digests[k.ID]; dup {
			return nil, fmt.Errorf("%w: key %d: duplicate id %q", ErrInvalidKeys, i, k.ID)
		}
		var d [sha256.Size]byte
		if len(k.SHA256) != hex.EncodedLen(sha256.Size) {
			return nil, fmt.Errorf("%w: key %q: sha256 must be %d hex digits", ErrInvalidKeys, k.ID, hex.EncodedLen(sha256.Size))
		}
		if _, err := hex.Decode(d[:], []byte(k.SHA256)); err != nil {
			return nil, fmt.Errorf("%w: key %q: sha256 is not hex", ErrInvalidKeys, k.ID)
		}
		s.digests[k.ID] = d
	}
	return s, nil
}

func validID(id string) error {
	switch {
	case id == "":
		return errors.New("empty id")
	case len(id) > MaxCredentialLen:
		return fmt.Errorf("id longer than %d bytes", MaxCredentialLen)
	case strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return errors.New("id contains a blank or control character")
	}
	return nil
}

// Len reports the number of keys in the store.
func (s *KeyStore) Len() int { return len(s.digests) }

// Check reports whether secret is the secret of the key id. It is false for
// an empty or over-long (> MaxCredentialLen bytes) id or secret, and for a
// nil store. Its running time does not depend on whether id exists.
func (s *KeyStore) Check(id, secret string) bool {
	return s.verify(id, secret) == reasonOK
}

// CheckHeaders applies Check to the credentials in h, a request's headers
// with names in any case (API Gateway lower-cases them; net/http
// canonicalises them). It returns the key id and true when they check, and
// "", false otherwise, including when a header is missing, or present twice
// under different spellings with different values.
func (s *KeyStore) CheckHeaders(h map[string]string) (id string, ok bool) {
	id, secret, r := credentialsFromHeaders(h)
	if r == reasonOK {
		r = s.verify(id, secret)
	}
	if r != reasonOK {
		return "", false
	}
	return id, true
}

// reason classifies the outcome of a check, for logs.
type reason string

const (
	reasonOK        reason = "ok"
	reasonMissing   reason = "missing_credentials"
	reasonAmbiguous reason = "ambiguous_headers"
	reasonOversize  reason = "oversize_credentials"
	reasonUnknownID reason = "unknown_key"
	reasonMismatch  reason = "bad_secret"
	reasonNoStore   reason = "no_key_store"
	reasonLoadError reason = "key_store_unavailable"
	reasonStaleKeys reason = "key_store_stale"
	reasonPanic     reason = "panic"
)

func (s *KeyStore) verify(id, secret string) reason {
	switch {
	case s == nil:
		return reasonNoStore
	case id == "" || secret == "":
		return reasonMissing
	case len(id) > MaxCredentialLen || len(secret) > MaxCredentialLen:
		return reasonOversize
	}
	want, known := s.digests[id]
	if !known {
		want = s.dummy
	}
	got := sha256.Sum256([]byte(secret))
	match := s.compare(got[:], want[:]) == 1
	switch {
	case !known:
		return reasonUnknownID
	case !match:
		return reasonMismatch
	}
	return reasonOK
}

// credentialsFromHeaders finds the two headers whatever the case of their
// names. Header values are used exactly as sent (no trimming).
func credentialsFromHeaders(h map[string]string) (id, secret string, r reason) {
	var idSeen, secretSeen bool
	for name, v := range h {
		var dst *string
		var seen *bool
		switch {
		case strings.EqualFold(name, HeaderKeyID):
			dst, seen = &id, &idSeen
		case strings.EqualFold(name, HeaderSecretKey):
			dst, seen = &secret, &secretSeen
		default:
			continue
		}
		if *seen && *dst != v {
			return "", "", reasonAmbiguous
		}
		*dst, *seen = v, true
	}
	if id == "" || secret == "" {
		return "", "", reasonMissing
	}
	return id, secret, reasonOK
}

// ParseClientKeys parses the local form of OPITIOS_CLIENT_KEYS,
// "id:secret,id:secret", and returns the keys hashed. Entries are trimmed and
// empty entries dropped; each splits at its first colon into a non-empty id
// and a non-empty secret of at most MaxCredentialLen bytes. At least one key
// is required. The result is not yet checked for duplicate or malformed ids:
// NewKeyStore does that. Errors wrap ErrInvalidKeys and name entries by
// position, never by content.
func ParseClientKeys(s string) ([]HashedKey, error) {
	var keys []HashedKey
	n := 0
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		n++
		id, secret, found := strings.Cut(entry, ":")
		if !found || id == "" || secret == "" {
			return nil, fmt.Errorf("%w: entry %d is not id:secret", ErrInvalidKeys, n)
		}
		if len(secret) > MaxCredentialLen {
			return nil, fmt.Errorf("%w: entry %d: secret longer than %d bytes", ErrInvalidKeys, n, MaxCredentialLen)
		}
		keys = append(keys, HashedKey{ID: id, SHA256: HashSecret(secret)})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no id:secret entry", ErrInvalidKeys)
	}
	return keys, nil
}

// DevKeys returns the development key (DevKeyID, DevSecret). It is for
// `make run` on a developer's machine only and must never be deployed.
func DevKeys() []HashedKey {
	return []HashedKey{{ID: DevKeyID, SHA256: HashSecret(DevSecret)}}
}
