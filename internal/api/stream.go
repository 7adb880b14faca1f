package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Stream fans incident changes out to the clients of GET /api/v1/stream
// (server-sent events). Publish never blocks: each client has a buffer of
// its own, and a client whose buffer is full is dropped (its connection is
// ended; an EventSource reconnects and reloads what it missed), so that a
// slow or stalled browser never holds up the engine.
type Stream struct {
	buffer, max int

	mu      sync.Mutex
	clients map[chan []byte]struct{}
	closed  bool
	dropped atomic.Int64
}

// Default bounds of a Stream.
const (
	// StreamBuffer is how many events a client may lag behind before it is
	// dropped.
	StreamBuffer = 64
	// StreamClients is how many clients may listen at once.
	StreamClients = 256
)

// NewStream makes a Stream whose clients may lag buffer events behind and
// of which at most max listen at once (zero or less takes the defaults).
func NewStream(buffer, max int) *Stream {
	if buffer <= 0 {
		buffer = StreamBuffer
	}
	if max <= 0 {
		max = StreamClients
	}
	return &Stream{buffer: buffer, max: max, clients: map[chan []byte]struct{}{}}
}

// Publish sends the incident, as it is now, to every client.
func (s *Stream) Publish(in signal.Incident) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) == 0 {
		return
	}
	data, err := json.Marshal(tidy(in))
	if err != nil { // an incident always marshals; a NaN score would not
		return
	}
	msg := fmt.Appendf(nil, "event: incident\nid: %d\ndata: %s\n\n", in.ID, data)
	for c := range s.clients {
		select {
		case c <- msg:
		default: // full: the client is too slow; it goes
			delete(s.clients, c)
			close(c)
			s.dropped.Add(1)
		}
	}
}

// Dropped is how many clients were dropped for falling behind.
func (s *Stream) Dropped() int64 { return s.dropped.Load() }

// Clients is how many clients listen now.
func (s *Stream) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Close ends every client's stream and takes no more: a server shutting
// down waits for its requests, and a stream would never end by itself.
func (s *Stream) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.clients {
		delete(s.clients, c)
		close(c)
	}
}

// subscribe adds a client; it returns false when max listen already or
// the stream is closed.
func (s *Stream) subscribe() (chan []byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.clients) >= s.max {
		return nil, false
	}
	c := make(chan []byte, s.buffer)
	s.clients[c] = struct{}{}
	return c, true
}

// unsubscribe removes a client that is still there.
func (s *Stream) unsubscribe(c chan []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c]; ok {
		delete(s.clients, c)
		close(c)
	}
}

// Timings of the event stream: a comment keeps idle proxies from closing
// the connection, and a write that takes longer than streamWrite (a client
// that stopped reading and whose socket buffer is full) ends it.
const (
	streamHeartbeat = 15 * time.Second
	streamWrite     = 10 * time.Second
)

// stream serves GET /api/v1/stream: every incident created or changed, as
// an "incident" event whose data is the incident's JSON (as GET
// /api/v1/incidents/{id} has it), until the client goes or is dropped.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	if s.incidents == nil {
		return errUnconfigured
	}
	c, ok := s.incidents.subscribe()
	if !ok {
		return &apiError{status: http.StatusServiceUnavailable, reason: "busy",
			msg:    "too many clients listen to the stream, or seer is stopping; poll GET /api/v1/incidents instead",
			header: map[string]string{"Retry-After": "30"}}
	}
	defer s.incidents.unsubscribe(c)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on as they come
	write := func(b []byte) error {
		// The server's write timeout is for whole answers; a stream is
		// bounded write by write instead.
		if err := rc.SetWriteDeadline(time.Now().Add(streamWrite)); err != nil && err != http.ErrNotSupported {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	// retry: how long an EventSource waits before it reconnects.
	if err := write([]byte("retry: 2000\n: seer incident stream\n\n")); err != nil {
		return nil // the client went; there is no one to answer
	}
	beat := time.NewTicker(streamHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case msg, ok := <-c:
			if !ok { // dropped for falling behind, or the server stops
				return nil
			}
			if write(msg) != nil {
				return nil
			}
		case <-beat.C:
			if write([]byte(": keep-alive\n\n")) != nil {
				return nil
			}
		}
	}
}
