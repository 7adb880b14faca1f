package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/signal"
)

// sseEvent is one server-sent event as a client reads it.
type sseEvent struct{ name, id, data string }

// readEvents reads server-sent events from the body into a channel until
// it ends; comments are skipped.
func readEvents(body *bufio.Reader) <-chan sseEvent {
	out := make(chan sseEvent, 16)
	go func() {
		defer close(out)
		var ev sseEvent
		for {
			line, err := body.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if ev.data != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				ev.id = line[len("id: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[len("data: "):]
			}
		}
	}()
	return out
}

// waitClients waits until n clients listen to st.
func waitClients(t *testing.T, st *Stream, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); st.Clients() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients listen, want %d", st.Clients(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// GET /api/v1/stream, read by a real HTTP client over a socket: every
// incident published reaches every listener as an "incident" event with the
// incident's JSON; with authentication on it needs the read permission.
func TestStreamHTTP(t *testing.T) {
	st := NewStream(0, 0)
	read, readHash := auth.NewToken()
	ingest, ingestHash := auth.NewToken()
	srv := httptest.NewServer(New(Deps{Store: newRig(t).store, Incidents: st,
		Auth: auth.New([]auth.Token{{Name: "bob", Role: auth.RoleRead, SHA256: readHash},
			{Name: "feeder", Role: auth.RoleIngest, SHA256: ingestHash}})}, nil))
	t.Cleanup(srv.Close) // after the bodies are closed: it waits for their requests
	open := func(token string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+"/api/v1/stream", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/event-stream")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	if res := open(""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", res.StatusCode)
	}
	if res := open(ingest); res.StatusCode != http.StatusForbidden {
		t.Errorf("an ingest token: %d", res.StatusCode)
	}
	waitClients(t, st, 0)
	var streams []<-chan sseEvent
	for range 2 {
		res := open(read)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
		}
		streams = append(streams, readEvents(bufio.NewReader(res.Body)))
	}
	waitClients(t, st, 2)
	st.Publish(signal.Incident{ID: 41, Title: "cart slow", Status: signal.IncidentOpen, Entities: []string{"cart"}})
	st.Publish(signal.Incident{ID: 41, Title: "cart slow", Status: signal.IncidentResolved, Entities: []string{"cart"}})
	for i, evs := range streams {
		for _, want := range []signal.IncidentStatus{signal.IncidentOpen, signal.IncidentResolved} {
			select {
			case ev, ok := <-evs:
				if !ok {
					t.Fatalf("client %d: the stream ended", i)
				}
				var in signal.Incident
				if err := json.Unmarshal([]byte(ev.data), &in); err != nil {
					t.Fatalf("client %d: %q: %v", i, ev.data, err)
				}
				if ev.name != "incident" || ev.id != "41" || in.ID != 41 || in.Status != want || in.Causes == nil {
					t.Errorf("client %d: event %q %q %+v, want incident 41 %s", i, ev.name, ev.id, in, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("client %d: no event", i)
			}
		}
	}
	// Closing the stream (the server stopping) ends every listener's
	// response and refuses new ones.
	st.Close()
	for i, evs := range streams {
		select {
		case ev, ok := <-evs:
			if ok {
				t.Errorf("client %d: event %+v after the close", i, ev)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("client %d: the stream did not end with the close", i)
		}
	}
	if res := open(read); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a listener after the close: %d", res.StatusCode)
	}
}

// A client that stops reading is dropped once its buffer is full, and
// publishing never waits for it; the others go on receiving.
func TestStreamDropsSlowClients(t *testing.T) {
	st := NewStream(4, 0)
	slow, _ := st.subscribe()
	fast, _ := st.subscribe()
	got := make(chan int, 100)
	go func() {
		for range fast {
			got <- 1
		}
		close(got)
	}()
	start := time.Now()
	for i := range 50 {
		st.Publish(signal.Incident{ID: int64(i + 1)})
		time.Sleep(time.Millisecond) // the fast reader keeps up
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("publishing 50 events took %v", d)
	}
	if st.Dropped() != 1 || st.Clients() != 1 {
		t.Errorf("dropped %d, clients %d; want the slow one dropped", st.Dropped(), st.Clients())
	}
	n := 0
	for range slow {
		n++
	}
	if n != 4 { // its buffer, then closed
		t.Errorf("the slow client had %d events before it was dropped, want 4", n)
	}
	st.unsubscribe(fast)
	total := 0
	for range got {
		total++
	}
	if total != 50 {
		t.Errorf("the fast client got %d of 50", total)
	}
}

// The stream refuses listeners past its bound, and without a Stream the
// route says it is not enabled; a dropped client's request ends.
func TestStreamBounds(t *testing.T) {
	st := NewStream(1, 1)
	srv := httptest.NewServer(New(Deps{Incidents: st}, nil))
	defer srv.Close()
	defer st.Close() // before the server's: it waits for the streams' requests
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/stream", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	waitClients(t, st, 1)
	res2, err := http.Get(srv.URL + "/api/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusServiceUnavailable || res2.Header.Get("Retry-After") == "" {
		t.Errorf("a listener past the bound: %d %v", res2.StatusCode, res2.Header)
	}
	// Nobody reads the first: one event fills its buffer (or is written),
	// and a flood drops it; its response then ends.
	big := strings.Repeat("x", 10000)
	for i := range 20000 { // at most 200 MB, should the socket's buffers be vast
		st.Publish(signal.Incident{ID: int64(i + 1), Title: big})
		if st.Dropped() > 0 {
			break
		}
	}
	if st.Dropped() != 1 {
		t.Fatalf("dropped %d", st.Dropped())
	}
	if _, err := bufio.NewReader(res.Body).Discard(1 << 30); err == nil || ctx.Err() != nil {
		t.Errorf("the dropped client's stream did not end: %v", err)
	}

	none := httptest.NewServer(New(Deps{}, nil))
	defer none.Close()
	res3, err := http.Get(none.URL + "/api/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	res3.Body.Close()
	if res3.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("without a stream: %d", res3.StatusCode)
	}
}

// A stream outlives the server's write timeout, which is for whole
// answers: each write has a deadline of its own.
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	st := NewStream(0, 0)
	srv := httptest.NewUnstartedServer(New(Deps{Incidents: st}, nil))
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	defer st.Close()
	res, err := http.Get(srv.URL + "/api/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	evs := readEvents(bufio.NewReader(res.Body))
	waitClients(t, st, 1)
	time.Sleep(time.Second) // past the write timeout
	st.Publish(signal.Incident{ID: 9, Title: "late"})
	select {
	case ev, ok := <-evs:
		if !ok || ev.id != "9" {
			t.Errorf("after the write timeout: %+v %v", ev, ok)
		}
	case <-time.After(10 * time.Second):
		t.Error("no event after the write timeout")
	}
}
