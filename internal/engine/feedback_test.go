package engine

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Confirming a cause keeps its trace patterns as known failures, and a
// restart rebuilds them from the confirmed incidents.
func TestConfirmedCauseBecomesKnownFailure(t *testing.T) {
	dir := t.TempDir()
	e, base, stop := startEngine(t, dir)
	ctx := context.Background()
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	obs := []signal.Observation{
		{Time: at, Start: at, Entity: "cart", Kind: signal.TraceUnreachable, Name: "checkout", Score: 1,
			Evidence: map[string]string{"facts": "unreachable:checkout>cart"}},
		{Time: at, Start: at, Entity: "checkout", Kind: signal.MetricAnomaly, Name: "error_ratio", Score: 0.9},
	}
	if err := e.store.AddObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}
	in := signal.Incident{Status: signal.IncidentOpen, Title: "cart", Onset: at, Opened: at, Updated: at,
		Entities: []string{"cart", "checkout"}, ObservationIDs: []int64{obs[0].ID, obs[1].ID},
		Causes: []signal.Cause{{Entity: "cart", Kind: "unavailable", Score: 0.9}}}
	if err := e.store.PutIncident(ctx, &in); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/api/v1/incidents/1/feedback", "application/json", strings.NewReader(`{"confirm":"cart","by":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("feedback = %d", resp.StatusCode)
	}
	if kf := e.trace.KnownFailures(); len(kf) != 1 || kf[0].Entity != "cart" || kf[0].Cause != "unavailable" {
		t.Fatalf("known failures after confirming cart: %+v", kf)
	}
	stop()

	e2, _, stop2 := startEngine(t, dir)
	defer stop2()
	if kf := e2.trace.KnownFailures(); len(kf) != 1 {
		t.Fatalf("after a restart, known failures: %+v", kf)
	}
}
