package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// FeedbackStore is what the feedback routes read and write.
type FeedbackStore interface {
	Incident(ctx context.Context, id int64) (signal.Incident, error)
	PutIncident(ctx context.Context, in *signal.Incident) error
	PutRule(ctx context.Context, r *signal.Rule) error
}

// Learner is inference as feedback teaches it.
type Learner interface {
	Learn(f infer.Feedback, in signal.Incident) []signal.Rule
}

// Feedback serves operators' verdicts on diagnoses and the assistant view
// of an incident.
type Feedback struct {
	Store FeedbackStore
	Learn Learner
	Now   func() time.Time
}

// feedbackBody is POST /api/v1/incidents/{id}/feedback.
type feedbackBody struct {
	Confirm string            `json:"confirm"`
	Reject  []string          `json:"reject"`
	Labels  map[string]string `json:"labels"`
	By      string            `json:"by"`
}

// Post records a verdict: {"confirm": ENTITY, "reject": [ENTITY...],
// "labels": {...}, "by": NAME}; it answers the incident as stored.
func (f *Feedback) Post(w http.ResponseWriter, r *http.Request) error {
	if f == nil || f.Store == nil {
		return errUnconfigured
	}
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var b feedbackBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return badRequest("bad_json", `the body is not {"confirm": "ENTITY", "reject": ["ENTITY"], "labels": {"k": "v"}, "by": "NAME"}: %v`, err)
	}
	if b.By == "" {
		b.By = r.Header.Get("X-Seer-User")
	}
	if len(b.By) > maxName {
		return badRequest("bad_by", "by must be a name of at most %d characters", maxName)
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	fb := infer.Feedback{IncidentID: id, Confirm: b.Confirm, Reject: b.Reject, Labels: b.Labels, By: b.By, At: now()}
	if err := fb.Validate(); err != nil {
		return badRequest("bad_feedback", "%v", err)
	}
	in, err := f.Store.Incident(r.Context(), id)
	if errors.Is(err, knowledge.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, reason: "not_found", msg: "no such incident"}
	}
	if err != nil {
		return err
	}
	fb.Record(&in)
	if err := f.Store.PutIncident(r.Context(), &in); err != nil {
		return err
	}
	if f.Learn != nil {
		for _, rule := range f.Learn.Learn(fb, in) {
			if err := f.Store.PutRule(r.Context(), &rule); err != nil {
				return err
			}
		}
	}
	return reply(w, http.StatusOK, in)
}

// Explain answers the assistant view of an incident.
func (f *Feedback) Explain(w http.ResponseWriter, r *http.Request) error {
	if f == nil || f.Store == nil {
		return errUnconfigured
	}
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	in, err := f.Store.Incident(r.Context(), id)
	if errors.Is(err, knowledge.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, reason: "not_found", msg: "no such incident"}
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, infer.Explain(in))
}
