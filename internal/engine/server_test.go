package engine

import (
	"net/http"
	"testing"
)

// TestServerTimeouts: every server seer runs bounds a request's headers,
// its whole body, the answer and idle connections (a slow client holding
// a receiver's slot is cut off after ReadTimeout).
func TestServerTimeouts(t *testing.T) {
	s := NewHTTPServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Errorf("timeouts header %v, read %v, write %v, idle %v; want all set", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
	if s.ReadTimeout > WriteTimeout {
		t.Errorf("read timeout %v over the write timeout %v", s.ReadTimeout, WriteTimeout)
	}
}
