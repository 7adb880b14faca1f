package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// SeriesPoints returns the recent points of the metric series of entity
// named name (with any labels) between from and to, from inference's window.
type SeriesPoints func(entity, name string, from, to time.Time) []Series

// Series is one metric series' recent points.
type Series struct {
	Entity string            `json:"entity"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	// Points are [unix seconds, value] pairs in time order.
	Points [][2]float64 `json:"points"`
}

// plotMargin is how much of a series is shown either side of a finding:
// before its onset (the baseline) and after it was recognised.
const plotMargin = 30 * time.Minute

// observationSeries answers GET /api/v1/observations/{id}/series: the
// series a metric finding is about around its onset, with the expected band
// the detector compared it with.
func (s *Server) observationSeries(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest("bad_id", "observation id %q is not a positive whole number; take ids from GET /api/v1/observations", clip(r.PathValue("id")))
	}
	if s.series == nil {
		return errUnconfigured
	}
	obs, err := s.store.Observations(r.Context(), knowledge.ObservationQuery{IDs: []int64{id}, Limit: 1})
	if err != nil {
		return fmt.Errorf("reading observation %d: %w", id, err)
	}
	if len(obs) == 0 {
		return &apiError{status: http.StatusNotFound, reason: "not_found",
			msg: fmt.Sprintf("observation %d not found; list them with GET /api/v1/observations", id)}
	}
	o := obs[0]
	onset := o.Start
	if onset.IsZero() {
		onset = o.Time
	}
	from, to := onset.Add(-plotMargin), o.Time.Add(plotMargin)
	list := s.series(o.Entity, o.Name, from, to)
	return reply(w, http.StatusOK, struct {
		Observation signal.Observation `json:"observation"`
		Onset       time.Time          `json:"onset"`
		From        time.Time          `json:"from"`
		To          time.Time          `json:"to"`
		Expected    float64            `json:"expected"`
		Low         float64            `json:"low"`
		High        float64            `json:"high"`
		Series      []Series           `json:"series"`
	}{o, onset, from, to, o.Expected, o.Low, o.High, nonNil(list)})
}

// whoami answers GET /api/v1/whoami: who the request's token (or its
// absence) is and what it may do, so that a client shows only the actions
// it is allowed, and the engine's time to measure ages by. A token that is
// not known is a 401.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	id, err := s.auth.Check(r.Header.Get("Authorization"), auth.None)
	if err != nil {
		return refusal(err, auth.Read)
	}
	can := func(p auth.Permission) bool { return s.auth == nil || id.Role.Allows(p) }
	return reply(w, http.StatusOK, struct {
		Name    string    `json:"name"`
		Role    string    `json:"role,omitempty"`
		Auth    bool      `json:"auth"`
		Read    bool      `json:"read"`
		Operate bool      `json:"operate"`
		Now     time.Time `json:"now"`
	}{id.Name, string(id.Role), s.auth != nil, can(auth.Read), can(auth.Operate), s.clock().UTC()})
}

// static serves the web UI's files.
func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	if s.ui == nil {
		return &apiError{status: http.StatusNotFound, reason: "no_route", msg: "the web UI is not built into this process; the API is under /api/v1"}
	}
	s.ui.ServeHTTP(w, r)
	return nil
}
