package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// TestSilenceKeepsObservationsOutOfIncidents: alarms on a silenced service
// are kept on record but open no incident, the same alarms elsewhere do,
// and the silence survives a restart.
func TestSilenceKeepsObservationsOutOfIncidents(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Bus.Sync = true
	e, err := New(ctx, cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	do := func(e *Engine, method, path, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.Handler().ServeHTTP(rec, req)
		return rec
	}
	if rec := do(e, "POST", "/api/v1/silences", `{"matchers":"{service=\"cart\"}","for":"2h","comment":"cart is being migrated"}`); rec.Code != http.StatusCreated {
		t.Fatalf("POST /api/v1/silences = %d %s", rec.Code, rec.Body)
	}
	if rec := do(e, "POST", "/api/v1/silences", `{"matchers":"{service=~\".*\"}","for":"2h"}`); rec.Code != http.StatusBadRequest {
		t.Errorf("a silence of everything = %d %s, want 400", rec.Code, rec.Body)
	}
	now := time.Now().UTC()
	var evs []signal.Event
	for i, svc := range []string{"cart", "cart", "payment", "payment"} {
		evs = append(evs, signal.Event{Time: now.Add(time.Duration(i) * time.Second), Entity: svc, Kind: signal.EventAlarm, Text: "HighErrorRate",
			Attrs: map[string]string{"alertname": "HighErrorRate", "severity": "critical"}})
	}
	if err := e.Ingest(ctx, &signal.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	if err := e.Tick(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ins, err := e.Store().Incidents(ctx, knowledge.IncidentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	payment := false
	for _, in := range ins {
		if slices.Contains(in.Entities, "cart") {
			t.Errorf("incident %d holds the silenced cart: %v", in.ID, in.Entities)
		}
		payment = payment || slices.Contains(in.Entities, "payment")
	}
	if !payment {
		t.Errorf("no incident for payment's alarms: %+v", ins)
	}
	if got := testutil.ToFloat64(e.m.silenced); got != 2 {
		t.Errorf("silenced observations = %g, want cart's 2", got)
	}
	if obs, _ := e.Store().Observations(ctx, knowledge.ObservationQuery{Entity: "cart"}); len(obs) != 2 {
		t.Errorf("cart's silenced observations on record: %d, want 2", len(obs))
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e2, err := New(ctx, cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	var list struct {
		Silences []struct {
			ID, Matchers, CreatedBy string
			EndsAt                  time.Time `json:"ends_at"`
		}
	}
	rec := do(e2, "GET", "/api/v1/silences", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Silences) != 1 || list.Silences[0].Matchers != `{service="cart"}` {
		t.Fatalf("after a restart GET /api/v1/silences = %d %s", rec.Code, rec.Body)
	}
	id := list.Silences[0].ID
	if rec := do(e2, "DELETE", "/api/v1/silences/"+id, ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"expired_by"`) {
		t.Errorf("DELETE /api/v1/silences/%s = %d %s", id, rec.Code, rec.Body)
	}
	if rec := do(e2, "DELETE", "/api/v1/silences/nope", ""); rec.Code != http.StatusNotFound {
		t.Errorf("DELETE of an unknown silence = %d", rec.Code)
	}
}

// TestAPILimits: the API routes take the receivers' per-client rate limit
// (here a burst of 2, refilled one request in 1,000 s, so that a slow run
// earns no token back): a client past it gets a 429 in JSON with
// Retry-After; the health checks are not limited.
func TestAPILimits(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.APILimits.RatePerSource, cfg.APILimits.Burst = 0.001, 2
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	codes := map[int]int{}
	var last *httptest.ResponseRecorder
	for range 5 {
		rec := httptest.NewRecorder()
		e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/incidents", nil))
		codes[rec.Code]++
		if rec.Code == http.StatusTooManyRequests {
			last = rec
		}
	}
	if codes[http.StatusOK] != 2 || codes[http.StatusTooManyRequests] != 3 {
		t.Fatalf("answers %v, want 2 × 200 then 429s", codes)
	}
	if last.Header().Get("Retry-After") == "" || !strings.Contains(last.Body.String(), `"reason":"rate_limited"`) {
		t.Errorf("429 without Retry-After or JSON reason: %v %s", last.Header(), last.Body)
	}
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz = %d past the API's limit", rec.Code)
	}
}
