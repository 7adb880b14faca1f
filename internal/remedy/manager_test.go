package remedy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/knowledge/sqlite"
	"github.com/seerops/seer/internal/remedy/runbook"
	"github.com/seerops/seer/internal/signal"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// clock is a settable clock for the policy and the records.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func openStore(t testing.TB) knowledge.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seer.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type fixture struct {
	t     testing.TB
	m     *Manager
	store knowledge.Store
	clk   *clock
	esc   chan Outcome
}

func newFixture(t testing.TB, cfg Config, rbs ...*runbook.Runbook) *fixture {
	t.Helper()
	f := &fixture{t: t, store: openStore(t), clk: &clock{t: now}, esc: make(chan Outcome, 100)}
	f.m = f.manager(cfg, rbs...)
	return f
}

func (f *fixture) manager(cfg Config, rbs ...*runbook.Runbook) *Manager {
	f.t.Helper()
	m, err := NewManager(context.Background(), cfg, Deps{
		Store: f.store, Journal: f.store.(Journal), Runbooks: rbs, Now: f.clk.now,
		Instances: func(svc string) int { return 10 },
		Escalate:  func(o Outcome) { f.esc <- o },
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { m.Close() })
	return m
}

// incident stores an incident whose top cause is entity/kind.
func (f *fixture) incident(entity, kind string) *signal.Incident {
	f.t.Helper()
	in := &signal.Incident{Status: signal.IncidentOpen, Title: "trouble", Onset: f.clk.now(), Opened: f.clk.now(), Updated: f.clk.now(),
		Entities: []string{entity}, Causes: []signal.Cause{{Entity: entity, Kind: kind, Score: 0.9}}}
	if err := f.store.PutIncident(context.Background(), in); err != nil {
		f.t.Fatal(err)
	}
	return in
}

func (f *fixture) handle(in *signal.Incident) *signal.Nomination {
	f.t.Helper()
	nom, err := f.m.Handle(context.Background(), in, f.clk.now())
	if err != nil {
		f.t.Fatal(err)
	}
	return nom
}

// runs lists an incident's records as "step status".
func (f *fixture) runs(id int64) []string {
	f.t.Helper()
	ex, err := f.store.Executions(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range ex {
		out = append(out, e.Step+" "+e.Status)
	}
	return out
}

func (f *fixture) record(id int64, step string) signal.Execution {
	f.t.Helper()
	ex, _ := f.store.Executions(context.Background(), id)
	for i := len(ex) - 1; i >= 0; i-- {
		if ex[i].Step == step {
			return ex[i]
		}
	}
	f.t.Fatalf("incident %d has no record of step %s: %v", id, step, f.runs(id))
	return signal.Execution{}
}

func fast() Config {
	cfg := DefaultConfig()
	cfg.Settle = time.Minute
	cfg.Cooldown = 10 * time.Minute
	cfg.Stable = 0 // the stability window has its own tests
	// Every environment, so that the steps' own checks are what is tested.
	cfg.Environments = []string{"kubernetes", "systemd", "docker"}
	return cfg
}

func touchRunbook(t testing.TB, mode, file string) *runbook.Runbook {
	return parse(t, fmt.Sprintf(`name: touch
when: cause.kind == "errors"
mode: %s
diagnostics:
  - name: look
    exec: ["true"]
actions:
  - name: touch
    exec: ["touch", %q]
verify: {within: 2m}
`, mode, file))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func equal(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }

func TestDryRunChangesNothing(t *testing.T) {
	f := func(mode string, force bool) {
		t.Helper()
		file := filepath.Join(t.TempDir(), "touched")
		cfg := fast()
		cfg.DryRun = force
		fx := newFixture(t, cfg, touchRunbook(t, mode, file))
		in := fx.incident("svc", "errors")
		nom := fx.handle(in)
		fx.m.Wait()
		if nom == nil || nom.Mode != "dry-run" {
			t.Errorf("mode %s (forced %v): nomination %+v, want dry-run", mode, force, nom)
		}
		if exists(file) {
			t.Errorf("mode %s (forced %v): the action ran", mode, force)
		}
		if got, want := fx.runs(in.ID), []string{"look planned", "touch planned"}; !equal(got, want) {
			t.Errorf("mode %s (forced %v): records %q, want %q", mode, force, got, want)
		}
		if _, err := fx.m.Approve(context.Background(), in.ID, "alice"); !errors.Is(err, ErrNotPending) {
			t.Errorf("approving a dry run: %v, want ErrNotPending", err)
		}
	}
	f("dry-run", false)
	f("suggest", true)
	f("auto", true)
	f("approve", true)
}

func TestApproveWaitsForApproval(t *testing.T) {
	file := filepath.Join(t.TempDir(), "touched")
	fx := newFixture(t, fast(), touchRunbook(t, "approve", file))
	ctx := context.Background()
	in := fx.incident("svc", "errors")
	if nom := fx.handle(in); nom.Mode != "approve" {
		t.Fatalf("nomination %+v", nom)
	}
	fx.handle(in) // an update of the incident plans nothing new
	fx.m.Wait()
	if exists(file) {
		t.Fatal("ran before approval")
	}
	if got, want := fx.runs(in.ID), []string{"look pending-approval", "touch pending-approval"}; !equal(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
	if ids := fx.m.Pending(); len(ids) != 1 || ids[0] != in.ID {
		t.Errorf("pending %v", ids)
	}
	recs, err := fx.m.Approve(ctx, in.ID, "alice")
	if err != nil || len(recs) != 2 {
		t.Fatalf("Approve: %v, %v", recs, err)
	}
	fx.m.Wait()
	if !exists(file) {
		t.Fatal("approved, but the action did not run")
	}
	if r := fx.record(in.ID, "touch"); r.Status != StatusSucceeded || r.Trigger != "operator:alice" || r.Ended.IsZero() {
		t.Errorf("touch record %+v", r)
	}
	if r := fx.record(in.ID, "verify"); r.Status != StatusRunning {
		t.Errorf("verify record %+v, want running", r)
	}
	// Nothing is seen of the target for Settle: verified.
	if err := fx.m.Tick(ctx, fx.clk.add(fast().Settle)); err != nil {
		t.Fatal(err)
	}
	if r := fx.record(in.ID, "verify"); r.Status != StatusSucceeded || !strings.Contains(r.Output, "no symptoms of svc") {
		t.Errorf("verify record %+v, want succeeded", r)
	}
	if _, err := fx.m.Approve(ctx, in.ID, "alice"); !errors.Is(err, ErrNotPending) {
		t.Errorf("second approval: %v, want ErrNotPending", err)
	}
	if _, err := fx.m.Approve(ctx, 999, "alice"); !errors.Is(err, knowledge.ErrNotFound) {
		t.Errorf("approving a missing incident: %v, want ErrNotFound", err)
	}

	// Rejected: nothing runs, and the records say who rejected it.
	os.Remove(file)
	in2 := fx.incident("svc2", "errors")
	fx.handle(in2)
	if _, err := fx.m.Reject(ctx, in2.ID, "bob", "not during the sale"); err != nil {
		t.Fatal(err)
	}
	fx.m.Wait()
	if r := fx.record(in2.ID, "touch"); exists(file) || r.Status != StatusSkipped || r.Trigger != "operator:bob" || r.Output != "rejected by operator:bob: not during the sale" {
		t.Errorf("rejected: ran %v, record %+v", exists(file), r)
	}

	// Approved by a seer restarted since the plan: rebuilt from the records.
	in3 := fx.incident("svc3", "errors")
	fx.handle(in3)
	m2 := fx.manager(fast(), touchRunbook(t, "approve", file))
	if _, err := m2.Approve(ctx, in3.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	m2.Wait()
	if r := fx.record(in3.ID, "touch"); !exists(file) || r.Status != StatusSucceeded || r.Trigger != "operator:carol" {
		t.Errorf("after a restart: ran %v, record %+v", exists(file), r)
	}
	if got := fx.runs(in3.ID); len(got) != 3 {
		t.Errorf("after a restart the records were not reused: %q", got)
	}
}

// gate is a stepper whose actions block until released, counting how many
// run at once per service and per target.
type gate struct {
	mu        sync.Mutex
	release   chan struct{}
	byService map[string]int
	byTarget  map[string]int
	maxSvc    int
	maxTarget int
	started   map[string]int
	total     atomic.Int64
}

func newGate() *gate {
	return &gate{release: make(chan struct{}), byService: map[string]int{}, byTarget: map[string]int{}, started: map[string]int{}}
}

func (g *gate) step(ctx context.Context, s runbook.Step, pl *runbook.Plan, _ *signal.Incident) result {
	if s.Name != "act" {
		return result{StatusSucceeded, ""}
	}
	svc := Service(pl.Target)
	g.mu.Lock()
	g.byService[svc]++
	g.byTarget[pl.Target]++
	if pl.Target == svc {
		g.byService[svc] += 1000 // a service-wide action must be alone
	}
	g.maxSvc = max(g.maxSvc, g.byService[svc])
	g.maxTarget = max(g.maxTarget, g.byTarget[pl.Target])
	g.started[pl.Target]++
	g.mu.Unlock()
	g.total.Add(1)
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	g.mu.Lock()
	g.byService[svc]--
	g.byTarget[pl.Target]--
	if pl.Target == svc {
		g.byService[svc] -= 1000
	}
	g.mu.Unlock()
	return result{StatusSucceeded, "done"}
}

const actRunbook = `name: act
when: cause.kind == "errors"
mode: auto
actions:
  - name: act
    exec: ["true"]
verify: {within: 1m}
`

func flood(fx *fixture, targets []string, n int) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				fx.handle(fx.incident(targets[i%len(targets)], "errors"))
			}
		})
	}
	wg.Wait()
}

func TestPolicyUnderFlood(t *testing.T) {
	ctx := context.Background()
	instances := make([]string, 10)
	for i := range instances {
		instances[i] = fmt.Sprintf("shop/i-%d", i)
	}
	t.Run("blast radius and one action per target", func(t *testing.T) {
		cfg := fast()
		cfg.MaxInstances, cfg.MaxPercent = 3, 0.2 // 20% of 10 instances: 2 at once
		fx := newFixture(t, cfg, parse(t, actRunbook))
		g := newGate()
		fx.m.step = g.step
		flood(fx, append(instances, "shop"), 200)
		if n := fx.m.policy.Running(); n != 2 {
			t.Errorf("%d runs admitted at once, want the blast radius of 2", n)
		}
		close(g.release)
		fx.m.Wait()
		if g.maxSvc > 2 || g.maxTarget > 1 || g.total.Load() != 2 {
			t.Errorf("at most %d instances and %d actions per target at once, %d in all; want <= 2, 1 and 2", g.maxSvc, g.maxTarget, g.total.Load())
		}
	})
	t.Run("one target, concurrent incidents", func(t *testing.T) {
		fx := newFixture(t, fast(), parse(t, actRunbook))
		g := newGate()
		fx.m.step = g.step
		flood(fx, []string{"cart", "cart/i-1", "cart/i-2"}, 120)
		close(g.release)
		fx.m.Wait()
		// Either the service-wide action or instance actions ran, never both.
		if g.maxSvc > 1000 && g.maxSvc != 1001 || g.maxTarget != 1 {
			t.Errorf("service load %d, per target %d at once", g.maxSvc, g.maxTarget)
		}
		skipped := 0
		ins, _ := fx.store.Incidents(ctx, knowledge.IncidentQuery{Limit: 200})
		for _, in := range ins {
			if r := fx.record(in.ID, "act"); r.Status == StatusSkipped && strings.HasPrefix(r.Output, "not run: ") {
				skipped++
			}
		}
		if g.total.Load() != 1 || skipped != 119 {
			t.Errorf("%d runs and %d incidents recorded as skipped, want 1 and 119", g.total.Load(), skipped)
		}
	})
	t.Run("cooldown", func(t *testing.T) {
		fx := newFixture(t, fast(), parse(t, actRunbook))
		g := newGate()
		close(g.release)
		fx.m.step = g.step
		fx.handle(fx.incident("shop/i-1", "errors"))
		fx.m.Wait()
		if err := fx.m.Tick(ctx, fx.clk.add(time.Minute)); err != nil { // verified: the cooldown starts
			t.Fatal(err)
		}
		fx.clk.add(time.Minute)
		flood(fx, []string{"shop/i-1"}, 50)
		fx.m.Wait()
		if n := g.total.Load(); n != 1 {
			t.Errorf("%d runs within the cooldown, want only the first", n)
		}
		fx.clk.add(10 * time.Minute)
		flood(fx, []string{"shop/i-1"}, 50)
		fx.m.Wait()
		if n := g.total.Load(); n != 2 {
			t.Errorf("%d runs after the cooldown, want 2", n)
		}
	})
	t.Run("rate", func(t *testing.T) {
		cfg := fast()
		cfg.Cooldown, cfg.MaxActions, cfg.RateWindow = 0, 3, time.Hour
		fx := newFixture(t, cfg, parse(t, actRunbook))
		g := newGate()
		close(g.release)
		fx.m.step = g.step
		for range 60 { // an incident a minute for an hour
			flood(fx, []string{"shop/i-1"}, 8)
			fx.m.Wait()
			if err := fx.m.Tick(ctx, fx.clk.add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if n := g.total.Load(); n != 3 {
			t.Errorf("%d runs in an hour, want the rate limit of 3", n)
		}
		fx.clk.add(time.Minute)
		fx.handle(fx.incident("shop/i-1", "errors"))
		fx.m.Wait()
		if n := g.total.Load(); n != 4 {
			t.Errorf("%d runs once the window moved on, want 4", n)
		}
	})
	t.Run("refused incident retries", func(t *testing.T) {
		fx := newFixture(t, fast(), parse(t, actRunbook))
		g := newGate()
		fx.m.step = g.step
		first := fx.incident("shop/i-1", "errors")
		fx.handle(first)
		second := fx.incident("shop/i-1", "errors")
		fx.handle(second) // busy
		close(g.release)
		fx.m.Wait()
		fx.m.Tick(ctx, fx.clk.add(time.Minute))
		fx.handle(second) // too soon: the cooldown holds
		fx.clk.add(11 * time.Minute)
		fx.handle(second) // the cooldown is over: it runs
		fx.m.Wait()
		if got := fx.runs(second.ID); g.total.Load() != 2 || !equal(got, []string{"act skipped", "act skipped", "act succeeded", "verify running"}) {
			t.Errorf("%d runs; the second incident's records: %q", g.total.Load(), got)
		}
	})
}

func TestFailingAndHangingActions(t *testing.T) {
	dir := t.TempDir()
	rolled := filepath.Join(dir, "rolled-back")
	rb := parse(t, fmt.Sprintf(`name: flaky
when: cause.kind == "errors"
mode: auto
actions:
  - name: fail
    exec: ["sh", "-c", "echo boom; exit 3"]
  - name: never
    exec: ["true"]
on_failure:
  - name: rollback
    exec: ["touch", %q]
`, rolled))
	fx := newFixture(t, fast(), rb)
	in := fx.incident("svc", "errors")
	fx.handle(in)
	fx.m.Wait()
	if r := fx.record(in.ID, "fail"); r.Status != StatusFailed || !strings.Contains(r.Output, "boom") || !strings.Contains(r.Output, "exit status 3") {
		t.Errorf("failing action: %+v", r)
	}
	if got := fx.runs(in.ID); !equal(got, []string{"fail failed", "never skipped", "rollback succeeded"}) || !exists(rolled) {
		t.Errorf("records %q, rolled back %v", got, exists(rolled))
	}
	select {
	case o := <-fx.esc:
		if o.OK || o.IncidentID != in.ID || o.Pattern != "errors/service" {
			t.Errorf("escalation %+v", o)
		}
	default:
		t.Error("a failed run was not escalated")
	}

	// A hanging action, and a script whose children hang too, are killed at
	// their timeout and recorded as timed-out.
	hang := parse(t, `name: hang
when: cause.kind == "latency"
mode: auto
actions:
  - name: hang
    exec: ["sh", "-c", "sleep 30 & sleep 30"]
    timeout: 300ms
`)
	fx = newFixture(t, fast(), hang)
	in = fx.incident("svc", "latency")
	start := time.Now()
	fx.handle(in)
	fx.m.Wait()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a 300ms timeout took %s", took)
	}
	if r := fx.record(in.ID, "hang"); r.Status != StatusTimedOut || !strings.Contains(r.Output, "timeout of 300ms") {
		t.Errorf("hanging action: %+v", r)
	}
	// The policy is free again: the failure released the target.
	if n := fx.m.policy.Running(); n != 0 {
		t.Errorf("%d runs still hold their target", n)
	}
}

func TestVerificationAndLearning(t *testing.T) {
	ctx := context.Background()
	rb := func(name string) *runbook.Runbook {
		prio := 0
		if name == "a-restart" {
			prio = 10
		}
		return parse(t, fmt.Sprintf(`name: %s
when: cause.kind == "errors"
priority: %d
mode: auto
actions:
  - name: act
    exec: ["true"]
verify: {within: 1m}
`, name, prio))
	}
	cfg := fast()
	cfg.Cooldown = 0
	fx := newFixture(t, cfg, rb("a-restart"), rb("b-rollback"))
	symptom := func(entity string, at time.Time) {
		o := []signal.Observation{{Time: at, Start: at, Entity: entity, Kind: signal.MetricAnomaly, Name: "up", Score: 1,
			Actual: 0, Expected: 1, Low: 0.9, High: 1.1, Evidence: map[string]string{"direction": "down"}}}
		if err := fx.store.AddObservations(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// Runbook a (first by name) is tried twice; symptoms persist both times.
	for range 2 {
		in := fx.incident("svc", "errors")
		if nom := fx.handle(in); nom.Name != "a-restart" {
			t.Fatalf("nominated %s, want a-restart, of higher priority, until it keeps failing", nom.Name)
		}
		fx.m.Wait()
		for range 4 {
			symptom("svc", fx.clk.add(20*time.Second))
			if err := fx.m.Tick(ctx, fx.clk.now()); err != nil {
				t.Fatal(err)
			}
		}
		fx.m.Wait()
		if r := fx.record(in.ID, "verify"); r.Status != StatusFailed || !strings.Contains(r.Output, "persisted") {
			t.Fatalf("verify %+v, want failed", r)
		}
	}
	// A recovery (up rising) is not a symptom; the next incident gets b.
	in := fx.incident("svc", "errors")
	if nom := fx.handle(in); nom.Name != "b-rollback" {
		t.Fatalf("nominated %s after a-restart failed twice, want b-rollback", nom.Name)
	}
	fx.m.Wait()
	rec := []signal.Observation{{Time: fx.clk.add(time.Second), Entity: "svc", Kind: signal.MetricAnomaly, Name: "up", Score: 1, Actual: 1, Expected: 0, Evidence: map[string]string{"direction": "up"}}}
	if err := fx.store.AddObservations(ctx, rec); err != nil {
		t.Fatal(err)
	}
	fx.m.Tick(ctx, fx.clk.add(30*time.Second))
	if r := fx.record(in.ID, "verify"); r.Status != StatusRunning {
		t.Fatalf("verify %+v before Settle, want running", r)
	}
	fx.m.Tick(ctx, fx.clk.add(31*time.Second))
	if r := fx.record(in.ID, "verify"); r.Status != StatusSucceeded {
		t.Fatalf("verify %+v, want succeeded", r)
	}
	// The outcomes are rules in the knowledge base, and survive a restart.
	rules, err := fx.store.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rules {
		got[r.Action] = fmt.Sprintf("%s %s n=%g p=%.2f", r.Cause, r.If[0], r.Support, r.Confidence)
	}
	if got["a-restart"] != "errors entity-kind:service n=2 p=0.00" || got["b-rollback"] != "errors entity-kind:service n=1 p=1.00" {
		t.Errorf("rules %v", got)
	}
	m2 := fx.manager(cfg, rb("a-restart"), rb("b-rollback"))
	if pick, _ := m2.choose(m2.Runbooks(), fx.incident("svc", "errors")); pick.Name != "b-rollback" {
		t.Errorf("after a restart the choice is %s, want b-rollback", pick.Name)
	}
	// For another pattern (an instance) nothing is known yet.
	if pick, _ := m2.choose(m2.Runbooks(), fx.incident("svc/i-1", "errors")); pick.Name != "a-restart" {
		t.Errorf("for an instance the choice is %s, want a-restart", pick.Name)
	}
	// An incident resolved after the actions verifies at once.
	in = fx.incident("other", "errors")
	fx.handle(in)
	fx.m.Wait()
	in.Status, in.Resolved = signal.IncidentResolved, fx.clk.add(time.Second)
	if err := fx.store.PutIncident(ctx, in); err != nil {
		t.Fatal(err)
	}
	fx.m.Tick(ctx, fx.clk.now())
	if r := fx.record(in.ID, "verify"); r.Status != StatusSucceeded || !strings.Contains(r.Output, "resolved") {
		t.Errorf("verify %+v, want succeeded on resolution", r)
	}
}

func TestStepKinds(t *testing.T) {
	ctx := context.Background()
	t.Setenv("SEER_TEST_SECRET", "hunter22")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			fmt.Fprintf(w, "auth=%s body-len=%d", r.Header.Get("Authorization"), r.ContentLength)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		default:
			http.Error(w, "broken", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	pidfile := filepath.Join(t.TempDir(), "svc.pid")
	if err := os.WriteFile(pidfile, []byte(fmt.Sprintf("%d\n", sleeper.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()+string(os.PathListSeparator)+os.Getenv("PATH"))
	nokube := ""
	if _, err := exec.LookPath("kubectl"); err != nil {
		nokube = "kubectl"
	}

	rb := parse(t, fmt.Sprintf(`name: kinds
when: "true"
mode: auto
diagnostics:
  - name: echo-secret
    exec: ["echo", "token {{ env \"SEER_TEST_SECRET\" }}"]
  - name: ok
    http: {url: "%[1]s/ok", method: POST, body: "{}", headers: {Authorization: "Bearer {{ env \"SEER_TEST_SECRET\" }}"}}
  - name: broken
    http: {url: "%[1]s/broken"}
  - name: slow
    http: {url: "%[1]s/slow", timeout: 200ms}
  - name: evidence
    collect: {metrics: 10m, logs: 5, events: 1h}
  - name: kube
    kubectl: {verb: rollout-restart}
actions:
  - name: stop
    signal: {pidfile: %[2]q, signal: TERM}
verify: {within: 1m}
`, srv.URL, pidfile))
	fx := newFixture(t, fast(), rb)
	at := fx.clk.now()
	fx.store.AddObservations(ctx, []signal.Observation{{Time: at.Add(-time.Minute), Entity: "svc", Kind: signal.MetricAnomaly, Name: "latency_p99", Score: 0.8, Summary: "p99 high"}})
	fx.store.AddEvent(ctx, &signal.Event{Time: at.Add(-time.Minute), Entity: "svc", Kind: signal.EventDeploy, Text: "v2"})
	in := fx.incident("svc", "errors")
	fx.handle(in)
	fx.m.Wait()
	f := func(step, status string, has ...string) {
		t.Helper()
		r := fx.record(in.ID, step)
		if r.Status != status {
			t.Errorf("%s: status %s, want %s (output %q)", step, r.Status, status, r.Output)
		}
		for _, h := range has {
			if !strings.Contains(r.Output, h) {
				t.Errorf("%s: output %q lacks %q", step, r.Output, h)
			}
		}
		if strings.Contains(r.Output+r.Input, "hunter22") {
			t.Errorf("%s: the secret leaked: %+v", step, r)
		}
	}
	f("echo-secret", StatusSucceeded, "token ***")
	f("ok", StatusSucceeded, "HTTP 200 OK", "auth=Bearer ***", "body-len=2")
	f("broken", StatusFailed, "HTTP 500", "broken")
	f("slow", StatusTimedOut, "timeout of 200ms")
	f("evidence", StatusSucceeded, "latency_p99", "p99 high", "deploy svc: v2")
	if nokube != "" {
		f("kube", StatusSkipped, "kubectl is not on PATH")
	}
	f("stop", StatusSucceeded, fmt.Sprintf("pid %d: sent SIGTERM", sleeper.Process.Pid))
	select {
	case err := <-exited:
		if err == nil {
			t.Error("sleep exited cleanly; want killed by SIGTERM")
		}
	case <-time.After(5 * time.Second):
		sleeper.Process.Kill()
		<-exited
		t.Error("the signal did not reach the process")
	}
}

func TestBoundedOutput(t *testing.T) {
	b := &boundedBuffer{max: 8}
	fmt.Fprint(b, "0123")
	fmt.Fprint(b, "456789abc")
	if got := b.String(); got != "01234567\n[5 more bytes not kept]" {
		t.Errorf("got %q", got)
	}
}

func TestSymptom(t *testing.T) {
	f := func(kind signal.ObsKind, name, dir string, want bool) {
		t.Helper()
		o := signal.Observation{Kind: kind, Name: name, Evidence: map[string]string{"direction": dir}}
		if got := Symptom(o); got != want {
			t.Errorf("Symptom(%s %s %s) = %v, want %v", kind, name, dir, got, want)
		}
	}
	f(signal.MetricAnomaly, "up", "down", true)
	f(signal.MetricAnomaly, "up", "up", false)
	f(signal.MetricAnomaly, "probe_success", "down", true)
	f(signal.MetricAnomaly, "probe_success", "up", false)
	f(signal.MetricAnomaly, "probe_latency_ms", "up", true)
	f(signal.MetricAnomaly, "probe_latency_ms", "down", false)
	f(signal.LogErrorBurst, "t1", "", true)
	f(signal.Change, "deploy", "", false)
}

func TestWatchReload(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		// Make sure the change shows in the fingerprint even on coarse clocks.
		fi, _ := os.Stat(p)
		os.Chtimes(p, fi.ModTime(), fi.ModTime().Add(time.Duration(len(src))*time.Millisecond+time.Hour))
	}
	names := func(m *Manager) string {
		var out []string
		for _, rb := range m.Runbooks() {
			out = append(out, rb.Name+"@"+filepath.Base(rb.File))
		}
		return strings.Join(out, ",")
	}
	fx := newFixture(t, fast(), parse(t, actRunbook))
	write("a.yaml", "name: alpha\nwhen: true\nactions:\n  - name: s\n    exec: [ls]\n")
	if err := fx.m.LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	if got := names(fx.m); got != "alpha@a.yaml,act@t.yaml" {
		t.Errorf("runbooks %s", got)
	}
	// Unchanged: nothing is read.
	if changed, err := fx.m.reload(dir, false); changed || err != nil {
		t.Errorf("reload of an unchanged dir: %v, %v", changed, err)
	}
	// A bad new file is reported with file and line; alpha keeps running.
	write("b.yaml", "name: beta\nwhen: cause.kindd == 'x'\nactions:\n  - name: s\n    exec: [ls]\n")
	changed, err := fx.m.reload(dir, false)
	if !changed || err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "b.yaml")+":2: when: cause has no field kindd") {
		t.Errorf("bad file: %v, %v", changed, err)
	}
	if got := names(fx.m); got != "alpha@a.yaml,act@t.yaml" {
		t.Errorf("runbooks %s", got)
	}
	// alpha broken: its last good version stays in use; fixed: the new one.
	write("a.yaml", "name: alpha\nwhen: true\nmode: nope\nactions:\n  - name: s\n    exec: [ls]\n")
	if _, err := fx.m.reload(dir, false); err == nil || !strings.Contains(err.Error(), "a.yaml:3: mode") || !strings.Contains(err.Error(), "keeping its last good version") {
		t.Errorf("broken alpha: %v", err)
	}
	if got := names(fx.m); got != "alpha@a.yaml,act@t.yaml" {
		t.Errorf("runbooks %s", got)
	}
	write("b.yaml", "name: beta\nwhen: true\nmode: auto\nactions:\n  - name: s\n    exec: [ls]\n")
	os.Remove(filepath.Join(dir, "a.yaml"))
	if _, err := fx.m.reload(dir, false); err != nil {
		t.Error(err)
	}
	if got := names(fx.m); got != "beta@b.yaml,act@t.yaml" {
		t.Errorf("runbooks %s", got)
	}
	// Watch picks changes up on its own.
	cfg := fast()
	cfg.Reload = 10 * time.Millisecond
	fx2 := newFixture(t, cfg)
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fx2.m.Watch(wctx, dir); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for names(fx2.m) != "beta@b.yaml" && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	cancel()
	<-done
	if got := names(fx2.m); got != "beta@b.yaml" {
		t.Errorf("watched runbooks %s", got)
	}
}

func BenchmarkAcquire(b *testing.B) {
	p := NewPolicy(DefaultConfig(), func(string) int { return 100 })
	t0 := now
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		l, err := p.Acquire(fmt.Sprintf("svc/i-%d", i%50), t0.Add(time.Duration(i)*time.Hour))
		if err == nil {
			l.Release(t0.Add(time.Duration(i) * time.Hour))
		}
	}
}

func BenchmarkHandle(b *testing.B) {
	fx := newFixture(b, DefaultConfig(), runbook.Defaults()...)
	in := fx.incident("catalog", "errors")
	ctx := context.Background()
	b.Run("again", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fx.m.Handle(ctx, in, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("choose", func(b *testing.B) {
		rbs := fx.m.Runbooks()
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := fx.m.choose(rbs, in); !ok {
				b.Fatal("no runbook")
			}
		}
	})
}
