package remedy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// Tick gives the verdict on the runs whose actions are done: a run
// succeeded once its incident resolved, or its target stayed free of
// symptoms for Settle; it failed when symptoms were still seen after
// verify.within. now is the engine's clock, which in a live engine is the
// signals' own. A failed run escalates in the background.
func (m *Manager) Tick(ctx context.Context, now time.Time) error {
	m.mu.Lock()
	jobs := slices.Clone(m.verifying)
	for id, until := range m.retry {
		if now.Sub(until) > time.Hour {
			delete(m.retry, id)
		}
	}
	m.mu.Unlock()
	errs := []error{m.startSettled(ctx, now)}
	for _, j := range jobs {
		done, ok, detail, err := m.check(ctx, j, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !done {
			continue
		}
		m.mu.Lock()
		i := slices.Index(m.verifying, j)
		if i < 0 || m.closed { // Close took it
			m.mu.Unlock()
			continue
		}
		m.verifying = slices.Delete(m.verifying, i, i+1)
		if !ok {
			m.wg.Add(1)
		}
		m.mu.Unlock()
		if ok {
			m.finish(&j.verify, j.trigger, StatusSucceeded, detail)
			m.learn(j, true)
			m.release(j)
			m.log.Info("runbook fixed the incident", "incident", j.in.ID, "runbook", j.plan.Runbook,
				"target", j.plan.TargetAudit, "detail", detail)
			continue
		}
		m.finish(&j.verify, j.trigger, StatusFailed, detail)
		go func() {
			defer m.wg.Done()
			m.fail(j, detail)
		}()
	}
	return errors.Join(errs...)
}

// check reads the incident and the target's observations since the
// actions ended and decides, if it can, whether the symptoms cleared.
func (m *Manager) check(ctx context.Context, j *job, now time.Time) (done, ok bool, detail string, err error) {
	in, err := m.store.Incident(ctx, j.in.ID)
	switch {
	case err == nil && in.Status == signal.IncidentResolved && !in.Resolved.Before(j.ended):
		return true, true, fmt.Sprintf("incident %d resolved at %s", in.ID, stamp(in.Resolved)), nil
	case err != nil && !errors.Is(err, knowledge.ErrNotFound):
		return false, false, "", fmt.Errorf("verifying incident %d: %w", j.in.ID, err)
	}
	obs, err := m.store.Observations(ctx, knowledge.ObservationQuery{Entity: j.plan.Target, Since: j.ended, Until: now.Add(time.Nanosecond), Limit: 100})
	if err != nil {
		return false, false, "", fmt.Errorf("verifying incident %d: %w", j.in.ID, err)
	}
	var last signal.Observation
	for _, o := range obs {
		if Symptom(o) && o.Time.After(j.last) {
			j.last, last = o.Time, o
		}
	}
	within := j.plan.Verify.Within
	switch {
	case j.last.After(j.ended.Add(within)):
		return true, false, fmt.Sprintf("symptoms of %s persisted past %s after the actions: %s", j.plan.TargetAudit, within, last.String()), nil
	case now.Sub(j.last) >= m.cfg.Settle:
		return true, true, fmt.Sprintf("no symptoms of %s since %s (%s after the actions)", j.plan.TargetAudit, stamp(j.last), j.last.Sub(j.ended).Round(time.Millisecond)), nil
	case now.After(j.ended.Add(within + m.cfg.Settle)):
		return true, false, fmt.Sprintf("symptoms of %s did not stay clear for %s within %s", j.plan.TargetAudit, m.cfg.Settle, within), nil
	}
	return false, false, "", nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Symptom reports whether an observation is a sign of trouble rather than
// of recovery: changes are not, and a metric returning towards health (an
// availability metric rising, any other falling) is not either.
func Symptom(o signal.Observation) bool {
	switch o.Kind {
	case signal.Change:
		return false
	case signal.MetricAnomaly:
		n := strings.ToLower(o.Name)
		avail := n == "up" || strings.HasSuffix(n, "_up") || strings.Contains(n, "success") ||
			n == "health" || n == "ready" || strings.HasSuffix(n, "_ready")
		if avail {
			return o.Direction() == "down"
		}
		return o.Direction() != "down"
	}
	return true
}
