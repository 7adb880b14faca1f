package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestInvestigations(t *testing.T) {
	var gotAt time.Time
	var gotEntity string
	s := New(Deps{Investigate: func(at time.Time, entity string) []signal.Cause {
		gotAt, gotEntity = at, entity
		return []signal.Cause{{Entity: "db", Kind: "latency", Score: 0.9, Evidence: []string{"db slowed"}}}
	}}, nil)
	post := func(body, ct string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/investigations", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	w := post(`{"at": "2026-12-07T10:00:00Z", "entity": "checkout"}`, "application/json")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var inv Investigation
	if err := json.Unmarshal(w.Body.Bytes(), &inv); err != nil || len(inv.Causes) != 1 || inv.Causes[0].Entity != "db" {
		t.Fatalf("answer %s (%v)", w.Body, err)
	}
	if gotEntity != "checkout" || !gotAt.Equal(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("investigated %s at %v", gotEntity, gotAt)
	}
	// A time ago is by the engine's clock (the data's time in a replay).
	clock := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s = New(Deps{Clock: func() time.Time { return clock }, Investigate: func(at time.Time, entity string) []signal.Cause {
		gotAt = at
		return nil
	}}, nil)
	for body, want := range map[string]time.Time{
		`{"at": "10m"}`:        clock.Add(-10 * time.Minute),
		`{"at": "-2h"}`:        clock.Add(-2 * time.Hour),
		`{}`:                   clock,
		`{"at": 1700000000}`:   time.Unix(1700000000, 0).UTC(),
		`{"at": "1700000000"}`: time.Unix(1700000000, 0).UTC(),
	} {
		if w := post(body, "application/json"); w.Code != http.StatusOK || !gotAt.Equal(want) {
			t.Errorf("%s: %d, investigated at %v, want %v", body, w.Code, gotAt, want)
		}
	}
	for _, c := range []struct{ body, ct string }{
		{`{"at": "yesterday"}`, "application/json"},
		{`{"when": 1}`, "application/json"},
		{`{"at": 1}`, "application/x-www-form-urlencoded"},
	} {
		if w := post(c.body, c.ct); w.Code/100 != 4 {
			t.Errorf("%s (%s): status %d, want 4xx", c.body, c.ct, w.Code)
		}
	}
}
