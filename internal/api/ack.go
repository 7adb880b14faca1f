package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/knowledge"
)

// The labels an acknowledgement records on an incident. They are an
// operator's, so they outlive inference's later updates of the incident.
const (
	LabelAckBy    = "ack.by"
	LabelAckAt    = "ack.at"
	LabelAssignee = "assignee"
)

// maxAssignee bounds an assignee's name.
const maxAssignee = 128

// Acknowledge answers POST /api/v1/incidents/{id}/acknowledge: the caller
// (by their token's name) has seen the incident, and optionally who works on
// it: {"assignee": "NAME"}. It answers the incident as stored.
func (f *Feedback) Acknowledge(w http.ResponseWriter, r *http.Request) error {
	if f == nil || f.Store == nil {
		return errUnconfigured
	}
	if err := parseParams(r).err(); err != nil {
		return err
	}
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var b struct {
		Assignee string `json:"assignee"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			return badRequest("bad_json", `the body is not {"assignee": "NAME"}: %v`, err)
		}
	}
	b.Assignee = strings.TrimSpace(b.Assignee)
	if len(b.Assignee) > maxAssignee || strings.IndexFunc(b.Assignee, unicode.IsControl) >= 0 {
		return badRequest("bad_assignee", "assignee must be at most %d characters with no control characters", maxAssignee)
	}
	in, err := f.Store.Incident(r.Context(), id)
	if errors.Is(err, knowledge.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, reason: "not_found", msg: "no such incident"}
	}
	if err != nil {
		return err
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	if in.Labels == nil {
		in.Labels = map[string]string{}
	}
	in.Labels[LabelAckBy] = auth.FromContext(r.Context()).Name
	in.Labels[LabelAckAt] = now().UTC().Format(time.RFC3339)
	if b.Assignee != "" {
		in.Labels[LabelAssignee] = b.Assignee
	}
	if err := f.Store.PutIncident(r.Context(), &in); err != nil {
		return err
	}
	return reply(w, http.StatusOK, tidy(in))
}
