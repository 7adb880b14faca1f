package remedy

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/seerops/seer/internal/remedy/runbook"
	"github.com/seerops/seer/internal/signal"
)

// OriginOutcome marks the rules that record how runbooks fared: If holds
// the entity kind ("entity-kind:service"), Cause the cause kind, Action
// the runbook, Support the runs verified and Confidence the share that
// fixed the incident.
const OriginOutcome = "outcome"

// EntityKind is what kind of thing an entity name denotes: host, instance
// or service.
func EntityKind(entity string) string {
	switch {
	case strings.HasPrefix(entity, "host:"):
		return "host"
	case strings.Contains(entity, "/"):
		return "instance"
	}
	return "service"
}

func scoreKey(cause, entityPattern, rb string) string {
	return cause + "|" + entityPattern + "|" + rb
}

func entityPattern(entity string) string { return "entity-kind:" + EntityKind(entity) }

// score is the smoothed success rate of a runbook for a pattern: 0.5 when
// untried, moving towards the observed rate as runs are verified.
func (m *Manager) score(cause, entity, rb string) (float64, float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.scores[scoreKey(cause, entityPattern(entity), rb)]
	if r == nil {
		return 0.5, 0
	}
	wins := math.Round(r.Confidence * r.Support)
	return (wins + 1) / (r.Support + 2), r.Support
}

// demoted is the score below which a runbook that has been tried is ranked
// after every other that fits, whatever its priority.
const demoted = 0.3

// fitting splits the runbooks whose condition the incident meets into
// those that can run where seer acts and, of those whose steps need what
// the environments lack (kubectl on a host without Kubernetes), the one of
// highest priority, with what it lacks.
func (m *Manager) fitting(rbs []*runbook.Runbook, in *signal.Incident) (runnable []*runbook.Runbook, lacking *runbook.Runbook, needs []string) {
	if in == nil {
		return nil, nil, nil
	}
	env := runbook.NewEnv(in)
	for _, rb := range rbs {
		if rb == nil || !rb.Matches(env) {
			continue
		}
		lack := missing(rb, m.envs)
		if len(lack) == 0 {
			runnable = append(runnable, rb)
			continue
		}
		if lacking == nil || rb.Priority > lacking.Priority || rb.Priority == lacking.Priority && rb.Name < lacking.Name {
			lacking, needs = rb, lack
		}
	}
	return runnable, lacking, needs
}

// choose picks the runbook for an incident: of those that fit and can run
// here, the one of highest priority, and among equals the one that worked
// best for this kind of cause on this kind of entity; one that keeps
// failing drops below the rest.
func (m *Manager) choose(rbs []*runbook.Runbook, in *signal.Incident) (*runbook.Runbook, bool) {
	runnable, _, _ := m.fitting(rbs, in)
	if len(runnable) == 0 {
		return nil, false
	}
	type cand struct {
		rb    *runbook.Runbook
		score float64
		down  bool
	}
	top := in.Top()
	cs := make([]cand, len(runnable))
	for i, rb := range runnable {
		s, n := m.score(top.Kind, top.Entity, rb.Name)
		cs[i] = cand{rb, s, n >= 2 && s < demoted}
	}
	best := slices.MinFunc(cs, func(a, b cand) int {
		if a.down != b.down {
			if a.down {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(b.rb.Priority, a.rb.Priority), cmp.Compare(b.score, a.score), strings.Compare(a.rb.Name, b.rb.Name))
	})
	return best.rb, true
}

// withheld is the nomination, with Mode signal.ModeUnavailable, of the
// runbook that fits the incident but cannot run here (see fitting): the
// operator learns what would help and what it needs, and nothing runs.
// nil when none is withheld.
func (m *Manager) withheld(rbs []*runbook.Runbook, in *signal.Incident) *signal.Nomination {
	_, rb, needs := m.fitting(rbs, in)
	if rb == nil {
		return nil
	}
	return &signal.Nomination{Name: rb.Name, Mode: signal.ModeUnavailable, Target: in.Top().Entity, Needs: needs}
}

// learn records whether a run fixed its incident, so that the next
// incident of the pattern prefers what worked.
func (m *Manager) learn(j *job, ok bool) {
	c := j.plan.Cause
	pat := entityPattern(c.Entity)
	key := scoreKey(c.Kind, pat, j.plan.Runbook)
	// One learner at a time, so that two first outcomes of a pattern do
	// not insert two rules.
	m.learnMu.Lock()
	defer m.learnMu.Unlock()
	m.mu.Lock()
	r := m.scores[key]
	if r == nil {
		r = &signal.Rule{If: []string{pat}, Cause: c.Kind, Action: j.plan.Runbook, Origin: OriginOutcome}
		m.scores[key] = r
	}
	wins := math.Round(r.Confidence * r.Support)
	if ok {
		wins++
	}
	r.Support++
	r.Confidence = wins / r.Support
	rule := *r
	rule.If = slices.Clone(r.If)
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 10*time.Second)
	defer cancel()
	if err := m.store.PutRule(ctx, &rule); err != nil {
		m.log.Error("recording what a runbook achieved", "runbook", j.plan.Runbook, "err", err)
		return
	}
	m.mu.Lock()
	if r.ID == 0 {
		r.ID = rule.ID
	}
	m.mu.Unlock()
}
