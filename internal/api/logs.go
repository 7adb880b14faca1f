package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// LogHistory reads what the log stage keeps of a template of an entity
// (GET /api/v1/observations/{id}/logs); false when it keeps nothing of it.
type LogHistory func(entity string, template uint64) (LogTemplate, bool)

// LogTemplate is a log template's recent counts and example lines.
type LogTemplate struct {
	Template string `json:"template"`
	// WindowSeconds is the length of a counting window.
	WindowSeconds float64 `json:"window_seconds"`
	// Windows are the recent windows, oldest first; the last is the
	// current one.
	Windows []LogWindow `json:"windows"`
	// Examples are recent lines of the template.
	Examples []string `json:"examples"`
}

// LogWindow is how many lines of a template came in the window from Start.
type LogWindow struct {
	Start time.Time `json:"start"`
	Count int       `json:"count"`
}

// observation reads observation {id} of the path.
func (s *Server) observation(r *http.Request) (signal.Observation, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return signal.Observation{}, badRequest("bad_id", "observation id %q is not a positive whole number; take ids from GET /api/v1/observations", clip(r.PathValue("id")))
	}
	obs, err := s.store.Observations(r.Context(), knowledge.ObservationQuery{IDs: []int64{id}, Limit: 1})
	if err != nil {
		return signal.Observation{}, fmt.Errorf("reading observation %d: %w", id, err)
	}
	if len(obs) == 0 {
		return signal.Observation{}, &apiError{status: http.StatusNotFound, reason: "not_found",
			msg: fmt.Sprintf("observation %d not found; list them with GET /api/v1/observations", id)}
	}
	return obs[0], nil
}

// observationLogs answers GET /api/v1/observations/{id}/logs for a log
// finding: its template with example lines and its counts per window
// around the onset, as far as the log stage still keeps them (Kept says
// whether it does; the template, an example and the count stored with the
// finding are there either way).
func (s *Server) observationLogs(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	o, err := s.observation(r)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(o.Kind), "log.") {
		return badRequest("not_log", "observation %d is a %s finding, not a log one", o.ID, o.Kind)
	}
	onset := o.Start
	if onset.IsZero() {
		onset = o.Time
	}
	t := LogTemplate{Template: o.Evidence["template"], Windows: []LogWindow{}, Examples: []string{}}
	if ex := o.Evidence["example"]; ex != "" {
		t.Examples = append(t.Examples, ex)
	}
	kept := false
	if id, err := strconv.ParseUint(o.Name, 10, 64); err == nil && s.logs != nil {
		if h, ok := s.logs(o.Entity, id); ok {
			kept = true
			t.WindowSeconds, t.Windows = h.WindowSeconds, nonNil(h.Windows)
			if t.Template == "" {
				t.Template = h.Template
			}
			for _, ex := range h.Examples {
				if !slices.Contains(t.Examples, ex) {
					t.Examples = append(t.Examples, ex)
				}
			}
		}
	}
	return reply(w, http.StatusOK, struct {
		Observation signal.Observation `json:"observation"`
		Onset       time.Time          `json:"onset"`
		Expected    float64            `json:"expected"`
		Kept        bool               `json:"kept"`
		LogTemplate
	}{o, onset, o.Expected, kept, t})
}
