package guard

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSlowClientsHoldNoSlot is issue 17's slow-client attack: more clients
// than there are in-flight slots send their bodies a byte at a time and
// never finish. A real request must still be served: the slow ones hold
// connections, not slots.
func TestSlowClientsHoldNoSlot(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxInFlight = 2
	g, err := New("test", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var entered atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered.Add(1)
		g.Serve(w, r, func() error {
			body, err := g.Read(r, false)
			if err != nil {
				return err
			}
			defer body.Release()
			fmt.Fprintf(w, "%d bytes", len(body.Bytes))
			return nil
		})
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	const slow = 4
	for range slow {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// The headers and one byte of a 100-byte body; the rest never comes.
		if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nx"); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for entered.Load() < slow {
		if time.Now().After(deadline) {
			t.Fatalf("%d of the %d slow clients reached the handler", entered.Load(), slow)
		}
		time.Sleep(10 * time.Millisecond) // waiting for the server's goroutines
	}
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "5 bytes" {
		t.Errorf("a real request beside %d slow clients: %d %s; want 200", slow, resp.StatusCode, b)
	}
}
