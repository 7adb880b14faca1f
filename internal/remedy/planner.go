package remedy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/seerops/seer/internal/remedy/runbook"
	"github.com/seerops/seer/internal/signal"
)

// Auditor stores the audit record of a runbook step; the knowledge store
// satisfies it.
type Auditor interface {
	AddExecution(ctx context.Context, e *signal.Execution) error
}

// The statuses a planned step is recorded with.
const (
	StatusPlanned         = "planned"
	StatusPendingApproval = "pending-approval"
	// StatusApproved is a step an operator approved that has not run yet.
	StatusApproved = "approved"
)

// Trigger is who the planner's records say started them.
const Trigger = "policy"

// defaultMemory bounds how many incidents the planner remembers having
// planned; an incident forgotten and planned again is audited again.
const defaultMemory = 4096

// Planner nominates a runbook for an incident and records, without running
// anything, what it would do. It is safe for concurrent use.
type Planner struct {
	audit Auditor
	log   *slog.Logger
	// choose picks the runbook among rbs; runbook.Match unless a Manager
	// ranks by what worked before.
	choose func(rbs []*runbook.Runbook, in *signal.Incident) (*runbook.Runbook, bool)
	// withheld, when set, names the runbook that fits but cannot run here
	// (see Manager.withheld), for an incident choose found none for.
	withheld func(rbs []*runbook.Runbook, in *signal.Incident) *signal.Nomination
	// dryRun forces every plan to dry-run whatever its runbook says.
	dryRun bool

	mu      sync.Mutex
	rbs     []*runbook.Runbook
	limit   int
	planned map[int64]string // incident id → key of what was last recorded
	order   []int64          // incident ids in the order first planned, for eviction
}

// NewPlanner plans with the runbooks rbs, recording to audit (nil records
// nothing) and logging to logger (nil logs nothing).
func NewPlanner(rbs []*runbook.Runbook, audit Auditor, logger *slog.Logger) *Planner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Planner{
		rbs:     slices.Clone(rbs),
		audit:   audit,
		log:     logger.With("component", "remedy"),
		choose:  runbook.Match,
		limit:   defaultMemory,
		planned: map[int64]string{},
	}
}

// SetRunbooks replaces the runbooks plans are made from, as when the
// runbook directory changed; incidents already planned keep their plan.
func (p *Planner) SetRunbooks(rbs []*runbook.Runbook) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rbs = slices.Clone(rbs)
}

// Runbooks are the runbooks plans are made from.
func (p *Planner) Runbooks() []*runbook.Runbook {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.rbs)
}

// planned is what plan decided: the nomination, the rendered plan and its
// records, and whether they are new.
type planned struct {
	nom   *signal.Nomination
	plan  runbook.Plan
	recs  []signal.Execution
	fresh bool
	// unavailable: nom names a runbook that fits but cannot run here;
	// there is no plan.
	unavailable bool
}

// Plan picks the runbook for the incident, renders it for the top cause and
// records one Execution per step (planned, or pending-approval in approve
// mode) stamped now. It returns nil and no error when no runbook fits.
// Planning an incident again with the same top cause and runbook records
// nothing new, so it may be called on every update of the incident.
func (p *Planner) Plan(ctx context.Context, in *signal.Incident, now time.Time) (*signal.Nomination, error) {
	pd, err := p.plan(ctx, in, now)
	if err != nil || pd == nil {
		return nil, err
	}
	return pd.nom, nil
}

func (p *Planner) plan(ctx context.Context, in *signal.Incident, now time.Time) (*planned, error) {
	if in == nil {
		return nil, errors.New("planning: no incident")
	}
	rbs := p.Runbooks()
	rb, ok := p.choose(rbs, in)
	if !ok {
		if p.withheld != nil {
			if nom := p.withheld(rbs, in); nom != nil {
				return &planned{nom: nom, unavailable: true}, nil
			}
		}
		return nil, nil
	}
	pl, err := rb.Render(in)
	if err != nil {
		return nil, fmt.Errorf("planning incident %d: %w", in.ID, err)
	}
	if p.dryRun {
		pl.Mode = runbook.DryRun
	}
	nom := &signal.Nomination{Name: pl.Runbook, Mode: string(pl.Mode), Target: pl.TargetAudit, Actions: pl.Audit()}

	top := in.Top()
	key := rb.Name + "\x00" + top.Entity + "\x00" + top.Kind
	prev, fresh := p.reserve(in.ID, key)
	if !fresh {
		return &planned{nom: nom, plan: pl}, nil
	}
	recs, err := p.record(ctx, in.ID, pl, now)
	if err != nil {
		p.release(in.ID, key, prev)
		return nil, fmt.Errorf("planning incident %d: %w", in.ID, err)
	}
	p.log.Info("runbook planned", "incident", in.ID, "runbook", pl.Runbook, "mode", pl.Mode,
		"target", pl.TargetAudit, "cause", top.Kind, "steps", nom.Actions)
	return &planned{nom: nom, plan: pl, recs: recs, fresh: true}, nil
}

// forget drops what the planner remembers of an incident, so that its next
// update is planned (and recorded) afresh.
func (p *Planner) forget(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.planned[id]; !ok {
		return
	}
	delete(p.planned, id)
	if i := slices.Index(p.order, id); i >= 0 {
		p.order = slices.Delete(p.order, i, i+1)
	}
}

// record stores one Execution per step and returns them with their IDs.
func (p *Planner) record(ctx context.Context, id int64, pl runbook.Plan, now time.Time) ([]signal.Execution, error) {
	status := StatusPlanned
	if pl.Mode == runbook.Approve {
		status = StatusPendingApproval
	}
	recs := make([]signal.Execution, 0, len(pl.Diagnostics)+len(pl.Actions))
	for _, s := range pl.Steps() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := &signal.Execution{
			IncidentID: id,
			Runbook:    pl.Runbook,
			Step:       s.Name,
			Target:     pl.TargetAudit,
			Mode:       string(pl.Mode),
			Trigger:    Trigger,
			Status:     status,
			Input:      s.Audit,
			Started:    now,
		}
		if p.audit != nil {
			if err := p.audit.AddExecution(ctx, e); err != nil {
				return nil, fmt.Errorf("recording step %s of %s: %w", s.Name, pl.Runbook, err)
			}
		}
		recs = append(recs, *e)
	}
	return recs, nil
}

// reserve claims the right to record key for the incident, so that
// concurrent plans of one incident record it once. It reports the key it
// replaced and whether key is new. Incident 0 (not stored yet) is never
// remembered.
func (p *Planner) reserve(id int64, key string) (string, bool) {
	if id == 0 {
		return "", true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prev, known := p.planned[id]
	if known && prev == key {
		return prev, false
	}
	if !known {
		if len(p.order) >= p.limit {
			delete(p.planned, p.order[0])
			p.order = slices.Delete(p.order, 0, 1)
		}
		p.order = append(p.order, id)
	}
	p.planned[id] = key
	return prev, true
}

// release undoes reserve after recording failed, so the next plan retries.
func (p *Planner) release(id int64, key, prev string) {
	if id == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.planned[id] != key {
		return
	}
	if prev != "" {
		p.planned[id] = prev
		return
	}
	delete(p.planned, id)
	if i := slices.Index(p.order, id); i >= 0 {
		p.order = slices.Delete(p.order, i, i+1)
	}
}
