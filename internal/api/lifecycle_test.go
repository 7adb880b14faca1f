package api

import (
	"net/http"
	"testing"
	"time"
)

// GET /api/v1/events takes a time ago (since=1h) as well as a time.
func TestEventsSince(t *testing.T) {
	r := newRig(t)
	f := func(target string, code int) {
		t.Helper()
		if w := r.do("GET", target, "", ""); w.Code != code {
			t.Errorf("GET %s = %d %s, want %d", target, w.Code, w.Body.String(), code)
		}
	}
	f("/api/v1/events?since=1h&entity=payment", http.StatusOK)
	f("/api/v1/events?since=2026-01-05T10:00:00Z", http.StatusOK)
	f("/api/v1/events?since=yesterday", http.StatusBadRequest)
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	if len(r.store.evQ) != 2 {
		t.Fatalf("queries %+v", r.store.evQ)
	}
	if q := r.store.evQ[0]; q.Entity != "payment" || time.Since(q.Since) < 59*time.Minute || time.Since(q.Since) > 61*time.Minute {
		t.Errorf("since=1h gave %+v", q)
	}
}

// The lifecycle routes need a Lifecycle; without one they say so.
func TestLifecycleUnconfigured(t *testing.T) {
	r := newRig(t)
	if w := r.do("POST", "/api/v1/incidents/7/ack", "", "application/json"); w.Code/100 == 2 {
		t.Errorf("ack without a lifecycle = %d", w.Code)
	}
	if w := r.do("POST", "/api/v1/incidents/x/resolve", "", "application/json"); w.Code != http.StatusBadRequest {
		t.Errorf("resolve of a bad id = %d", w.Code)
	}
}

// A time ago is counted from the engine's clock, which runs on the data's
// time in a replay or the demo, not from the wall's.
func TestSinceByEngineClock(t *testing.T) {
	r := newRig(t)
	r.s.clock = func() time.Time { return t0 }
	if w := r.do("GET", "/api/v1/events?since=1h", "", ""); w.Code != http.StatusOK {
		t.Fatalf("GET = %d %s", w.Code, w.Body)
	}
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	if q := r.store.evQ[0]; !q.Since.Equal(t0.Add(-time.Hour)) {
		t.Errorf("since=1h by a clock at %s gave %s", t0, q.Since)
	}
}
