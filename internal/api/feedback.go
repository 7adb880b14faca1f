package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/auth"
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

// feedbackBody is POST /api/v1/incidents/{id}/feedback. By is accepted for
// old clients and ignored: the verdict is recorded under the caller's token
// name.
type feedbackBody struct {
	Confirm string            `json:"confirm"`
	Reject  []string          `json:"reject"`
	Labels  map[string]string `json:"labels"`
	By      string            `json:"by"`
}

// Post records a verdict: {"confirm": ENTITY, "reject": [ENTITY...],
// "labels": {...}}; it answers the incident as stored.
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
		return badRequest("bad_json", `the body is not {"confirm": "ENTITY", "reject": ["ENTITY"], "labels": {"k": "v"}}: %v`, err)
	}
	b.By = auth.FromContext(r.Context()).Name
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
	if err := onlyIncidentEntities(in, fb); err != nil {
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

// onlyIncidentEntities refuses a verdict naming an entity the incident does
// not know (neither one of its entities nor a ranked cause): feedback
// teaches the ranking, and must not teach it about anything else.
func onlyIncidentEntities(in signal.Incident, fb infer.Feedback) error {
	known := make(map[string]bool, len(in.Entities)+len(in.Causes))
	for _, e := range in.Entities {
		known[e] = true
	}
	for _, c := range in.Causes {
		known[c.Entity] = true
	}
	var bad []string
	for _, e := range append([]string{fb.Confirm}, fb.Reject...) {
		if e != "" && !known[e] {
			bad = append(bad, strconv.Quote(clip(e)))
		}
	}
	if len(bad) > 0 {
		return badRequest("unknown_entity", "incident %d does not involve %s; name one of its entities or causes (GET /api/v1/incidents/%d)",
			in.ID, strings.Join(bad, ", "), in.ID)
	}
	return nil
}
