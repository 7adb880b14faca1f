package remedy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/remedy/runbook"
	"github.com/seerops/seer/internal/signal"
)

// audit is an Auditor that keeps what it is given and fails on demand.
type audit struct {
	mu   sync.Mutex
	recs []signal.Execution
	fail error
}

func (a *audit) AddExecution(_ context.Context, e *signal.Execution) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	e.ID = int64(len(a.recs) + 1)
	a.recs = append(a.recs, *e)
	return nil
}

func (a *audit) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.recs)
}

var _ Auditor = (*audit)(nil)

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func incident(id int64, causes ...signal.Cause) *signal.Incident {
	return &signal.Incident{ID: id, Status: signal.IncidentOpen, Title: "trouble", Causes: causes}
}

func TestPlan(t *testing.T) {
	a := &audit{}
	p := NewPlanner(runbook.Defaults(), a, nil)
	ctx := context.Background()
	in := incident(42, signal.Cause{Entity: "catalog", Kind: "unavailable", Score: 0.9})
	nom, err := p.Plan(ctx, in, now)
	if err != nil {
		t.Fatal(err)
	}
	want := &signal.Nomination{Name: "restart-unavailable-service", Mode: "dry-run", Target: "catalog", Actions: []string{
		"collect: logs 50, metrics 15m of catalog",
		"exec: systemctl restart catalog",
	}}
	if nom.Name != want.Name || nom.Mode != want.Mode || nom.Target != want.Target || !slices.Equal(nom.Actions, want.Actions) {
		t.Errorf("nomination:\n got %+v\nwant %+v", nom, want)
	}
	var got []string
	for _, e := range a.recs {
		got = append(got, fmt.Sprintf("%d %s/%s %s %s %s %s %s %v", e.IncidentID, e.Runbook, e.Step, e.Target, e.Mode, e.Trigger, e.Status, e.Input, e.Started.Equal(now)))
	}
	wantRecs := []string{
		"42 restart-unavailable-service/recent-errors catalog dry-run policy planned collect: logs 50, metrics 15m of catalog true",
		"42 restart-unavailable-service/restart catalog dry-run policy planned exec: systemctl restart catalog true",
	}
	if !slices.Equal(got, wantRecs) {
		t.Errorf("records:\n got %q\nwant %q", got, wantRecs)
	}

	// Again, with the same cause: nothing new; the nomination is the same.
	in.Causes[0].Score = 0.95
	in.Causes = append(in.Causes, signal.Cause{Entity: "cart", Kind: "latency"})
	nom2, err := p.Plan(ctx, in, now.Add(time.Minute))
	if err != nil || nom2 == nil || nom2.Name != nom.Name || a.len() != 2 {
		t.Errorf("re-plan: %+v, %v, %d records, want the same nomination and 2 records", nom2, err, a.len())
	}
	// The top cause changes: the new plan is recorded.
	in.Causes[0], in.Causes[1] = in.Causes[1], in.Causes[0]
	nom3, err := p.Plan(ctx, in, now.Add(2*time.Minute))
	if err != nil || nom3.Name != "relieve-slow-service" || nom3.Target != "cart" || a.len() != 2+len(nom3.Actions) {
		t.Errorf("new cause: %+v, %v, %d records", nom3, err, a.len())
	}
	// Another incident with the first cause is recorded too.
	n := a.len()
	if _, err := p.Plan(ctx, incident(43, signal.Cause{Entity: "catalog", Kind: "unavailable"}), now); err != nil || a.len() != n+2 {
		t.Errorf("second incident: %v, %d records, want %d", err, a.len(), n+2)
	}
	// No runbook fits an incident without causes.
	n = a.len()
	if nom, err := p.Plan(ctx, incident(44), now); nom != nil || err != nil || a.len() != n {
		t.Errorf("no fit: %+v, %v, %d records", nom, err, a.len())
	}
	if _, err := p.Plan(ctx, nil, now); err == nil {
		t.Error("Plan(nil): no error")
	}
}

func parse(t testing.TB, src string) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

func TestPlanApproveAndSecrets(t *testing.T) {
	t.Setenv("SEER_PLANNER_TOKEN", "s3cret")
	rb := parse(t, `name: page
when: "true"
mode: approve
actions:
  - name: notify
    http: {method: POST, url: "https://hooks.example/x", headers: {Authorization: "Bearer {{ env \"SEER_PLANNER_TOKEN\" }}"}, body: "{{ .Target }} is down"}
`)
	a := &audit{}
	p := NewPlanner([]*runbook.Runbook{rb}, a, nil)
	nom, err := p.Plan(context.Background(), incident(1, signal.Cause{Entity: "db", Kind: "unavailable"}), now)
	if err != nil {
		t.Fatal(err)
	}
	if want := `http: POST https://hooks.example/x -H 'Authorization: Bearer ***' -d 'db is down'`; nom.Mode != "approve" || len(nom.Actions) != 1 || nom.Actions[0] != want {
		t.Errorf("nomination %+v, want approve and %s", nom, want)
	}
	if len(a.recs) != 1 || a.recs[0].Status != StatusPendingApproval || strings.Contains(a.recs[0].Input, "s3cret") {
		t.Errorf("records %+v, want one pending-approval without the secret", a.recs)
	}
	// Without the secret there is no plan, and an error says why.
	t.Setenv("SEER_PLANNER_TOKEN", "")
	if err := os.Unsetenv("SEER_PLANNER_TOKEN"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Plan(context.Background(), incident(2, signal.Cause{Entity: "db"}), now); err == nil || !strings.Contains(err.Error(), "SEER_PLANNER_TOKEN") {
		t.Errorf("Plan without the secret: %v", err)
	}
}

func TestPlanAuditFailure(t *testing.T) {
	a := &audit{fail: errors.New("disk full")}
	p := NewPlanner(runbook.Defaults(), a, nil)
	in := incident(7, signal.Cause{Entity: "catalog", Kind: "change"})
	if _, err := p.Plan(context.Background(), in, now); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the auditor's", err)
	}
	// The failed plan is not remembered: the next one records.
	a.fail = nil
	if _, err := p.Plan(context.Background(), in, now); err != nil || a.len() != 2 {
		t.Errorf("retry: %v, %d records, want 2", err, a.len())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Plan(ctx, incident(8, signal.Cause{Entity: "catalog", Kind: "change"}), now); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// Without an auditor planning still nominates.
	if nom, err := NewPlanner(runbook.Defaults(), nil, nil).Plan(context.Background(), in, now); err != nil || nom.Name != "roll-back-change" {
		t.Errorf("no auditor: %+v, %v", nom, err)
	}
}

func TestPlanMemoryBounded(t *testing.T) {
	a := &audit{}
	p := NewPlanner(runbook.Defaults(), a, nil)
	p.limit = 2
	plan := func(id int64) {
		t.Helper()
		if _, err := p.Plan(context.Background(), incident(id, signal.Cause{Entity: "x", Kind: "disk"}), now); err != nil {
			t.Fatal(err)
		}
	}
	plan(1)
	plan(2)
	plan(1) // remembered: nothing new
	if a.len() != 6 {
		t.Fatalf("%d records, want 6", a.len())
	}
	plan(3) // evicts 1
	plan(1)
	if a.len() != 12 || len(p.planned) != 2 || len(p.order) != 2 {
		t.Errorf("%d records, %d remembered, want 12 and 2", a.len(), len(p.planned))
	}
	// Incident 0 is not stored yet, so it is never remembered.
	plan(0)
	plan(0)
	if a.len() != 18 {
		t.Errorf("%d records, want 18", a.len())
	}
}

func TestPlanConcurrent(t *testing.T) {
	a := &audit{}
	p := NewPlanner(runbook.Defaults(), a, nil)
	var wg sync.WaitGroup
	for i := range 8 {

		wg.Go(func() {
			for j := range 20 {
				in := incident(int64((i+j)%4+1), signal.Cause{Entity: "svc", Kind: "errors"})
				if _, err := p.Plan(context.Background(), in, now); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// However the goroutines interleave, each incident is recorded once.
	if n := a.len(); n != 4*2 {
		t.Errorf("%d records, want 8", n)
	}
}

func BenchmarkPlan(b *testing.B) {
	p := NewPlanner(runbook.Defaults(), &audit{}, nil)
	in := incident(1, signal.Cause{Entity: "catalog", Kind: "errors", Score: 0.8})
	ctx := context.Background()
	b.Run("replan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Plan(ctx, in, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh", func(b *testing.B) {
		p := NewPlanner(runbook.Defaults(), nil, nil)
		b.ReportAllocs()
		var id int64
		for b.Loop() {
			id++
			in.ID = id
			if _, err := p.Plan(ctx, in, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
