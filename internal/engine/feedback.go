package engine

import (
	"context"
	"fmt"

	"github.com/seerops/seer/internal/detect/trace"
	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// learner is what operators' feedback teaches: inference's weights and rules,
// and the trace stage's known failures — the structure deviations of a
// confirmed cause, so that the next trace showing them is diagnosed at once.
type learner struct{ e *Engine }

// Learn implements api.Learner.
func (l learner) Learn(f infer.Feedback, in signal.Incident) []signal.Rule {
	rs := l.e.inferrer.Learn(f, in)
	if f.Confirm != "" {
		if err := l.e.rememberFailures(context.Background(), in, f.Confirm); err != nil {
			l.e.logger.Warn("keeping the confirmed failure's fingerprint", "incident", in.ID, "err", err)
		}
	}
	return rs
}

// rememberFailures records the trace patterns of entity in the incident
// (structure deviations, errors, unreachable calls) as known failures.
func (e *Engine) rememberFailures(ctx context.Context, in signal.Incident, entity string) error {
	if len(in.ObservationIDs) == 0 {
		return nil
	}
	obs, err := e.store.Observations(ctx, knowledge.ObservationQuery{IDs: in.ObservationIDs, Kinds: []signal.ObsKind{signal.TraceStructure, signal.TraceErrors, signal.TraceUnreachable}})
	if err != nil {
		return err
	}
	kind := ""
	for _, c := range in.Causes {
		if c.Entity == entity {
			kind = c.Kind
		}
	}
	for _, o := range obs {
		if o.Entity != entity || o.Evidence["facts"] == "" {
			continue
		}
		kf, err := trace.KnownFailureFrom(fmt.Sprintf("incident %d: %s %s", in.ID, o.Kind, o.Name), kind, o)
		if err == nil {
			err = e.trace.AddKnownFailure(kf)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// restoreKnownFailures rebuilds the known failures from the incidents whose
// cause an operator confirmed.
func (e *Engine) restoreKnownFailures(ctx context.Context, past []signal.Incident) {
	for _, in := range past {
		if c := in.Labels[infer.LabelConfirmed]; c != "" {
			if err := e.rememberFailures(ctx, in, c); err != nil {
				e.logger.Warn("restoring a known failure", "incident", in.ID, "err", err)
			}
		}
	}
}
