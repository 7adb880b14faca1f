package remedy

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// process is what a run hands exec through the context: the record the
// step belongs to (its ID marks the process's environment) and what to do
// once the process has started.
type process struct {
	execution int64
	started   func(pgid int)
}

type processKey struct{}

func withProcess(ctx context.Context, execution int64, started func(pgid int)) context.Context {
	return context.WithValue(ctx, processKey{}, &process{execution: execution, started: started})
}

func processOf(ctx context.Context) *process {
	p, _ := ctx.Value(processKey{}).(*process)
	return p
}

// markerVar is the environment variable that ties a step's processes to
// its audit record: a restarted seer kills a recorded process group only if
// one of its processes carries the record's marker, never a group whose
// number the system has since given to something else.
const markerVar = "SEER_EXECUTION_ID"

func processMarker(execution int64) string {
	return markerVar + "=" + strconv.FormatInt(execution, 10)
}

// savePolicy persists the policy's state; the Policy calls it after every
// admitted run (before the run starts) and every release.
func (m *Manager) savePolicy() {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	b, err := json.Marshal(m.policy.State())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 10*time.Second)
		err = m.journal.PutState(ctx, policyKey, b)
		cancel()
	}
	if err != nil {
		m.log.Error("saving the remediation policy; a crash now would forget cooldowns and runs in progress", "err", err)
	}
}

// reconcile takes up where a seer that stopped without a clean shutdown
// left off, before anything new can run: every record still running is
// marked interrupted and its process group, if it is still there, killed;
// the policy's cooldowns and rates are restored, and a target whose run was
// interrupted cools down from now, so nothing acts on it twice.
func (m *Manager) reconcile(ctx context.Context) error {
	running, err := m.journal.ExecutionsWithStatus(ctx, StatusRunning)
	if err != nil {
		return fmt.Errorf("finding the runs a restart interrupted: %w", err)
	}
	approved, err := m.journal.ExecutionsWithStatus(ctx, StatusApproved)
	if err != nil {
		return fmt.Errorf("finding the runs a restart interrupted: %w", err)
	}
	now := m.now()
	for i := range approved {
		rec := &approved[i]
		rec.Output = joinLines(rec.Output, "approved, but seer stopped before this step ran; not run after the restart")
		rec.Status, rec.Ended = StatusInterrupted, now
		if err := m.store.AddExecution(ctx, rec); err != nil {
			return fmt.Errorf("marking execution %d interrupted: %w", rec.ID, err)
		}
	}
	for i := range running {
		rec := &running[i]
		msg := "seer stopped while this step ran (a crash or a kill); marked interrupted on restart"
		if rec.PGID > 0 {
			msg += "; " + stopGroup(rec.PGID, processMarker(rec.ID))
		}
		rec.Output = joinLines(rec.Output, msg)
		rec.Status, rec.Ended = StatusInterrupted, now
		if err := m.store.AddExecution(ctx, rec); err != nil {
			return fmt.Errorf("marking execution %d interrupted: %w", rec.ID, err)
		}
		m.log.Warn("runbook step interrupted by a restart", "incident", rec.IncidentID, "runbook", rec.Runbook,
			"step", rec.Step, "target", rec.Target, "pgid", rec.PGID, "detail", msg)
	}
	b, err := m.journal.State(ctx, policyKey)
	if err != nil {
		return fmt.Errorf("reading the remediation policy: %w", err)
	}
	if len(b) > 0 {
		var st PolicyState
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("reading the remediation policy: %w", err)
		}
		m.policy.Restore(st, now)
		if len(st.Running) > 0 {
			m.log.Warn("targets whose runs a restart interrupted cool down from now", "targets", st.Running, "cooldown", m.cfg.Cooldown)
		}
	}
	return nil
}

func joinLines(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}
