package engine

import (
	"context"
	"sync"
	"time"

	"github.com/seerops/seer/internal/infer/correlate"
	"github.com/seerops/seer/internal/signal"
)

// orphans are the incidents a previous run of seer left open: the
// correlator's groups are not saved, so they can no longer gain symptoms
// or go quiet by themselves. Each is resolved once it has been quiet for
// resolve_after on the restarted engine's clock (counted from the first
// tick); symptoms that carry on open a new incident, which any runbook
// then plans afresh under the restored policy.
type orphans struct {
	mu    sync.Mutex
	list  []signal.Incident
	since time.Time // the first tick after the restart
}

// adopt keeps the incidents of past that are not resolved.
func (o *orphans) adopt(past []signal.Incident) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, in := range past {
		if in.Status != signal.IncidentResolved {
			o.list = append(o.list, in)
		}
	}
	return len(o.list)
}

// due takes the orphans quiet for after by now, resolved at now.
func (o *orphans) due(now time.Time, after time.Duration) []*signal.Incident {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.list) == 0 {
		return nil
	}
	if o.since.IsZero() {
		o.since = now
	}
	var out []*signal.Incident
	keep := o.list[:0]
	for _, in := range o.list {
		quiet := in.Updated
		if o.since.After(quiet) {
			quiet = o.since
		}
		if now.Sub(quiet) < after {
			keep = append(keep, in)
			continue
		}
		in.Status, in.Resolved, in.Updated = signal.IncidentResolved, now, now
		if in.Labels == nil {
			in.Labels = map[string]string{}
		}
		in.Labels["seer_resolved_by"] = "restart"
		out = append(out, &in)
	}
	o.list = keep
	return out
}

// resolveOrphans resolves (stores and notifies) the orphans due by now.
func (e *Engine) resolveOrphans(ctx context.Context, now time.Time) error {
	after := e.cfg.Infer.Correlate.ResolveAfter
	if after <= 0 {
		after = correlate.DefaultConfig().ResolveAfter
	}
	due := e.orphans.due(now, after)
	if len(due) == 0 {
		return nil
	}
	for _, in := range due {
		e.logger.Info("incident left open by the last run resolved", "incident", in.ID, "title", in.Title)
	}
	e.inferMu.Lock()
	defer e.inferMu.Unlock()
	return e.persist(ctx, due, now)
}
