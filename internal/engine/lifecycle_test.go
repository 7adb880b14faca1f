package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// An incident is acknowledged, resolved, reopened through the API; the
// store and what the engine correlates next keep the operator's word; a
// transition that does not apply is a 409, an unknown incident a 404.
func TestIncidentLifecycle(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	now := time.Now().UTC()
	var obs []signal.Observation
	for i, n := range []string{"latency_p99_ms", "error_ratio", "cpu_utilization"} {
		obs = append(obs, signal.Observation{Time: now.Add(time.Duration(i) * time.Second), Start: now, Entity: "payment",
			Kind: signal.MetricAnomaly, Name: n, Score: 0.95})
	}
	if err := e.publishObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ins, err := e.Store().Incidents(ctx, knowledge.IncidentQuery{})
	if err != nil || len(ins) != 1 {
		t.Fatalf("incidents %+v %v; want one", ins, err)
	}
	id := strconv.FormatInt(ins[0].ID, 10)
	act := func(action string, code int, status signal.IncidentStatus) signal.Incident {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/v1/incidents/"+id+"/"+action, nil)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.Handler().ServeHTTP(w, req)
		if w.Code != code {
			t.Fatalf("%s = %d %s, want %d", action, w.Code, w.Body.String(), code)
		}
		got, err := e.Store().Incident(ctx, ins[0].ID)
		if err != nil || got.Status != status {
			t.Fatalf("after %s: %+v %v, want %s", action, got, err, status)
		}
		return got
	}
	if in := act("ack", 200, signal.IncidentOpen); in.Acknowledged.IsZero() {
		t.Error("ack left no time")
	}
	if in := act("resolve", 200, signal.IncidentResolved); in.Resolved.IsZero() {
		t.Error("resolve left no time")
	}
	act("resolve", http.StatusConflict, signal.IncidentResolved)
	act("ack", http.StatusConflict, signal.IncidentResolved)
	// What joins the incident next does not undo the operator's word.
	if err := e.Tick(ctx, now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Store().Incident(ctx, ins[0].ID); got.Status != signal.IncidentResolved {
		t.Errorf("a tick reopened it: %s", got.Status)
	}
	if in := act("reopen", 200, signal.IncidentOpen); !in.Resolved.IsZero() || !in.Acknowledged.IsZero() {
		t.Errorf("reopened %+v", in)
	}
	req := httptest.NewRequest("POST", "/api/v1/incidents/999/ack", nil)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusNotFound {
		t.Errorf("ack of an unknown incident = %d", w.Code)
	}
}

// Retention deletes the observations and events older than it and the
// incidents resolved before it; what is newer, and open incidents, stay.
func TestRetention(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Retention = 24 * time.Hour
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	now := time.Now().UTC()
	old, recent := now.Add(-48*time.Hour), now.Add(-time.Hour)
	st := e.Store()
	for _, at := range []time.Time{old, recent} {
		if err := st.AddObservations(ctx, []signal.Observation{{Time: at, Start: at, Entity: "a", Kind: signal.MetricAnomaly, Name: "x", Score: 1}}); err != nil {
			t.Fatal(err)
		}
		if err := st.AddEvent(ctx, &signal.Event{Time: at, Entity: "a", Kind: signal.EventDeploy}); err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range []signal.Incident{
		{Status: signal.IncidentResolved, Title: "old", Opened: old, Updated: old, Onset: old, Resolved: old},
		{Status: signal.IncidentOpen, Title: "old but open", Opened: old, Updated: old, Onset: old},
		{Status: signal.IncidentResolved, Title: "recent", Opened: recent, Updated: recent, Onset: recent, Resolved: recent},
	} {
		if err := st.PutIncident(ctx, &in); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.Prune(ctx, now); n != 3 {
		t.Errorf("pruned %d rows, want 3", n)
	}
	obs, _ := st.Observations(ctx, knowledge.ObservationQuery{})
	evs, _ := st.Events(ctx, knowledge.EventQuery{})
	ins, _ := st.Incidents(ctx, knowledge.IncidentQuery{})
	if len(obs) != 1 || len(evs) != 1 || len(ins) != 2 {
		t.Errorf("left %d observations, %d events, %d incidents; want 1, 1, 2", len(obs), len(evs), len(ins))
	}
	for _, in := range ins {
		if in.Title == "old" {
			t.Error("the old resolved incident is kept")
		}
	}
}
