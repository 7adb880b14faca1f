package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/memlimit"
	"github.com/seerops/seer/internal/signal"
)

// healthz says the process serves; it is plain text for probes.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
	return nil
}

// readyz says whether the engine is ready, and if not, why.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.ready(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "not ready: "+err.Error()+"\n")
		return nil
	}
	_, _ = io.WriteString(w, "ok\n")
	return nil
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	p := parseParams(r, "status", "since", "limit")
	q := knowledge.IncidentQuery{Status: p.status(), Since: p.time("since", s.clock()), Limit: p.limit()}
	if err := p.err(); err != nil {
		return err
	}
	list, err := s.store.Incidents(r.Context(), q)
	if err != nil {
		return fmt.Errorf("listing incidents: %w", err)
	}
	for i := range list {
		list[i] = tidy(list[i])
	}
	return reply(w, http.StatusOK, struct {
		Incidents []signal.Incident `json:"incidents"`
	}{nonNil(list)})
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	p := parseParams(r)
	id, idErr := parseID(r.PathValue("id"))
	if idErr != nil {
		return idErr
	}
	if err := p.err(); err != nil {
		return err
	}
	ctx := r.Context()
	in, err := s.store.Incident(ctx, id)
	if errors.Is(err, knowledge.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, reason: "not_found",
			msg: fmt.Sprintf("incident %d not found; list incidents with GET /api/v1/incidents", id)}
	}
	if err != nil {
		return fmt.Errorf("reading incident %d: %w", id, err)
	}
	var obs []signal.Observation
	if len(in.ObservationIDs) > 0 { // no IDs would mean no filter at all
		obs, err = s.store.Observations(ctx, knowledge.ObservationQuery{IDs: in.ObservationIDs, Limit: len(in.ObservationIDs)})
		if err != nil {
			return fmt.Errorf("reading the observations of incident %d: %w", id, err)
		}
	}
	ex, err := s.store.Executions(ctx, id)
	if err != nil {
		return fmt.Errorf("reading the executions of incident %d: %w", id, err)
	}
	return reply(w, http.StatusOK, struct {
		Incident     signal.Incident      `json:"incident"`
		Observations []signal.Observation `json:"observations"`
		Executions   []signal.Execution   `json:"executions"`
	}{tidy(in), nonNil(obs), nonNil(ex)})
}

func (s *Server) listObservations(w http.ResponseWriter, r *http.Request) error {
	p := parseParams(r, "entity", "since", "until", "kind", "limit")
	q := knowledge.ObservationQuery{
		Entity: p.str("entity"),
		Kinds:  p.kinds(),
		Since:  p.time("since", s.clock()),
		Until:  p.time("until", s.clock()),
		Limit:  p.limit(),
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		p.add(badRequest("bad_time", "until (%s) must be after since (%s)", q.Until.Format(time.RFC3339Nano), q.Since.Format(time.RFC3339Nano)))
	}
	if err := p.err(); err != nil {
		return err
	}
	list, err := s.store.Observations(r.Context(), q)
	if err != nil {
		return fmt.Errorf("listing observations: %w", err)
	}
	return reply(w, http.StatusOK, struct {
		Observations []signal.Observation `json:"observations"`
	}{nonNil(list)})
}

func (s *Server) services(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	t := s.topology()
	t.Services, t.Edges = nonNil(t.Services), nonNil(t.Edges)
	return reply(w, http.StatusOK, t)
}

func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	events, err := decodeEvents(body, s.now().UTC())
	if err != nil {
		return err
	}
	for i, e := range events {
		if err := s.events(r.Context(), e); err != nil {
			if errors.Is(err, errUnconfigured) {
				return err
			}
			if errors.Is(err, memlimit.ErrFull) {
				return &apiError{status: http.StatusTooManyRequests, reason: "memory", header: map[string]string{"Retry-After": "1"},
					msg: fmt.Sprintf("%v (accepted %d of %d, in order; retry the rest)", err, i, len(events))}
			}
			s.log.Error("handing an event to the pipeline", "entity", e.Entity, "kind", e.Kind, "accepted", i, "of", len(events), "err", err)
			return &apiError{status: http.StatusServiceUnavailable, reason: "unavailable",
				msg: fmt.Sprintf("the engine could not take the events (accepted %d of %d, in order); retry the rest later", i, len(events))}
		}
	}
	return reply(w, http.StatusAccepted, struct {
		Accepted int            `json:"accepted"`
		Events   []signal.Event `json:"events"`
	}{len(events), events})
}

// tidy gives an incident's lists as [] rather than null, so that clients
// need not tell the two apart.
func tidy(in signal.Incident) signal.Incident {
	in.Entities, in.ObservationIDs, in.Causes = nonNil(in.Entities), nonNil(in.ObservationIDs), nonNil(in.Causes)
	return in
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
