package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// GET /api/v1/observations/{id}/trace: a trace finding's example trace
// with the span it is about marked; the slowest of its service and
// operation for latency, the failing one for errors, the caller's client
// span for a callee that was not reached.
func TestObservationTrace(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	spans := []TraceSpan{
		{ID: "a", Service: "web", Operation: "GET /", Start: ms(0), End: ms(900)},
		{ID: "b", Parent: "a", Service: "web", Operation: "call db", Peer: "db", Client: true, Start: ms(10), End: ms(880), Error: true},
		{ID: "c", Parent: "b", Service: "db", Operation: "query", Start: ms(20), End: ms(100)},
		{ID: "d", Parent: "b", Service: "db", Operation: "query", Start: ms(100), End: ms(870), Error: true, ErrorType: "timeout"},
	}
	store := &fakeStore{obs: []signal.Observation{
		{ID: 1, Entity: "db", Kind: signal.TraceLatency, Name: "query", Evidence: map[string]string{"trace_id": "t1"}},
		{ID: 2, Entity: "db", Kind: signal.TraceErrors, Name: "query", Evidence: map[string]string{"trace_id": "t1"}},
		{ID: 3, Entity: "db", Kind: signal.TraceUnreachable, Name: "web", Evidence: map[string]string{"trace_id": "t1"}},
		{ID: 4, Entity: "db", Kind: signal.TraceLatency, Name: "query", Evidence: map[string]string{"trace_id": "gone"}},
		{ID: 5, Entity: "db", Kind: signal.LogBurst, Name: "7"},
	}}
	s := New(Deps{Store: store, Traces: func(id string) ([]TraceSpan, bool) {
		if id != "t1" {
			return nil, false
		}
		return append([]TraceSpan(nil), spans...), true
	}}, nil)
	get := func(id string) (int, struct {
		TraceID string      `json:"trace_id"`
		Kept    bool        `json:"kept"`
		Spans   []TraceSpan `json:"spans"`
	}) {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/observations/"+id+"/trace", nil))
		var b struct {
			TraceID string      `json:"trace_id"`
			Kept    bool        `json:"kept"`
			Spans   []TraceSpan `json:"spans"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &b)
		return w.Code, b
	}
	marked := func(b []TraceSpan) string {
		out := ""
		for _, sp := range b {
			if sp.Marked {
				out += sp.ID
			}
		}
		return out
	}
	for id, want := range map[string]string{"1": "d", "2": "d", "3": "b"} {
		code, b := get(id)
		if code != http.StatusOK || !b.Kept || b.TraceID != "t1" || len(b.Spans) != 4 || marked(b.Spans) != want {
			t.Errorf("observation %s: %d %+v, marked %q, want %q", id, code, b, marked(b.Spans), want)
		}
	}
	if code, b := get("4"); code != http.StatusOK || b.Kept || b.TraceID != "gone" || len(b.Spans) != 0 {
		t.Errorf("a trace no longer kept: %d %+v", code, b)
	}
	if code, _ := get("5"); code != http.StatusBadRequest {
		t.Errorf("a log finding: %d", code)
	}
}
