package engine

import (
	"context"
	"fmt"

	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/infer/rules"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/remedy"
	"github.com/seerops/seer/internal/signal"
)

// minedFrom caps how many past incidents one mining pass reads.
const minedFrom = 2000

// MineRules learns association rules from the repository's history and
// hands them to inference. It learns from the incidents whose cause is
// known: confirmed by an operator, or — semi-supervised — fixed by a runbook
// whose verification succeeded, which vouches for the top cause. Each gives
// its observations' patterns, the cause's kind and the runbook that worked.
// The new mined rules replace the old ones; rules written by hand and the
// runbooks' outcome records are kept. It returns how many rules were mined.
func (e *Engine) MineRules(ctx context.Context) (int, error) {
	past, err := e.store.Incidents(ctx, knowledge.IncidentQuery{Limit: minedFrom})
	if err != nil {
		return 0, fmt.Errorf("mining rules: reading incidents: %w", err)
	}
	var cases []rules.Case
	for _, in := range past {
		c, ok, err := e.caseOf(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("mining rules: %w", err)
		}
		if ok {
			cases = append(cases, c)
		}
	}
	mined := rules.Mine(cases, rules.DefaultConfig())

	old, err := e.store.Rules(ctx)
	if err != nil {
		return 0, fmt.Errorf("mining rules: %w", err)
	}
	for _, r := range old {
		if r.Origin == rules.Mined {
			if err := e.store.DeleteRule(ctx, r.ID); err != nil {
				return 0, fmt.Errorf("mining rules: replacing rule %d: %w", r.ID, err)
			}
		}
	}
	for i := range mined {
		if err := e.store.PutRule(ctx, &mined[i]); err != nil {
			return 0, fmt.Errorf("mining rules: storing: %w", err)
		}
	}
	all, err := e.store.Rules(ctx)
	if err != nil {
		return 0, fmt.Errorf("mining rules: %w", err)
	}
	e.inferrer.SetRules(all)
	e.logger.Info("rules mined", "from_incidents", len(cases), "rules", len(mined))
	return len(mined), nil
}

// caseOf reads one past incident as a mining case; ok is false when its
// cause is not known.
func (e *Engine) caseOf(ctx context.Context, in signal.Incident) (rules.Case, bool, error) {
	cause := in.Labels[infer.LabelCauseKind]
	runs, err := e.store.Executions(ctx, in.ID)
	if err != nil {
		return rules.Case{}, false, fmt.Errorf("reading executions of incident %d: %w", in.ID, err)
	}
	action := ""
	for _, x := range runs {
		if x.Step == "verify" && x.Status == remedy.StatusSucceeded {
			action = x.Runbook
		}
	}
	if cause == "" && action != "" {
		cause = in.Top().Kind
	}
	if cause == "" || len(in.ObservationIDs) == 0 {
		return rules.Case{}, false, nil
	}
	obs, err := e.store.Observations(ctx, knowledge.ObservationQuery{IDs: in.ObservationIDs})
	if err != nil {
		return rules.Case{}, false, fmt.Errorf("reading observations of incident %d: %w", in.ID, err)
	}
	return rules.Case{Patterns: rules.Patterns(obs), Cause: cause, Action: action}, true, nil
}
