package auth

import "testing"

// FuzzCheckHeaders: whatever the headers, only the exact registered pair
// passes, and nothing panics.
func FuzzCheckHeaders(f *testing.F) {
	f.Add("apca-api-key-id", "dev", "apca-api-secret-key", "dev-secret")
	f.Add("APCA-API-KEY-ID", "dev", "Apca-Api-Secret-Key", "wrong")
	f.Add("apca-api-key-id", "", "apca-api-secret-key", "")
	f.Add("x", "\x00\xff", "apca-api-secret-key", "dev-secret\r\n")
	keys := DevKeys()
	s, err := NewKeyStore(keys)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		id, ok := s.CheckHeaders(map[string]string{k1: v1, k2: v2})
		if !ok {
			if id != "" {
				t.Fatalf("denied but returned id %q", id)
			}
			return
		}
		if id != DevKeyID || !s.Check(id, DevSecret) {
			t.Fatalf("accepted %q=%q %q=%q as %q", k1, v1, k2, v2, id)
		}
		if v1 != DevKeyID && v2 != DevKeyID || v1 != DevSecret && v2 != DevSecret {
			t.Fatalf("accepted without the dev pair: %q %q", v1, v2)
		}
	})
}
