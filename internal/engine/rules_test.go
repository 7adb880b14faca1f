package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/infer/rules"
	"github.com/seerops/seer/internal/remedy"
	"github.com/seerops/seer/internal/signal"
)

// pastIncident stores an incident with its observations, as history.
func pastIncident(t *testing.T, e *Engine, at time.Time, svc, causeKind string, labels map[string]string, obs ...signal.Observation) signal.Incident {
	t.Helper()
	ctx := context.Background()
	for i := range obs {
		obs[i].Entity, obs[i].Time, obs[i].Start, obs[i].Score = svc, at, at, 0.9
	}
	if err := e.store.AddObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}
	in := signal.Incident{Status: signal.IncidentResolved, Title: svc, Onset: at, Opened: at, Updated: at,
		Entities: []string{svc}, Causes: []signal.Cause{{Entity: svc, Kind: causeKind, Score: 0.9}}, Labels: labels}
	for _, o := range obs {
		in.ObservationIDs = append(in.ObservationIDs, o.ID)
	}
	if err := e.store.PutIncident(ctx, &in); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestMineRulesFromConfirmedAndVerifiedIncidents(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Bus.Sync = true
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	leak := func() []signal.Observation {
		return []signal.Observation{{Kind: signal.MetricForecast, Name: "memory_utilization"}, {Kind: signal.MetricAnomaly, Name: "gc_pause_ms"}}
	}
	slow := func() []signal.Observation {
		return []signal.Observation{{Kind: signal.TraceLatency, Name: "GET /products"}, {Kind: signal.MetricAnomaly, Name: "latency_p99_ms"}}
	}
	for i := range 4 {
		// Confirmed by an operator.
		pastIncident(t, e, at.Add(time.Duration(i)*time.Hour), fmt.Sprint("svc", i), "memory",
			map[string]string{infer.LabelConfirmed: fmt.Sprint("svc", i), infer.LabelCauseKind: "memory"}, leak()...)
		pastIncident(t, e, at.Add(time.Duration(i)*time.Hour+time.Minute), fmt.Sprint("db", i), "latency",
			map[string]string{infer.LabelConfirmed: fmt.Sprint("db", i), infer.LabelCauseKind: "latency"}, slow()...)
	}
	// Fixed by a runbook whose verification succeeded: the top cause stands.
	verified := pastIncident(t, e, at.Add(5*time.Hour), "svc9", "memory", nil, leak()...)
	if err := e.store.AddExecution(ctx, &signal.Execution{IncidentID: verified.ID, Runbook: "restart-leaking-service", Step: "verify", Status: remedy.StatusSucceeded, Started: at}); err != nil {
		t.Fatal(err)
	}
	// Unknown cause: not learned from.
	pastIncident(t, e, at.Add(6*time.Hour), "svc10", "latency", nil, leak()...)
	// A rule written by hand survives mining.
	manual := signal.Rule{If: []string{"alarm"}, Cause: "errors", Origin: rules.Manual, Confidence: 0.9}
	if err := e.store.PutRule(ctx, &manual); err != nil {
		t.Fatal(err)
	}

	for pass := range 2 { // a second pass replaces the mined rules, it does not add to them
		n, err := e.MineRules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := e.store.Rules(ctx)
		var mined []signal.Rule
		for _, r := range stored {
			if r.Origin == rules.Mined {
				mined = append(mined, r)
			}
		}
		if len(mined) != n || n == 0 {
			t.Fatalf("pass %d: mined %d, stored %d mined rules", pass, n, len(mined))
		}
		if !slices.ContainsFunc(stored, func(r signal.Rule) bool { return r.Origin == rules.Manual }) {
			t.Fatalf("pass %d: the manual rule is gone", pass)
		}
		found := slices.ContainsFunc(mined, func(r signal.Rule) bool {
			return r.Cause == "memory" && r.Action == "restart-leaking-service" &&
				slices.ContainsFunc(r.If, func(p string) bool { return strings.HasPrefix(p, string(signal.MetricForecast)) })
		})
		if !found {
			t.Fatalf("pass %d: no rule 'memory forecast → memory → restart-leaking-service' among %+v", pass, mined)
		}
	}
}
