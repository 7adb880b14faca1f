package engine

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/infer"
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

func TestKeepOperatorLabels(t *testing.T) {
	f := func(in, stored map[string]string, want string) {
		t.Helper()
		inc := signal.Incident{Labels: in}
		keepOperatorLabels(&inc, signal.Incident{Labels: stored})
		if got := fmt.Sprint(inc.Labels); got != want {
			t.Errorf("keepOperatorLabels(%v, %v) = %s, want %s", in, stored, got, want)
		}
	}
	f(nil, nil, "map[]")
	f(nil, map[string]string{infer.LabelConfirmed: "cart"}, "map[feedback.confirmed:cart]")
	f(map[string]string{infer.LabelRules: "3"}, map[string]string{infer.LabelConfirmed: "cart", infer.LabelRules: "1,2"}, "map[feedback.confirmed:cart rules.fired:3]")
	// Rules that no longer fire are inference's to drop.
	f(map[string]string{}, map[string]string{infer.LabelRules: "1"}, "map[]")
	f(map[string]string{"team": "b"}, map[string]string{"team": "a", "ticket": "T-1"}, "map[team:b ticket:T-1]")
	// The snapshot's own map is not written to.
	own := map[string]string{"x": "1"}
	f(own, map[string]string{"y": "2"}, "map[x:1 y:2]")
	if len(own) != 1 {
		t.Errorf("the snapshot's map was changed: %v", own)
	}
}
