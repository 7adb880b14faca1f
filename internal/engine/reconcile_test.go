package engine

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// TestOpenIncidentsResolveAfterARestart: an incident the last run left
// open (a crash) is taken up by the next and resolved once quiet, instead
// of staying open for ever.
func TestOpenIncidentsResolveAfterARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Infer.Correlate.ResolveAfter = time.Minute
	logger := slog.New(slog.DiscardHandler)
	e, err := New(ctx, cfg, logger, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	in := &signal.Incident{Status: signal.IncidentOpen, Title: "catalog", Opened: t0, Updated: t0, Onset: t0,
		Entities: []string{"catalog"}, Causes: []signal.Cause{{Entity: "catalog", Kind: "errors", Score: 0.9}}}
	if err := e.Store().PutIncident(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	var notified []signal.Incident
	e, err = New(ctx, cfg, logger, Hooks{Incident: func(x signal.Incident) { notified = append(notified, x) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	restart := t0.Add(time.Hour)
	for _, at := range []time.Time{restart, restart.Add(59 * time.Second)} {
		if err := e.Tick(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := e.Store().Incident(ctx, in.ID); got.Status != signal.IncidentOpen || len(notified) != 0 {
		t.Fatalf("resolved before it was quiet for resolve_after after the restart: %s, %d notified", got.Status, len(notified))
	}
	if err := e.Tick(ctx, restart.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := e.Store().Incident(ctx, in.ID)
	if err != nil || got.Status != signal.IncidentResolved || got.Labels["seer_resolved_by"] != "restart" || len(notified) != 1 {
		t.Errorf("after the restart and resolve_after: %+v (err %v), %d notified; want it resolved by the restart, once", got, err, len(notified))
	}
}
