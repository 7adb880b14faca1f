package remedy

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// rerank changes the stored incident's top cause, as a re-ranking does, and
// hands it to the manager at the clock's time.
func (f *fixture) rerank(in *signal.Incident, entity string) {
	f.t.Helper()
	in.Causes = []signal.Cause{{Entity: entity, Kind: "errors", Score: 0.9}}
	in.Entities = append(in.Entities, entity)
	if err := f.store.PutIncident(context.Background(), in); err != nil {
		f.t.Fatal(err)
	}
	f.handle(in)
}

// TestAutoWaitsForASettledDiagnosis is issue 17's moving target: one
// incident re-ranked over four services within seconds must not restart
// each of them; only the cause that then holds for the stability window
// is acted on, once.
func TestAutoWaitsForASettledDiagnosis(t *testing.T) {
	ctx := context.Background()
	cfg := fast()
	cfg.Stable = 30 * time.Second
	fx := newFixture(t, cfg, parse(t, actRunbook))
	g := newGate()
	close(g.release)
	fx.m.step = g.step
	in := fx.incident("cart", "errors")
	fx.handle(in)
	for _, svc := range []string{"catalog", "payment", "cart", "shipping"} {
		if err := fx.m.Tick(ctx, fx.clk.add(600*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		fx.rerank(in, svc)
	}
	if err := fx.m.Tick(ctx, fx.clk.add(29*time.Second)); err != nil {
		t.Fatal(err)
	}
	fx.m.Wait()
	if n := g.total.Load(); n != 0 {
		t.Fatalf("%d runs before the diagnosis held for 30s, want none", n)
	}
	if err := fx.m.Tick(ctx, fx.clk.add(time.Second)); err != nil {
		t.Fatal(err)
	}
	fx.m.Wait()
	if n := g.total.Load(); n != 1 || g.started["shipping"] != 1 {
		t.Fatalf("%d runs (%v), want one, on shipping, the cause that held", n, g.started)
	}
	skipped := 0
	for _, r := range fx.runs(in.ID) {
		if r == "act skipped" {
			skipped++
		}
	}
	if skipped != 4 {
		t.Errorf("records %q: want the 4 superseded plans recorded as skipped", fx.runs(in.ID))
	}
}

// TestOneRunPerIncidentAtATime: a diagnosis that changes while the
// incident's run is in progress waits for that run to end.
func TestOneRunPerIncidentAtATime(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, fast(), parse(t, actRunbook))
	g := newGate()
	fx.m.step = g.step
	in := fx.incident("cart", "errors")
	fx.handle(in)
	fx.rerank(in, "catalog")
	if err := fx.m.Tick(ctx, fx.clk.add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// The policy admits a run synchronously: a second admission is a second run.
	running := fx.m.policy.Running()
	close(g.release)
	fx.m.Wait()
	if running != 1 {
		t.Fatalf("%d runs of one incident at once, want 1", running)
	}
	// The first run's verification ends (the incident resolved): the second may go.
	in.Status, in.Resolved = signal.IncidentResolved, fx.clk.add(time.Second)
	fx.store.PutIncident(ctx, in)
	in.Status, in.Resolved = signal.IncidentOpen, time.Time{}
	if err := fx.m.Tick(ctx, fx.clk.now()); err != nil {
		t.Fatal(err)
	}
	fx.store.PutIncident(ctx, in)
	if err := fx.m.Tick(ctx, fx.clk.add(time.Second)); err != nil {
		t.Fatal(err)
	}
	fx.m.Wait()
	if g.total.Load() != 2 || g.started["catalog"] != 1 {
		t.Errorf("%d runs (%v); want catalog's to start once cart's ended", g.total.Load(), g.started)
	}
}

// TestRestartReconciles: what a crash left behind — a step still marked
// running, its process still running, the policy's lease on the target —
// is taken up by the next Manager before it can run anything.
func TestRestartReconciles(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, fast(), parse(t, actRunbook))
	fx.m.Close()

	// The orphan of the crashed seer: a process group marked as record's.
	rec := &signal.Execution{IncidentID: 7, Runbook: "act", Step: "act", Target: "cart", Mode: "auto",
		Trigger: Trigger, Status: StatusRunning, Started: fx.clk.now()}
	if err := fx.store.AddExecution(ctx, rec); err != nil {
		t.Fatal(err)
	}
	orphan := exec.Command("sleep", "300")
	orphan.Env = []string{processMarker(rec.ID)}
	orphan.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { orphan.Wait(); close(done) }()
	t.Cleanup(func() { orphan.Process.Kill(); <-done })
	rec.PGID = orphan.Process.Pid
	fx.store.AddExecution(ctx, rec)

	// A group with no marker is someone else's now: it is left alone.
	other := exec.Command("sleep", "300")
	other.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	otherDone := make(chan struct{})
	go func() { other.Wait(); close(otherDone) }()
	t.Cleanup(func() { other.Process.Kill(); <-otherDone })
	stale := &signal.Execution{IncidentID: 8, Runbook: "act", Step: "act", Target: "shop/i-1", Mode: "auto",
		Trigger: Trigger, Status: StatusRunning, Started: fx.clk.now(), PGID: other.Process.Pid}
	fx.store.AddExecution(ctx, stale)

	st, _ := json.Marshal(PolicyState{Running: []string{"cart"}})
	if err := fx.store.(Journal).PutState(ctx, policyKey, st); err != nil {
		t.Fatal(err)
	}

	fx.m = fx.manager(fast(), parse(t, actRunbook))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the orphaned process group still runs after the restart")
	}
	if r := fx.record(7, "act"); r.Status != StatusInterrupted || !strings.Contains(r.Output, "killed") {
		t.Errorf("the orphan's record: %+v; want interrupted, its group killed", r)
	}
	if r := fx.record(8, "act"); r.Status != StatusInterrupted || !strings.Contains(r.Output, "left alone") {
		t.Errorf("the stale record: %+v; want interrupted, the unmarked group left alone", r)
	}
	if err := syscall.Kill(other.Process.Pid, 0); err != nil {
		t.Errorf("a process group that was not ours was signalled: %v", err)
	}
	g := newGate()
	close(g.release)
	fx.m.step = g.step
	fx.handle(fx.incident("cart", "errors"))
	fx.m.Wait()
	if n := g.total.Load(); n != 0 {
		t.Errorf("%d runs on cart right after the restart interrupted its run; want none (cooldown)", n)
	}
	if got := fx.m.policy.State(); len(got.Ended) == 0 {
		t.Errorf("the policy was not persisted: %+v", got)
	}
}

// TestApprovalIsCommittedBeforeItRuns: once Approve returns, the approval
// is in the store, so a crash mid-run can neither leave steps waiting as
// if unanswered nor let the same plan be approved (and run) a second time.
func TestApprovalIsCommittedBeforeItRuns(t *testing.T) {
	ctx := context.Background()
	rb := parse(t, `name: act
when: cause.kind == "errors"
mode: approve
actions:
  - name: act
    exec: ["true"]
  - name: after
    exec: ["true"]
verify: {within: 1m}
`)
	fx := newFixture(t, fast(), rb)
	g := newGate()
	fx.m.step = g.step
	in := fx.incident("cart", "errors")
	fx.handle(in)
	if _, err := fx.m.Approve(ctx, in.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if r := fx.record(in.ID, "after"); r.Status != StatusApproved || r.Trigger != "operator:alice" {
		t.Errorf("a step not yet run after the approval: %s by %s; want approved by operator:alice", r.Status, r.Trigger)
	}
	// seer restarts while the first step runs.
	m2 := fx.manager(fast(), rb)
	if _, err := m2.Approve(ctx, in.ID, "bob"); err == nil {
		t.Errorf("the plan was approved a second time after the restart")
	}
	if r := fx.record(in.ID, "after"); r.Status != StatusInterrupted {
		t.Errorf("the approved step that never ran: %s after the restart, want interrupted", r.Status)
	}
	close(g.release)
	fx.m.Wait()
}
