package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Investigator ranks the causes of trouble around a time, as an alert or an
// operator asks (infer.Inferrer.Investigate).
type Investigator func(at time.Time, entity string) []signal.Cause

// investigationIn is the body of POST /api/v1/investigations: at is RFC 3339,
// unix seconds or a time ago ("10m", "-10m", "2h": by the engine's clock,
// which runs on the data's time), now when absent; entity, when given, keeps the causes to
// that entity's service and what it depends on.
type investigationIn struct {
	At     json.RawMessage `json:"at"`
	Entity string          `json:"entity"`
}

// Investigation is the answer: the causes ranked, with their evidence.
type Investigation struct {
	At     time.Time      `json:"at"`
	Entity string         `json:"entity,omitempty"`
	Causes []signal.Cause `json:"causes"`
}

// investigate serves POST /api/v1/investigations.
func (s *Server) investigate(w http.ResponseWriter, r *http.Request) error {
	if s.investigator == nil {
		return errUnconfigured
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var in investigationIn
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return badRequest("bad_json", "the investigation is not a JSON object {\"at\": TIME, \"entity\": NAME}: %v", err)
	}
	at, err := s.investigationTime(in.At)
	if err != nil {
		return badRequest("bad_time", "at: %v", err)
	}
	if in.Entity != "" {
		if err := signal.CheckEntity(in.Entity); err != nil {
			return badRequest("bad_entity", "entity: %v", err)
		}
	}
	causes := s.investigator(at, in.Entity)
	if causes == nil {
		causes = []signal.Cause{}
	}
	s.log.Info("investigation", "at", at, "entity", in.Entity, "causes", len(causes))
	return reply(w, http.StatusOK, Investigation{At: at, Entity: in.Entity, Causes: causes})
}

// investigationTime reads an investigation's at: a time ago by the engine's
// clock, or what an event's time may be.
func (s *Server) investigationTime(raw json.RawMessage) (time.Time, error) {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		if d, ok := relative(strings.TrimPrefix(str, "-")); ok {
			return s.clock().UTC().Add(-d), nil
		}
	}
	return eventTime(raw, s.clock().UTC())
}
