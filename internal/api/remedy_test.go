package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/remedy"
	"github.com/seerops/seer/internal/signal"
)

// fakeRemedy approves incident 7 once, refuses 9 by policy, and knows no
// other.
type fakeRemedy struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeRemedy) decide(id int64, what string) ([]signal.Execution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, what)
	switch id {
	case 7:
		if len(f.calls) > 1 {
			return nil, fmt.Errorf("incident 7: %w", remedy.ErrNotPending)
		}
		return []signal.Execution{{ID: 1, IncidentID: 7, Step: "restart", Status: "pending-approval"}}, nil
	case 9:
		return nil, &remedy.Refusal{Reason: remedy.RefusedCooldown, Msg: "db is cooling down"}
	}
	return nil, fmt.Errorf("incident %d: %w", id, knowledge.ErrNotFound)
}

func (f *fakeRemedy) Approve(_ context.Context, id int64, by string) ([]signal.Execution, error) {
	return f.decide(id, "approve "+by)
}

func (f *fakeRemedy) Reject(_ context.Context, id int64, by, reason string) ([]signal.Execution, error) {
	return f.decide(id, "reject "+by+" "+reason)
}

func TestApproveReject(t *testing.T) {
	r := newRig(t)
	fr := &fakeRemedy{}
	r.s.remedy = fr
	f := func(method, target, body string, code int, want ...string) {
		t.Helper()
		w := r.do(method, target, body, "application/json")
		if w.Code != code {
			t.Errorf("%s %s: %d %s, want %d", method, target, w.Code, w.Body, code)
		}
		for _, s := range want {
			if !strings.Contains(w.Body.String(), s) {
				t.Errorf("%s %s: body %s lacks %q", method, target, w.Body, s)
			}
		}
	}
	// A name in the body is not who decided: without authentication the
	// decision is anonymous.
	f("POST", "/api/v1/incidents/7/approve", `{"by":"alice"}`, 200, `"decision":"approved"`, `"by":"anonymous"`, `"step":"restart"`)
	f("POST", "/api/v1/incidents/7/approve", "", 409, "nothing is waiting for approval", "executions?incident=7")
	f("POST", "/api/v1/incidents/9/reject", `{"reason":"sale"}`, 409, "cooling down")
	f("POST", "/api/v1/incidents/5/approve", "", 404, "incident 5 not found")
	f("POST", "/api/v1/incidents/x/approve", "", 400, "not a positive whole number")
	f("POST", "/api/v1/incidents/7/approve", `{"who":"x"}`, 400, "unknown field")
	f("POST", "/api/v1/incidents/7/reject", `{"reason":"`+strings.Repeat("a", 2000)+`"}`, 400, "over 1024")
	f("GET", "/api/v1/incidents/7/approve", "", 405)
	if got := strings.Join(fr.calls, ";"); got != "approve anonymous;approve anonymous;reject anonymous sale;approve anonymous" {
		t.Errorf("calls %q", got)
	}
	// A bodyless approval still needs the JSON content type.
	if w := r.do("POST", "/api/v1/incidents/7/approve", "", ""); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("approve without a content type: %d %s; want 415", w.Code, w.Body)
	}
	// Without a manager the routes answer 503.
	r.s.remedy = nil
	f("POST", "/api/v1/incidents/7/approve", "", 503, "not enabled")
}

func TestListExecutions(t *testing.T) {
	r := newRig(t)
	w := r.do("GET", "/api/v1/executions?incident=7", "", "")
	var got struct{ Executions []signal.Execution }
	decode(t, w, &got)
	if w.Code != 200 || len(got.Executions) != 1 || got.Executions[0].Runbook != "restart" {
		t.Errorf("%d %+v", w.Code, got)
	}
	w = r.do("GET", "/api/v1/executions?incident=8", "", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"executions":[]`) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	for _, q := range []string{"", "?incident=-1", "?incident=7&x=1"} {
		if w := r.do("GET", "/api/v1/executions"+q, "", ""); w.Code != 400 {
			t.Errorf("%s: %d %s, want 400", q, w.Code, w.Body)
		}
	}
}

func TestAuditLog(t *testing.T) {
	r := newRig(t)
	var asked []knowledge.ExecutionQuery
	r.s.now = func() time.Time { return t0.Add(time.Hour) }
	r.s.clock = func() time.Time { return t0.Add(48 * time.Hour) } // the data's time, which runs are not stamped by
	r.s.audit = func(_ context.Context, q knowledge.ExecutionQuery) ([]signal.Execution, error) {
		asked = append(asked, q)
		return []signal.Execution{{ID: 2, IncidentID: 7, Runbook: "restart", Step: "rollout", Trigger: "operator:alice", Status: "succeeded", Started: t0}}, nil
	}
	w := r.do("GET", "/api/v1/audit?since=1h&limit=50", "", "")
	var got struct{ Executions []signal.Execution }
	decode(t, w, &got)
	if w.Code != 200 || len(got.Executions) != 1 || got.Executions[0].Trigger != "operator:alice" {
		t.Errorf("%d %+v", w.Code, got)
	}
	// since=1h is an hour before the wall clock.
	if len(asked) != 1 || !asked[0].Since.Equal(t0) || asked[0].Limit != 50 || !asked[0].Until.IsZero() {
		t.Errorf("asked the store %+v", asked)
	}
	for _, q := range []string{"?incident=7", "?since=x", "?limit=-1", "?since=1h&until=2h"} {
		if w := r.do("GET", "/api/v1/audit"+q, "", ""); w.Code != 400 {
			t.Errorf("%s: %d %s, want 400", q, w.Code, w.Body)
		}
	}
	r.s.audit = nil
	if w := r.do("GET", "/api/v1/audit", "", ""); w.Code != 503 {
		t.Errorf("without an audit log: %d %s, want 503", w.Code, w.Body)
	}
}
