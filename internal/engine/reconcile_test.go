package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seerops/seer/internal/detect/logs"
	"github.com/seerops/seer/internal/ingest/binarytest"
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

// TestLearnedStateIsCheckpointed: a live engine saves what its stages
// learned (log templates, metric and trace baselines, the recent window)
// every checkpoint interval, not only when it stops cleanly, so a crash
// does not make every template new again nor every baseline warm up again.
func TestLearnedStateIsCheckpointed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.HTTPAddr = binarytest.FreeAddr(t)
	cfg.Checkpoint = 100 * time.Millisecond
	e, err := New(ctx, cfg, slog.New(slog.DiscardHandler), Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.Run(ctx) }()
	defer func() {
		cancel()
		<-served
		e.Close()
	}()
	at := time.Now()
	var b signal.Batch
	for i := range 50 {
		b.Logs = append(b.Logs, signal.LogRecord{Time: at, Entity: "cart", Severity: signal.SeverityInfo, Body: fmt.Sprintf("added item %d to cart %d", i, i*7)})
	}
	if err := e.Ingest(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, logsStateFile)
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil {
			st := logs.NewStage(cfg.Logs, nil)
			if err = st.UnmarshalBinary(data); err == nil && st.Len() > 0 && allSaved(dir) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of the log templates in %s while running (last error %v)", path, err)
		}
		time.Sleep(50 * time.Millisecond) // polling the file the engine writes
	}
	// Every other stage's file was written too, and holds what the stage
	// restores.
	for _, l := range e.learned() {
		data, err := os.ReadFile(filepath.Join(dir, l.file))
		if err == nil {
			err = l.state.UnmarshalBinary(data)
		}
		if err != nil {
			t.Errorf("the checkpoint of the %s: %v", l.what, err)
		}
	}
}

// allSaved reports whether every state file is in dir.
func allSaved(dir string) bool {
	for _, f := range []string{logsStateFile, metricStateFile, traceStateFile, windowStateFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}
