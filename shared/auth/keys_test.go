package auth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

const (
	goodID     = "client-1"
	goodSecret = "s3cr3t-9Xq2Lm7Vb4Nc8Zt1"
	uniID      = "clé-ü"
	uniSecret  = "sécret-✓-秘密"
)

func testStore(t testing.TB) *KeyStore {
	t.Helper()
	s, err := NewKeyStore([]HashedKey{
		{ID: goodID, SHA256: HashSecret(goodSecret)},
		{ID: uniID, SHA256: strings.ToUpper(HashSecret(uniSecret))}, // upper-case hex is accepted
		{ID: "other", SHA256: HashSecret("other-secret")},
	})
	if err != nil {
		t.Fatalf("NewKeyStore: %v", err)
	}
	return s
}

func TestHashSecret(t *testing.T) {
	// FIPS 180-2 test vector.
	if got, want := HashSecret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("HashSecret(abc) = %s, want %s", got, want)
	}
}

// comparisons records each digest compare, to observe which digest a check
// compared against.
type comparisons struct {
	calls   int
	against [][]byte
}

func (c *comparisons) hook(s *KeyStore) {
	next := s.compare
	s.compare = func(x, y []byte) int {
		c.calls++
		c.against = append(c.against, bytes.Clone(y))
		return next(x, y)
	}
}

func TestCheck(t *testing.T) {
	long := strings.Repeat("x", MaxCredentialLen+1)
	maxLen := strings.Repeat("y", MaxCredentialLen)
	tests := []struct {
		name     string
		id       string
		secret   string
		want     bool
		why      reason
		compares int  // digest comparisons made
		dummy    bool // the comparison was against the dummy digest
	}{
		{"right pair", goodID, goodSecret, true, reasonOK, 1, false},
		{"unicode pair", uniID, uniSecret, true, reasonOK, 1, false},
		{"wrong secret", goodID, "s3cr3t-9Xq2Lm7Vb4Nc8Zt2", false, reasonMismatch, 1, false},
		{"another key's secret", goodID, "other-secret", false, reasonMismatch, 1, false},
		{"secret with trailing blank", goodID, goodSecret + " ", false, reasonMismatch, 1, false},
		{"secret prefix", goodID, goodSecret[:10], false, reasonMismatch, 1, false},
		{"unicode secret decomposed (NFD)", uniID, "se\u0301cret-✓-秘密", false, reasonMismatch, 1, false},
		{"id is case-sensitive", "CLIENT-1", goodSecret, false, reasonUnknownID, 1, true},
		{"unknown id", "nobody", goodSecret, false, reasonUnknownID, 1, true},
		{"unknown id, max-length secret", "nobody", maxLen, false, reasonUnknownID, 1, true},
		{"unicode id decomposed (NFD)", "cle\u0301-ü", uniSecret, false, reasonUnknownID, 1, true},
		{"empty id", "", goodSecret, false, reasonMissing, 0, false},
		{"empty secret", goodID, "", false, reasonMissing, 0, false},
		{"both empty", "", "", false, reasonMissing, 0, false},
		{"absurdly long secret", goodID, long, false, reasonOversize, 0, false},
		{"absurdly long id", long, goodSecret, false, reasonOversize, 0, false},
		{"megabyte secret", goodID, strings.Repeat("z", 1<<20), false, reasonOversize, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testStore(t)
			var c comparisons
			c.hook(s)
			if got := s.Check(tt.id, tt.secret); got != tt.want {
				t.Errorf("Check() = %v, want %v", got, tt.want)
			}
			if got := s.verify(tt.id, tt.secret); got != tt.why {
				t.Errorf("verify() = %s, want %s", got, tt.why)
			}
			if c.calls != 2*tt.compares { // Check and verify each
				t.Fatalf("%d digest comparisons, want %d", c.calls, 2*tt.compares)
			}
			for _, y := range c.against {
				if isDummy := bytes.Equal(y, s.dummy[:]); isDummy != tt.dummy {
					t.Errorf("compared against the dummy digest = %v, want %v", isDummy, tt.dummy)
				}
			}
		})
	}
}

func TestDummyDigestIsRandomPerStore(t *testing.T) {
	a, b := testStore(t), testStore(t)
	if a.dummy == b.dummy || a.dummy == [sha256.Size]byte{} {
		t.Fatal("dummy digests are not random per store")
	}
}

func TestNilAndEmptyStoresDeny(t *testing.T) {
	var nilStore *KeyStore
	if nilStore.Check(goodID, goodSecret) {
		t.Error("nil store allowed")
	}
	if _, ok := nilStore.CheckHeaders(map[string]string{HeaderKeyID: goodID, HeaderSecretKey: goodSecret}); ok {
		t.Error("nil store allowed headers")
	}
	empty, err := NewKeyStore(nil)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Len() != 0 || empty.Check(goodID, goodSecret) {
		t.Error("empty store allowed")
	}
}

func TestNewKeyStoreValidates(t *testing.T) {
	good := HashSecret("x")
	tests := []struct {
		name string
		keys []HashedKey
		ok   bool
	}{
		{"valid", []HashedKey{{"a", good}, {"b", good}}, true},
		{"same digest, different ids", []HashedKey{{"a", good}, {"b", good}}, true},
		{"upper-case hex", []HashedKey{{"a", strings.ToUpper(good)}}, true},
		{"empty id", []HashedKey{{"", good}}, false},
		{"blank in id", []HashedKey{{"a b", good}}, false},
		{"control character in id", []HashedKey{{"a\nb", good}}, false},
		{"id too long", []HashedKey{{strings.Repeat("a", MaxCredentialLen+1), good}}, false},
		{"duplicate id", []HashedKey{{"a", good}, {"a", HashSecret("y")}}, false},
		{"short digest", []HashedKey{{"a", good[:63]}}, false},
		{"long digest", []HashedKey{{"a", good + "0"}}, false},
		{"non-hex digest", []HashedKey{{"a", "g" + good[1:]}}, false},
		{"empty digest", []HashedKey{{"a", ""}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewKeyStore(tt.keys)
			if tt.ok {
				if err != nil || s.Len() != len(tt.keys) {
					t.Fatalf("NewKeyStore() = %v, %v", s, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidKeys) || s != nil {
				t.Fatalf("NewKeyStore() = %v, %v; want ErrInvalidKeys", s, err)
			}
		})
	}
}

func TestCheckHeaders(t *testing.T) {
	long := strings.Repeat("x", MaxCredentialLen+1)
	tests := []struct {
		name    string
		headers map[string]string
		wantID  string
	}{
		{"lower case (API Gateway)", map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": goodSecret}, goodID},
		{"canonical (net/http)", map[string]string{"Apca-Api-Key-Id": goodID, "Apca-Api-Secret-Key": goodSecret}, goodID},
		{"upper case (Alpaca docs)", map[string]string{HeaderKeyID: goodID, HeaderSecretKey: goodSecret}, goodID},
		{"mixed case", map[string]string{"aPcA-aPi-KeY-iD": goodID, "APCA-api-SECRET-key": goodSecret}, goodID},
		{"unicode", map[string]string{"apca-api-key-id": uniID, "apca-api-secret-key": uniSecret}, uniID},
		{"with other headers", map[string]string{"host": "x", "apca-api-key-id": goodID, "apca-api-secret-key": goodSecret, "accept": "*/*"}, goodID},
		{"duplicate spelling, same value", map[string]string{"apca-api-key-id": goodID, "APCA-API-KEY-ID": goodID, "apca-api-secret-key": goodSecret}, goodID},
		{"duplicate spelling, different values", map[string]string{"apca-api-key-id": goodID, "APCA-API-KEY-ID": "other", "apca-api-secret-key": goodSecret}, ""},
		{"wrong secret", map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": "nope"}, ""},
		{"unknown id", map[string]string{"apca-api-key-id": "nobody", "apca-api-secret-key": goodSecret}, ""},
		{"swapped", map[string]string{"apca-api-key-id": goodSecret, "apca-api-secret-key": goodID}, ""},
		{"missing secret", map[string]string{"apca-api-key-id": goodID}, ""},
		{"missing id", map[string]string{"apca-api-secret-key": goodSecret}, ""},
		{"empty values", map[string]string{"apca-api-key-id": "", "apca-api-secret-key": ""}, ""},
		{"no headers", nil, ""},
		{"absurdly long secret", map[string]string{"apca-api-key-id": goodID, "apca-api-secret-key": long}, ""},
		{"absurdly long id", map[string]string{"apca-api-key-id": long, "apca-api-secret-key": goodSecret}, ""},
		{"padded value", map[string]string{"apca-api-key-id": " " + goodID, "apca-api-secret-key": goodSecret}, ""},
		{"similar header names", map[string]string{"apca-api-key": goodID, "apca-api-secret": goodSecret}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testStore(t)
			var c comparisons
			c.hook(s)
			id, ok := s.CheckHeaders(tt.headers)
			if id != tt.wantID || ok != (tt.wantID != "") {
				t.Fatalf("CheckHeaders() = %q, %v; want %q", id, ok, tt.wantID)
			}
			if strings.Contains(tt.name, "absurdly") && c.calls != 0 {
				t.Fatalf("over-long header was hashed and compared (%d comparisons)", c.calls)
			}
		})
	}
}

func TestParseClientKeys(t *testing.T) {
	tests := []struct {
		in   string
		want []HashedKey
		leak string // must not appear in the error
	}{
		{in: "a:one", want: []HashedKey{{"a", HashSecret("one")}}},
		{in: " a:one , b:two,, ", want: []HashedKey{{"a", HashSecret("one")}, {"b", HashSecret("two")}}},
		{in: "a:with:colons", want: []HashedKey{{"a", HashSecret("with:colons")}}},
		{in: ""},
		{in: " , "},
		{in: "hidden1", leak: "hidden1"},
		{in: ":hidden2", leak: "hidden2"},
		{in: "a:"},
		{in: "a:hidden3,hidden4", leak: "hidden"},
		{in: "a:" + strings.Repeat("s", MaxCredentialLen+1), leak: "sss"},
	}
	for _, tt := range tests {
		got, err := ParseClientKeys(tt.in)
		if tt.want == nil {
			if !errors.Is(err, ErrInvalidKeys) {
				t.Errorf("ParseClientKeys(%.20q) = %v, %v; want ErrInvalidKeys", tt.in, got, err)
			}
			if tt.leak != "" && err != nil && strings.Contains(err.Error(), tt.leak) {
				t.Errorf("ParseClientKeys(%.20q) error %q quotes the input", tt.in, err)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("ParseClientKeys(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseClientKeys(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}

	keys, err := ParseClientKeys("alice:a-secret,bob:b-secret")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewKeyStore(keys)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Check("alice", "a-secret") || !s.Check("bob", "b-secret") || s.Check("alice", "b-secret") {
		t.Error("parsed keys do not check as issued")
	}
	if _, err := NewKeyStore(mustParse(t, "a:1,a:2")); !errors.Is(err, ErrInvalidKeys) {
		t.Errorf("duplicate ids from OPITIOS_CLIENT_KEYS accepted: %v", err)
	}
}

func mustParse(t *testing.T, s string) []HashedKey {
	t.Helper()
	k, err := ParseClientKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDevKeys(t *testing.T) {
	s, err := NewKeyStore(DevKeys())
	if err != nil {
		t.Fatal(err)
	}
	if !s.Check(DevKeyID, DevSecret) || DevKeyID != "dev" || DevSecret != "dev-secret" {
		t.Fatal("dev key does not check")
	}
	if s.Len() != 1 {
		t.Fatalf("DevKeys has %d keys, want 1", s.Len())
	}
}

func BenchmarkCheck(b *testing.B) {
	s := testStore(b)
	b.ReportAllocs()
	for b.Loop() {
		if !s.Check(goodID, goodSecret) {
			b.Fatal("denied")
		}
	}
}

func BenchmarkCheckUnknownID(b *testing.B) {
	s := testStore(b)
	b.ReportAllocs()
	for b.Loop() {
		if s.Check("nobody", goodSecret) {
			b.Fatal("allowed")
		}
	}
}
