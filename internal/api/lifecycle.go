package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

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
		if _, err := readDecision(w, r); err != nil {
			return err
		}
		if s.lifecycle == nil {
			return errUnconfigured
		}
		by := auth.FromContext(r.Context()).Name
		in, err := s.lifecycle(r.Context(), id, action, by)
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
		}{tidy(in), action, by})
	}
}

// listEvents serves GET /api/v1/events: the stored changes and alarms
// (alert history), newest first; since and until take RFC 3339, unix
// seconds or a time ago (since=1h).
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	p := parseParams(r, "entity", "since", "until", "limit")
	q := knowledge.EventQuery{Entity: p.str("entity"), Since: p.time("since"), Until: p.time("until"), Limit: p.limit()}
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
