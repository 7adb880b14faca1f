package simrun

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/seerops/seer/internal/engine"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/sim"
)

// TestAutoActsOncePerIncident: with an auto runbook that matches every
// incident, each fault of the simulator's kinds starts at most one
// remediation per incident, however its diagnosis is re-ranked while it
// settles (issue 17).
func TestAutoActsOncePerIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("closed-loop runs take seconds each; run without -short")
	}
	rb := t.TempDir()
	const runbook = `name: act-on-anything
description: A harmless action on whatever is blamed, to count the runs.
when: "true"
priority: 1000
mode: auto
actions:
  - name: act
    exec: ["true"]
    timeout: 5s
verify: {within: 30s}
`
	if err := os.WriteFile(filepath.Join(rb, "act.yaml"), []byte(runbook), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range sim.FaultKinds() {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			cfg := engine.Default()
			cfg.Bus.Sync = true
			cfg.RunbookDir = rb
			starts := map[int64]int{}
			_, err := Run(context.Background(), Options{Seed: 11, Fault: string(kind), Engine: &cfg,
				Linger: func(ctx context.Context, e *engine.Engine) error {
					ins, err := e.Store().Incidents(ctx, knowledge.IncidentQuery{})
					if err != nil {
						return err
					}
					for _, in := range ins {
						exs, err := e.Store().Executions(ctx, in.ID)
						if err != nil {
							return err
						}
						for _, x := range exs {
							if x.Step == "act" && x.Status != "skipped" && x.Status != "planned" {
								starts[in.ID]++
							}
						}
					}
					return nil
				}})
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for id, n := range starts {
				total += n
				if n > 1 {
					t.Errorf("incident %d: %d remediations started, want at most 1", id, n)
				}
			}
			if total == 0 {
				t.Errorf("no remediation started: the runbook never ran, the test proves nothing")
			}
			t.Logf("%s: %d incidents acted on, %d starts", kind, len(starts), total)
		})
	}
}
