package engine

import (
	"context"
	"log/slog"
	"sync"

	"github.com/seerops/seer/internal/ingest/probe"
	"github.com/seerops/seer/internal/ingest/scrape"
	"github.com/seerops/seer/internal/remedy"
	"github.com/seerops/seer/internal/remedy/runbook"
)

// setupRemedy builds the runbook manager (with the user's runbooks ahead of
// the built-in ones), the scraper and the prober.
func (e *Engine) setupRemedy(ctx context.Context, logger *slog.Logger) error {
	// The SQLite store keeps the policy and the running steps across a
	// crash; a store without a journal forgets them.
	journal, _ := e.store.(remedy.Journal)
	m, err := remedy.NewManager(ctx, e.cfg.Remedy, remedy.Deps{
		Store:     e.store,
		Journal:   journal,
		Runbooks:  runbook.Defaults(),
		Instances: e.instances,
		Escalate: func(o remedy.Outcome) {
			e.logger.Error("escalation: a runbook did not fix its incident; a human is needed",
				"incident", o.IncidentID, "runbook", o.Runbook, "target", o.Target, "detail", o.Detail)
		},
		Logger: logger,
	})
	if err != nil {
		return err
	}
	e.remedy = m
	if e.cfg.RunbookDir != "" {
		// A bad runbook is reported (by the manager's log); the good ones load.
		_ = m.LoadDir(e.cfg.RunbookDir)
	}
	if e.scraper, err = scrape.New(e.cfg.Scrape, logger); err != nil {
		m.Close()
		return err
	}
	if e.prober, err = probe.New(e.cfg.Probe, logger); err != nil {
		m.Close()
		return err
	}
	return nil
}

// Remedy is the runbook manager: approvals, and what runs.
func (e *Engine) Remedy() *remedy.Manager { return e.remedy }

// instances counts the instances of a service among the scrape and probe
// targets, for the blast radius; 0 when it has none listed.
func (e *Engine) instances(service string) int {
	seen := map[string]bool{}
	for _, t := range e.cfg.Scrape.Targets {
		if remedy.Service(t.Entity) == service && t.Entity != service {
			seen[t.Entity] = true
		}
	}
	for _, t := range e.cfg.Probe.Targets {
		if remedy.Service(t.Entity) == service && t.Entity != service {
			seen[t.Entity] = true
		}
	}
	return len(seen)
}

// startLive starts what only a live engine does: scraping, probing and
// watching the runbook directory. The returned func waits for them to
// stop once ctx has ended.
func (e *Engine) startLive(ctx context.Context) func() {
	var wg sync.WaitGroup
	wg.Go(func() { e.scraper.Run(ctx, e.Ingest) })
	wg.Go(func() { e.prober.Run(ctx, e.Ingest) })
	if e.cfg.RunbookDir != "" {
		wg.Go(func() { e.remedy.Watch(ctx, e.cfg.RunbookDir) })
	}
	e.logger.Info("live sources started", "scrape_targets", len(e.cfg.Scrape.Targets),
		"probe_targets", len(e.cfg.Probe.Targets), "runbook_dir", e.cfg.RunbookDir)
	return wg.Wait
}
