package alpacasim

import (
	"net/http/httptest"
	"testing"
)

// NewTestServer starts a simulator configured by cfg on a free 127.0.0.1
// port and closes it at t.Cleanup, first cutting open connections so that a
// request held by the Hang fault does not delay the cleanup.
func NewTestServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s := New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	return s, ts
}
