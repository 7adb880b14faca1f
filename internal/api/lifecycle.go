package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// The lifecycle actions, as the routes name them.
const (
	ActionAck     = "ack"
	ActionResolve = "resolve"
	ActionReopen  = "reopen"
)

// act serves POST /api/v1/incidents/{id}/{action}: the action is recorded
// under the caller's token name.
func (s *Server) act(action string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := parseParams(r).err(); err != nil {
			return err
		}
		id, err := parseID(r.PathValue("id"))
		if err != nil {
			return err
		}
		op, err := readOperation(w, r, action)
		if err != nil {
			return err
		}
		if s.lifecycle == nil {
			return errUnconfigured
		}
		op.By = auth.FromContext(r.Context()).Name
		in, err := s.lifecycle(r.Context(), id, op)
		switch {
		case errors.Is(err, knowledge.ErrNotFound):
			return &apiError{status: http.StatusNotFound, reason: "not_found",
				msg: fmt.Sprintf("incident %d not found; list incidents with GET /api/v1/incidents", id)}
		case errors.Is(err, ErrTransition):
			return &apiError{status: http.StatusConflict, reason: "bad_transition", msg: err.Error()}
		case err != nil:
			return fmt.Errorf("%s incident %d: %w", action, id, err)
		}
		return reply(w, http.StatusOK, struct {
			Incident signal.Incident `json:"incident"`
			Action   string          `json:"action"`
			By       string          `json:"by"`
		}{tidy(in), action, op.By})
	}
}

// LabelAssignee is the incident label that names who works on it, set by an
// acknowledgement that says.
const LabelAssignee = "assignee"

// maxAssignee bounds an assignee's name.
const maxAssignee = 128

// readOperation reads a lifecycle action's optional JSON body: an
// acknowledgement may name an assignee ({"assignee": "NAME"}); the other
// actions take none. The Content-Type must be JSON even when the body is
// empty, as for approvals.
func readOperation(w http.ResponseWriter, r *http.Request, action string) (Operation, error) {
	op := Operation{Action: action}
	body, err := readBody(w, r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return op, err
	}
	var b struct {
		Assignee string `json:"assignee"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return op, badRequest("bad_json", `the body is not {"assignee": "NAME"}: %v`, err)
	}
	op.Assignee = strings.TrimSpace(b.Assignee)
	switch {
	case op.Assignee != "" && action != ActionAck:
		return op, badRequest("bad_assignee", "only an acknowledgement names an assignee")
	case len(op.Assignee) > maxAssignee || strings.IndexFunc(op.Assignee, unicode.IsControl) >= 0:
		return op, badRequest("bad_assignee", "assignee must be at most %d characters with no control characters", maxAssignee)
	}
	return op, nil
}

// listEvents serves GET /api/v1/events: the stored changes and alarms
// (alert history), newest first; since and until take RFC 3339, unix
// seconds or a time ago (since=1h).
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	p := parseParams(r, "entity", "since", "until", "limit")
	q := knowledge.EventQuery{Entity: p.str("entity"), Since: p.time("since", s.clock()), Until: p.time("until", s.clock()), Limit: p.limit()}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		p.add(badRequest("bad_time", "until (%s) must be after since (%s)", q.Until.Format(time.RFC3339Nano), q.Since.Format(time.RFC3339Nano)))
	}
	if err := p.err(); err != nil {
		return err
	}
	list, err := s.store.Events(r.Context(), q)
	if err != nil {
		return fmt.Errorf("listing events: %w", err)
	}
	return reply(w, http.StatusOK, struct {
		Events []signal.Event `json:"events"`
	}{nonNil(list)})
}
