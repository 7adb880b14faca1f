package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// GET /api/v1/observations/{id}/logs: a log finding's template, examples
// and counts per window from the log stage, with what the finding stored
// when the stage keeps nothing; other findings are refused.
func TestObservationLogs(t *testing.T) {
	store := &fakeStore{obs: []signal.Observation{
		{ID: 5, Time: t0, Start: t0, Entity: "cart", Kind: signal.LogBurst, Name: "42", Expected: 1.5,
			Evidence: map[string]string{"template": "GET <*> 500", "example": "GET /cart 500", "count": "14"}},
		{ID: 6, Time: t0, Start: t0, Entity: "web", Kind: signal.LogRare, Name: "43",
			Evidence: map[string]string{"template": "disk <*> full", "example": "disk sda full"}},
		{ID: 7, Time: t0, Start: t0, Entity: "web", Kind: signal.MetricAnomaly, Name: "cpu"},
	}}
	var asked []string
	s := New(Deps{Store: store, Logs: func(entity string, id uint64) (LogTemplate, bool) {
		asked = append(asked, entity)
		if entity != "cart" || id != 42 {
			return LogTemplate{}, false
		}
		return LogTemplate{Template: "GET <*> 500", WindowSeconds: 30, Examples: []string{"GET /cart 500", "GET /pay 500"},
			Windows: []LogWindow{{Start: t0.Add(-30 * time.Second), Count: 1}, {Start: t0, Count: 14}}}, true
	}}, nil)
	get := func(target string) (int, map[string]any) {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}
	code, b := get("/api/v1/observations/5/logs")
	if code != http.StatusOK || b["kept"] != true || b["template"] != "GET <*> 500" || b["window_seconds"] != 30.0 || b["expected"] != 1.5 {
		t.Fatalf("burst: %d %v", code, b)
	}
	if ws := b["windows"].([]any); len(ws) != 2 || ws[1].(map[string]any)["count"] != 14.0 {
		t.Errorf("windows %v", b["windows"])
	}
	if ex := b["examples"].([]any); len(ex) != 2 || ex[0] != "GET /cart 500" || ex[1] != "GET /pay 500" {
		t.Errorf("examples %v (the stored one first, no repeats)", ex)
	}
	code, b = get("/api/v1/observations/6/logs")
	if code != http.StatusOK || b["kept"] != false || b["template"] != "disk <*> full" || len(b["windows"].([]any)) != 0 || len(b["examples"].([]any)) != 1 {
		t.Errorf("a template the stage forgot: %d %v", code, b)
	}
	if code, b = get("/api/v1/observations/7/logs"); code != http.StatusBadRequest {
		t.Errorf("a metric finding: %d %v", code, b)
	}
	if code, _ = get("/api/v1/observations/99/logs"); code != http.StatusNotFound {
		t.Errorf("no such finding: %d", code)
	}
	if len(asked) != 2 {
		t.Errorf("the stage was asked for %v", asked)
	}
}
