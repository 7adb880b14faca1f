package remedy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/remedy/runbook"
	"github.com/seerops/seer/internal/signal"
)

// ErrNotPending is returned when an incident has no run waiting for an
// operator's approval.
var ErrNotPending = errors.New("nothing is waiting for approval")

// Reader is what runs and verification read of the knowledge repository.
type Reader interface {
	Incident(ctx context.Context, id int64) (signal.Incident, error)
	Observations(ctx context.Context, q knowledge.ObservationQuery) ([]signal.Observation, error)
	Events(ctx context.Context, q knowledge.EventQuery) ([]signal.Event, error)
	Executions(ctx context.Context, incidentID int64) ([]signal.Execution, error)
}

// Learner keeps the outcomes of runs as rules.
type Learner interface {
	PutRule(ctx context.Context, r *signal.Rule) error
	Rules(ctx context.Context) ([]signal.Rule, error)
}

// Store is the knowledge repository as the Manager uses it; the
// knowledge.Store satisfies it.
type Store interface {
	Auditor
	Reader
	Learner
}

// Outcome is how a run ended, for escalation and the record.
type Outcome struct {
	IncidentID int64
	Runbook    string
	Target     string
	Trigger    string
	// Pattern is the cause kind and the entity kind the run was for.
	Pattern string
	OK      bool
	// Detail says what happened in words.
	Detail string
}

// Journal is what makes remediation survive a crash: the policy's state
// as a named document, and the records a crash left running. The SQLite
// store satisfies it.
type Journal interface {
	State(ctx context.Context, key string) ([]byte, error)
	PutState(ctx context.Context, key string, value []byte) error
	ExecutionsWithStatus(ctx context.Context, status string) ([]signal.Execution, error)
}

// policyKey names the policy's document in the Journal.
const policyKey = "remedy.policy"

// Deps are what a Manager is wired to; only Store is required.
type Deps struct {
	Store Store
	// Journal, when set, persists the policy and is reconciled with when
	// the Manager starts; without it a restart forgets cooldowns, rates
	// and the runs in progress.
	Journal  Journal
	Runbooks []*runbook.Runbook
	// Instances tells how many instances a service has, for the blast radius.
	Instances func(service string) int
	// Now is the clock runs are timed and recorded with; time.Now if nil.
	Now func() time.Time
	// Escalate is called when a run failed or did not fix the incident,
	// after any on_failure steps; it must not block.
	Escalate func(Outcome)
	Logger   *slog.Logger
}

// Manager decides, runs, verifies and learns from runbooks: dry-run and
// suggest only record the plan; approve waits for an operator; auto runs
// at once, within the policy. It is safe for concurrent use.
type Manager struct {
	cfg      Config
	envs     []string // Config.Environments or detected
	store    Store
	planner  *Planner
	policy   *Policy
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	step     stepper
	escalate func(Outcome)
	journal  Journal
	saveMu   sync.Mutex // orders the policy's saves

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	learnMu sync.Mutex

	mu        sync.Mutex
	closed    bool
	pending   map[int64]*job          // incident → run waiting for approval
	retry     map[int64]time.Time     // incident → when a refused run may try again
	verifying []*job                  // runs whose actions are done, awaiting the verdict
	waiting   map[int64]*job          // incident → auto run waiting for its diagnosis to settle
	active    map[int64]bool          // incidents with a run in progress or being verified
	scores    map[string]*signal.Rule // cause kind|entity kind|runbook → outcomes
	files     *fileSet
}

// job is one run of a plan for an incident.
type job struct {
	plan    runbook.Plan
	in      signal.Incident
	recs    []signal.Execution // one per step of plan.Steps()
	trigger string
	lease   *Lease
	verify  signal.Execution
	ended   time.Time // when the actions ended
	last    time.Time // when a symptom was last seen since
	since   time.Time // when the diagnosis it was planned for was first seen
}

// NewManager returns a Manager; Close stops its runs.
func NewManager(ctx context.Context, cfg Config, d Deps) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("remedy: %w", err)
	}
	if d.Store == nil {
		return nil, errors.New("remedy: no knowledge store")
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Manager{
		cfg:      cfg,
		store:    d.Store,
		planner:  NewPlanner(d.Runbooks, d.Store, logger),
		policy:   NewPolicy(cfg, d.Instances),
		log:      logger.With("component", "remedy"),
		now:      now,
		client:   &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		escalate: d.Escalate,
		journal:  d.Journal,
		ctx:      rctx,
		cancel:   cancel,
		pending:  map[int64]*job{},
		retry:    map[int64]time.Time{},
		waiting:  map[int64]*job{},
		active:   map[int64]bool{},
		scores:   map[string]*signal.Rule{},
		files:    newFileSet(d.Runbooks),
	}
	m.envs = cfg.Environments
	if len(m.envs) == 0 {
		m.envs = detectEnvironments()
	}
	m.step = m.run
	m.planner.choose = m.choose
	m.planner.withheld = m.withheld
	m.planner.dryRun = cfg.DryRun
	rules, err := d.Store.Rules(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("remedy: reading what worked before: %w", err)
	}
	for i := range rules {
		if r := rules[i]; r.Origin == OriginOutcome && len(r.If) == 1 {
			m.scores[scoreKey(r.Cause, r.If[0], r.Action)] = &r
		}
	}
	if m.journal != nil {
		if err := m.reconcile(ctx); err != nil {
			cancel()
			return nil, fmt.Errorf("remedy: %w", err)
		}
		m.policy.changed = m.savePolicy
		m.savePolicy() // what was running is now ended, for the next restart too
	}
	return m, nil
}

// Runbooks are the runbooks in use.
func (m *Manager) Runbooks() []*runbook.Runbook { return m.planner.Runbooks() }

// Handle plans the runbook for an incident (recording it as the Planner
// does) and, in auto mode, starts it within the policy; in approve mode it
// keeps it for Approve. It returns the nomination, or nil when no runbook
// fits. Handling an incident again with the same diagnosis does nothing
// new, unless the policy refused its run and Retry has passed.
func (m *Manager) Handle(ctx context.Context, in *signal.Incident, now time.Time) (*signal.Nomination, error) {
	if in == nil {
		return nil, errors.New("remedy: no incident")
	}
	m.mu.Lock()
	if until, ok := m.retry[in.ID]; ok && !m.now().Before(until) {
		delete(m.retry, in.ID)
		m.planner.forget(in.ID)
	}
	m.mu.Unlock()
	pd, err := m.planner.plan(ctx, in, now)
	if err != nil {
		return nil, err
	}
	if pd == nil || pd.unavailable {
		m.drop(in.ID, "not run: the diagnosis changed to one no runbook fits")
		if pd == nil {
			return nil, nil
		}
		return pd.nom, nil
	}
	if !pd.fresh {
		return pd.nom, nil
	}
	j := &job{plan: pd.plan, in: *in, recs: pd.recs, trigger: Trigger, since: now}
	if pd.plan.Mode != runbook.Auto {
		m.drop(in.ID, "not run: superseded by a new plan for a changed diagnosis")
	}
	switch pd.plan.Mode {
	case runbook.Approve:
		m.mu.Lock()
		old := m.pending[in.ID]
		m.pending[in.ID] = j
		m.mu.Unlock()
		if old != nil {
			m.settle(old, StatusSkipped, "superseded by a new plan for a changed diagnosis", "")
		}
	case runbook.Auto:
		// The run waits until its diagnosis has held for Stable and no
		// other run of the incident is in progress; Tick starts it.
		m.mu.Lock()
		old := m.waiting[in.ID]
		m.waiting[in.ID] = j
		m.mu.Unlock()
		if old != nil {
			m.settle(old, StatusSkipped, "not run: superseded by a new plan for a changed diagnosis", "")
		}
		if m.cfg.Stable == 0 {
			return pd.nom, m.startSettled(ctx, now)
		}
	}
	return pd.nom, nil
}

// drop settles the auto run waiting on the incident, if any, as skipped.
func (m *Manager) drop(id int64, why string) {
	m.mu.Lock()
	old := m.waiting[id]
	delete(m.waiting, id)
	m.mu.Unlock()
	if old != nil {
		m.settle(old, StatusSkipped, why, "")
	}
}

// startSettled starts the waiting auto runs whose diagnosis has held for
// Stable by now, one run per incident at a time. A run whose incident has
// resolved, or whose stored diagnosis is no longer the one it was planned
// for, is dropped.
func (m *Manager) startSettled(ctx context.Context, now time.Time) error {
	m.mu.Lock()
	var due []*job
	for id, j := range m.waiting {
		if now.Sub(j.since) >= m.cfg.Stable && !m.active[id] {
			due = append(due, j)
			delete(m.waiting, id)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(due, func(a, b *job) int { return cmp.Compare(a.in.ID, b.in.ID) })
	var errs []error
	for _, j := range due {
		if j.in.ID != 0 {
			in, err := m.store.Incident(ctx, j.in.ID)
			switch {
			case err == nil && in.Status == signal.IncidentResolved:
				m.settle(j, StatusSkipped, "not run: the incident resolved before its diagnosis settled", "")
				continue
			case err == nil && !sameCause(in.Top(), j.plan.Cause):
				m.settle(j, StatusSkipped, "not run: the diagnosis changed before it settled", "")
				continue
			case err != nil && !errors.Is(err, knowledge.ErrNotFound):
				m.requeue(j)
				errs = append(errs, fmt.Errorf("reading incident %d before its run: %w", j.in.ID, err))
				continue
			}
		}
		if err := m.start(j); err != nil {
			var r *Refusal
			if errors.As(err, &r) && r.Reason == RefusedIncident {
				m.requeue(j)
				continue
			}
			if !errors.As(err, &r) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// requeue puts a run back to wait, unless a newer plan took its place.
func (m *Manager) requeue(j *job) {
	m.mu.Lock()
	_, newer := m.waiting[j.in.ID]
	if !newer {
		m.waiting[j.in.ID] = j
	}
	m.mu.Unlock()
	if newer {
		m.settle(j, StatusSkipped, "not run: superseded by a new plan for a changed diagnosis", "")
	}
}

func sameCause(a, b signal.Cause) bool { return a.Entity == b.Entity && a.Kind == b.Kind }

// start admits the job with the policy and runs it in the background. A
// refused policy-triggered job is recorded as skipped and retried later;
// an operator's is left to the operator.
func (m *Manager) start(j *job) error {
	now := m.now()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errors.New("remedy: stopped")
	}
	if m.active[j.in.ID] && j.in.ID != 0 {
		m.mu.Unlock()
		return &Refusal{Reason: RefusedIncident, Target: j.plan.Target,
			Msg: fmt.Sprintf("a run for incident %d is already in progress", j.in.ID)}
	}
	lease, err := m.policy.Acquire(j.plan.Target, now)
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) && j.trigger == Trigger {
			until := now.Add(m.cfg.Retry)
			if r.Until.After(until) {
				until = r.Until
			}
			m.retry[j.in.ID] = until
		}
		m.mu.Unlock()
		if j.trigger == Trigger {
			m.log.Info("runbook run refused by policy", "incident", j.in.ID, "runbook", j.plan.Runbook, "target", j.plan.TargetAudit, "reason", err)
			m.settle(j, StatusSkipped, "not run: "+err.Error(), "")
		}
		return err
	}
	j.lease = lease
	if j.in.ID != 0 {
		m.active[j.in.ID] = true
	}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		m.execute(j)
	}()
	return nil
}

// execute runs the diagnostics, then the actions, and hands the job to
// verification; a failing action ends the run as failed.
func (m *Manager) execute(j *job) {
	m.log.Info("runbook started", "incident", j.in.ID, "runbook", j.plan.Runbook, "target", j.plan.TargetAudit, "trigger", j.trigger)
	nd := len(j.plan.Diagnostics)
	for i, s := range j.plan.Diagnostics {
		m.runRecorded(j, &j.recs[i], s)
	}
	failed := ""
	for i, s := range j.plan.Actions {
		rec := &j.recs[nd+i]
		if failed != "" {
			m.finish(rec, j.trigger, StatusSkipped, "not run: "+failed)
			continue
		}
		if r := m.runRecorded(j, rec, s); r.status != StatusSucceeded {
			failed = fmt.Sprintf("action %s %s", s.Name, r.status)
		}
	}
	switch {
	case len(j.plan.Actions) == 0:
		m.release(j)
	case failed != "":
		m.fail(j, failed)
	default:
		j.ended = m.now()
		j.last = j.ended
		j.verify = signal.Execution{
			IncidentID: j.in.ID, Runbook: j.plan.Runbook, Step: "verify", Target: j.plan.TargetAudit,
			Mode: string(j.plan.Mode), Trigger: j.trigger, Status: StatusRunning, Started: j.ended,
			Input: fmt.Sprintf("symptoms of %s clear within %s and stay clear for %s", j.plan.TargetAudit,
				runbook.FormatDuration(j.plan.Verify.Within), runbook.FormatDuration(m.cfg.Settle)),
		}
		m.audit(&j.verify)
		m.mu.Lock()
		m.verifying = append(m.verifying, j)
		m.mu.Unlock()
	}
}

// release ends a job's lease (which starts the target's cooldown) and
// frees its incident for another run.
func (m *Manager) release(j *job) {
	j.lease.Release(m.now())
	m.mu.Lock()
	delete(m.active, j.in.ID)
	m.mu.Unlock()
}

// runRecorded runs one step, recording it as running and then its result.
// A step that starts a process records its process group before the
// process does anything, so that a seer restarted after a crash can stop it.
func (m *Manager) runRecorded(j *job, rec *signal.Execution, s runbook.Step) result {
	rec.Status, rec.Trigger, rec.Mode = StatusRunning, j.trigger, string(j.plan.Mode)
	rec.Started, rec.Ended, rec.Output, rec.PGID = m.now(), time.Time{}, "", 0
	m.audit(rec) // sets the ID of a new record, which marks the process
	ctx := withProcess(m.ctx, rec.ID, func(pgid int) {
		rec.PGID = pgid
		m.audit(rec)
	})
	r := m.step(ctx, s, &j.plan, &j.in)
	m.finish(rec, j.trigger, r.status, j.plan.Mask(r.output))
	level := slog.LevelInfo
	if r.status != StatusSucceeded {
		level = slog.LevelWarn
	}
	m.log.Log(m.ctx, level, "runbook step", "incident", j.in.ID, "runbook", j.plan.Runbook, "step", s.Name, "status", r.status, "what", s)
	return r
}

// finish records the end of a step.
func (m *Manager) finish(rec *signal.Execution, trigger, status, output string) {
	rec.Status, rec.Trigger, rec.Output, rec.Ended = status, trigger, output, m.now()
	if rec.Started.IsZero() {
		rec.Started = rec.Ended
	}
	m.audit(rec)
}

// settle closes every open record of a job that will not run.
func (m *Manager) settle(j *job, status, output, trigger string) {
	if trigger == "" {
		trigger = j.trigger
	}
	for i := range j.recs {
		m.finish(&j.recs[i], trigger, status, output)
	}
}

// audit writes a record; the write outlives a cancelled run so that the
// trail says how it ended.
func (m *Manager) audit(rec *signal.Execution) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 10*time.Second)
	defer cancel()
	if err := m.store.AddExecution(ctx, rec); err != nil {
		m.log.Error("recording a runbook step", "incident", rec.IncidentID, "runbook", rec.Runbook, "step", rec.Step, "err", err)
	}
}

// fail escalates a run whose action failed or whose effect did not show:
// it learns the failure, runs the on_failure steps, and leaves the
// incident open for a human.
func (m *Manager) fail(j *job, why string) {
	m.learn(j, false)
	for _, s := range j.plan.OnFailure {
		rec := &signal.Execution{IncidentID: j.in.ID, Runbook: j.plan.Runbook, Step: s.Name, Target: j.plan.TargetAudit, Input: s.Audit}
		m.runRecorded(j, rec, s)
	}
	m.release(j)
	m.log.Error("runbook did not fix the incident; escalating", "incident", j.in.ID, "runbook", j.plan.Runbook,
		"target", j.plan.TargetAudit, "why", why, "on_failure_steps", len(j.plan.OnFailure))
	if m.escalate != nil {
		m.escalate(m.outcome(j, false, why))
	}
}

func (m *Manager) outcome(j *job, ok bool, detail string) Outcome {
	return Outcome{IncidentID: j.in.ID, Runbook: j.plan.Runbook, Target: j.plan.TargetAudit, Trigger: j.trigger,
		Pattern: j.plan.Cause.Kind + "/" + EntityKind(j.plan.Cause.Entity), OK: ok, Detail: detail}
}

// Approve runs the plan waiting for approval on the incident, on behalf of
// the operator by. It returns the records of the steps that now run. A
// refusal by the policy (a *Refusal) leaves the plan waiting.
func (m *Manager) Approve(ctx context.Context, id int64, by string) ([]signal.Execution, error) {
	j, err := m.claim(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := m.resolvedBefore(ctx, j, by); err != nil {
		return nil, err
	}
	j.trigger = operator(by)
	// The approval is committed before it is acknowledged: a crash after
	// the answer leaves the steps recorded approved (and a restart marks
	// those that never ran interrupted), never waiting as if unanswered.
	if err := m.mark(ctx, j, StatusApproved, j.trigger); err != nil {
		m.unclaim(j)
		return nil, err
	}
	recs := slices.Clone(j.recs) // the run changes j.recs from now on
	if err := m.start(j); err != nil {
		if merr := m.mark(ctx, j, StatusPendingApproval, Trigger); merr != nil {
			m.log.Error("putting a refused approval back to wait", "incident", id, "err", merr)
		}
		m.unclaim(j)
		return nil, err
	}
	m.log.Info("runbook approved", "incident", id, "runbook", j.plan.Runbook, "by", by)
	return recs, nil
}

// Reject drops the plan waiting for approval on the incident, recording
// who rejected it and why.
func (m *Manager) Reject(ctx context.Context, id int64, by, reason string) ([]signal.Execution, error) {
	j, err := m.claim(ctx, id)
	if err != nil {
		return nil, err
	}
	msg := "rejected by " + operator(by)
	if reason != "" {
		msg += ": " + reason
	}
	m.settle(j, StatusSkipped, msg, operator(by))
	m.log.Info("runbook rejected", "incident", id, "runbook", j.plan.Runbook, "by", by, "reason", reason)
	return slices.Clone(j.recs), nil
}

// mark records every step of a job that has not started with status and
// trigger.
func (m *Manager) mark(ctx context.Context, j *job, status, trigger string) error {
	for i := range j.recs {
		j.recs[i].Status, j.recs[i].Trigger = status, trigger
		if err := m.store.AddExecution(ctx, &j.recs[i]); err != nil {
			return fmt.Errorf("recording the %s of incident %d: %w", status, j.in.ID, err)
		}
	}
	return nil
}

func operator(by string) string {
	if by == "" {
		by = "unknown"
	}
	return "operator:" + by
}

// resolvedBefore settles a claimed job whose incident resolved while it
// waited: running a fix then would only disturb a healthy system.
func (m *Manager) resolvedBefore(ctx context.Context, j *job, by string) error {
	in, err := m.store.Incident(ctx, j.in.ID)
	if err != nil || in.Status != signal.IncidentResolved {
		return nil
	}
	m.settle(j, StatusSkipped, "not run: the incident resolved before the approval", operator(by))
	return fmt.Errorf("incident %d resolved before the approval, so nothing was run: %w", j.in.ID, ErrNotPending)
}

// claim takes the incident's waiting job, from memory or, after a
// restart, rebuilt from the records in the store.
func (m *Manager) claim(ctx context.Context, id int64) (*job, error) {
	m.mu.Lock()
	j := m.pending[id]
	delete(m.pending, id)
	m.mu.Unlock()
	if j != nil {
		return j, nil
	}
	return m.restore(ctx, id)
}

func (m *Manager) unclaim(j *job) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pending[j.in.ID]; !ok {
		m.pending[j.in.ID] = j
	}
}

// restore rebuilds a job waiting for approval from its records.
func (m *Manager) restore(ctx context.Context, id int64) (*job, error) {
	in, err := m.store.Incident(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, err)
	}
	all, err := m.store.Executions(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading the runs of incident %d: %w", id, err)
	}
	var waiting []signal.Execution
	for _, e := range all {
		if e.Status == StatusPendingApproval {
			waiting = append(waiting, e)
		}
	}
	if len(waiting) == 0 {
		return nil, fmt.Errorf("incident %d: %w", id, ErrNotPending)
	}
	name := waiting[len(waiting)-1].Runbook
	i := slices.IndexFunc(m.Runbooks(), func(rb *runbook.Runbook) bool { return rb.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("incident %d waits on runbook %s, which is no longer loaded", id, name)
	}
	pl, err := m.Runbooks()[i].Render(&in)
	if err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, err)
	}
	pl.Mode = runbook.Approve
	j := &job{plan: pl, in: in, trigger: Trigger}
	for _, s := range pl.Steps() {
		k := slices.IndexFunc(waiting, func(e signal.Execution) bool { return e.Runbook == name && e.Step == s.Name })
		if k >= 0 {
			j.recs = append(j.recs, waiting[k])
			continue
		}
		j.recs = append(j.recs, signal.Execution{IncidentID: id, Runbook: name, Step: s.Name, Target: pl.TargetAudit,
			Mode: string(pl.Mode), Trigger: Trigger, Status: StatusPendingApproval, Input: s.Audit, Started: m.now()})
	}
	return j, nil
}

// Pending lists the incidents with a run waiting for approval (in this
// process's memory).
func (m *Manager) Pending() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]int64, 0, len(m.pending))
	for id := range m.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Wait blocks until no run is in progress (runs awaiting verification do
// not count); tests and a graceful stop use it.
func (m *Manager) Wait() { m.wg.Wait() }

// Close stops the runs in progress (their commands are killed) and closes
// the records of runs whose verification had not ended.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	m.mu.Lock()
	jobs := m.verifying
	m.verifying = nil
	m.mu.Unlock()
	for _, j := range jobs {
		m.finish(&j.verify, j.trigger, StatusSkipped, "seer stopped before the outcome was known")
		m.release(j)
	}
	return nil
}
