package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/remedy"
	"github.com/seerops/seer/internal/signal"
)

// Remedy is the runbook manager as the approval routes use it.
type Remedy interface {
	Approve(ctx context.Context, id int64, by string) ([]signal.Execution, error)
	Reject(ctx context.Context, id int64, by, reason string) ([]signal.Execution, error)
}

// decision is the optional body of an approval or a rejection. By is
// accepted for old clients and ignored: the decision is recorded under the
// caller's token name, never a name the caller writes.
type decision struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// readDecision reads the optional JSON body. The Content-Type must be JSON
// even when the body is empty: a browser cannot send that cross-site
// without asking first.
func readDecision(w http.ResponseWriter, r *http.Request) (decision, error) {
	var d decision
	body, err := readBody(w, r)
	if err != nil {
		return d, err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return d, badRequest("bad_json", `the body is not {"reason": "TEXT"}: %v`, err)
		}
	}
	if len(d.Reason) > 1024 {
		return d, badRequest("bad_reason", "reason is over 1024 characters")
	}
	return d, nil
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request) error { return s.decide(w, r, true) }

func (s *Server) reject(w http.ResponseWriter, r *http.Request) error { return s.decide(w, r, false) }

// decide approves or rejects the run waiting on an incident.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, approve bool) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if s.remedy == nil {
		return errUnconfigured
	}
	d, err := readDecision(w, r)
	if err != nil {
		return err
	}
	by := auth.FromContext(r.Context()).Name
	var recs []signal.Execution
	if approve {
		recs, err = s.remedy.Approve(r.Context(), id, by)
	} else {
		recs, err = s.remedy.Reject(r.Context(), id, by, d.Reason)
	}
	var ref *remedy.Refusal
	switch {
	case errors.Is(err, knowledge.ErrNotFound):
		return &apiError{status: http.StatusNotFound, reason: "not_found",
			msg: fmt.Sprintf("incident %d not found; list incidents with GET /api/v1/incidents", id)}
	case errors.Is(err, remedy.ErrNotPending):
		return &apiError{status: http.StatusConflict, reason: "not_pending",
			msg: err.Error() + "; see its runs with GET /api/v1/executions?incident=" + strconv.FormatInt(id, 10)}
	case errors.As(err, &ref):
		return &apiError{status: http.StatusConflict, reason: "refused",
			msg: "the policy refused the run for now (it still waits for approval): " + ref.Msg}
	case err != nil:
		return fmt.Errorf("deciding on incident %d: %w", id, err)
	}
	status := "rejected"
	if approve {
		status = "approved"
	}
	return reply(w, http.StatusOK, struct {
		Incident   int64              `json:"incident"`
		Decision   string             `json:"decision"`
		By         string             `json:"by"`
		Executions []signal.Execution `json:"executions"`
	}{id, status, by, nonNil(recs)})
}

// listExecutions lists the audit trail of an incident's runbook runs.
func (s *Server) listExecutions(w http.ResponseWriter, r *http.Request) error {
	p := parseParams(r, "incident")
	raw := p.str("incident")
	if raw == "" {
		p.add(badRequest("missing_param", "give the incident: GET /api/v1/executions?incident=ID"))
	}
	if err := p.err(); err != nil {
		return err
	}
	id, err := parseID(raw)
	if err != nil {
		return err
	}
	list, err := s.store.Executions(r.Context(), id)
	if err != nil {
		return fmt.Errorf("listing the runs of incident %d: %w", id, err)
	}
	return reply(w, http.StatusOK, struct {
		Executions []signal.Execution `json:"executions"`
	}{nonNil(list)})
}

// auditLog serves GET /api/v1/audit: the runbook execution records of
// every incident, newest recorded first, each with who or what started it
// (trigger: "policy", "operator:alice") and its status and output; since
// and until bound when a record started (one never started, such as a
// plan waiting for approval, is then left out). Runs happen in the real
// world: their times, and a time ago (since=1h), are by the wall clock, not
// the engine's (which runs on the data's time in a replay or the demo).
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	p := parseParams(r, "since", "until", "limit")
	q := knowledge.ExecutionQuery{Since: p.time("since", s.now()), Until: p.time("until", s.now()), Limit: p.limit()}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		p.add(badRequest("bad_time", "until (%s) must be after since (%s)", q.Until.Format(time.RFC3339Nano), q.Since.Format(time.RFC3339Nano)))
	}
	if err := p.err(); err != nil {
		return err
	}
	if s.audit == nil {
		return errUnconfigured
	}
	list, err := s.audit(r.Context(), q)
	if err != nil {
		return fmt.Errorf("reading the audit log: %w", err)
	}
	return reply(w, http.StatusOK, struct {
		Executions []signal.Execution `json:"executions"`
	}{nonNil(list)})
}
