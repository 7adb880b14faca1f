package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/silence"
)

// maxSilenceFor bounds a silence's length: a silence is for a maintenance
// or a known problem, not a way to switch monitoring off for good.
const maxSilenceFor = 30 * 24 * time.Hour

// listSilences serves GET /api/v1/silences.
func (s *Server) listSilences(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	if s.silences == nil {
		return errUnconfigured
	}
	return reply(w, http.StatusOK, struct {
		Silences []silence.Silence `json:"silences"`
	}{s.silences.List(s.clock())})
}

// addSilence serves POST /api/v1/silences {"matchers", "for" | "ends_at",
// "starts_at"?, "comment"?}: the silence is saved before the 201, under the
// caller's token name.
func (s *Server) addSilence(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if s.silences == nil {
		return errUnconfigured
	}
	var b struct {
		Matchers string    `json:"matchers"`
		For      string    `json:"for"`
		StartsAt time.Time `json:"starts_at"`
		EndsAt   time.Time `json:"ends_at"`
		Comment  string    `json:"comment"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return badRequest("bad_json", `the body is not a silence (%v); send {"matchers":"{service=\"cart\"}","for":"2h","comment":"..."}`, err)
	}
	now := s.clock()
	start := b.StartsAt
	if start.IsZero() {
		start = now
	}
	switch {
	case b.For != "" && !b.EndsAt.IsZero():
		return badRequest("bad_silence", `give "for" or "ends_at", not both`)
	case b.For != "":
		d, err := time.ParseDuration(b.For)
		if err != nil || d <= 0 {
			return badRequest("bad_silence", `"for" is %q; give a positive duration such as "2h"`, b.For)
		}
		b.EndsAt = start.Add(d)
	case b.EndsAt.IsZero():
		return badRequest("bad_silence", `a silence needs an end: "for" (e.g. "2h") or "ends_at"`)
	}
	if b.EndsAt.Sub(start) > maxSilenceFor {
		return badRequest("bad_silence", "a silence lasts at most %s; this one %s", maxSilenceFor, b.EndsAt.Sub(start).Round(time.Minute))
	}
	sl, err := s.silences.Add(silence.Silence{Matchers: b.Matchers, StartsAt: b.StartsAt, EndsAt: b.EndsAt, Comment: b.Comment},
		auth.FromContext(r.Context()).Name, now)
	if err != nil {
		return badRequest("bad_silence", "%v", err)
	}
	return reply(w, http.StatusCreated, struct {
		Silence silence.Silence `json:"silence"`
	}{sl})
}

// expireSilence serves DELETE /api/v1/silences/{id}: the silence ends now
// and stays listed as ended, with who ended it.
func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	if s.silences == nil {
		return errUnconfigured
	}
	id := r.PathValue("id")
	sl, err := s.silences.Expire(id, auth.FromContext(r.Context()).Name, s.clock())
	if errors.Is(err, silence.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, reason: "not_found", msg: "silence " + clip(id) + " not found; list them with GET /api/v1/silences"}
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, struct {
		Silence silence.Silence `json:"silence"`
	}{sl})
}
