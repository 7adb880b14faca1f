package simrun

import (
	"context"
	"testing"
	"time"
)

// TestLoopRanksInjectedServiceFirst is the end-to-end test of the skeleton:
// for every fault kind, on three targets each, the simulated shop feeds the
// whole engine, and the incident it raises must name the injected service
// first and nominate a runbook for it.
func TestLoopRanksInjectedServiceFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("closed-loop runs take seconds each; run without -short")
	}
	matrix := []struct {
		kind    string
		targets []string
	}{
		{"latency", []string{"catalog", "db", "payment"}},
		{"errors", []string{"payment", "cart", "user"}},
		{"crash", []string{"cart", "catalog", "payment"}},
		{"cpu", []string{"catalog", "checkout", "user"}},
		{"leak", []string{"user", "cart", "payment"}},
	}
	for _, m := range matrix {
		for _, target := range m.targets {
			t.Run(m.kind+"/"+target, func(t *testing.T) {
				t.Parallel()
				res, err := Run(context.Background(), Options{Seed: 7, Fault: m.kind, Target: target})
				if err != nil {
					t.Fatal(err)
				}
				if res.Incident == nil {
					t.Fatalf("no incident after %s on %s; %d observations, %d incidents in all", m.kind, target, len(res.Observations), len(res.Incidents))
				}
				top := res.Incident.Top()
				if top.Entity != target {
					t.Fatalf("%s on %s: top cause %s (%s, %.2f); causes %+v", m.kind, target, top.Entity, top.Kind, top.Score, res.Incident.Causes)
				}
				if res.Incident.Runbook == nil || res.Incident.Runbook.Target != target {
					t.Errorf("%s on %s: runbook %+v, want one aimed at %s", m.kind, target, res.Incident.Runbook, target)
				}
				for _, in := range res.Incidents {
					if in.Opened.Before(res.InjectedAt) {
						t.Errorf("false alarm before the fault: incident %d %q opened %s", in.ID, in.Title, in.Opened.Format(time.TimeOnly))
					}
				}
				t.Logf("%s on %s: detected after %v, diagnosed after %v, kind %s, score %.2f (wall %v)",
					m.kind, target, res.DetectedAfter, res.DiagnosedAfter, top.Kind, top.Score, res.Wall.Round(time.Millisecond))
			})
		}
	}
}

// TestHealthyRunRaisesNoIncident: a shop with nothing wrong must not page
// anyone.
func TestHealthyRunRaisesNoIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("closed-loop runs take seconds each; run without -short")
	}
	for _, seed := range []int64{1, 2, 3} {
		t.Run("seed"+string(rune('0'+seed)), func(t *testing.T) {
			t.Parallel()
			res, err := Run(context.Background(), Options{Seed: seed, Fault: None, After: 20 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range res.Incidents {
				t.Errorf("healthy run raised incident %d %q at %s", in.ID, in.Title, in.Opened.Format(time.TimeOnly))
			}
			if res.Incident != nil || res.DetectedAfter >= 0 {
				t.Errorf("healthy run reports a detection: %+v", res.Incident)
			}
			t.Logf("seed %d: %d observations in 40 simulated minutes, none opened an incident", seed, len(res.Observations))
		})
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	f := func(o Options) {
		t.Helper()
		o.Backfill, o.After = time.Minute, time.Second
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) accepted bad options", o)
		}
	}
	f(Options{Fault: "meteor"})
	f(Options{Fault: "latency", Target: "no-such-service"})
}
