package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/engine"
	"github.com/seerops/seer/internal/eval/simrun"
	"github.com/seerops/seer/internal/infer"
)

// TestFeedbackSurvivesUpdates confirms a cause while the incident is still
// being updated by inference: the confirmation must outlive the updates.
func TestFeedbackSurvivesUpdates(t *testing.T) {
	var e *engine.Engine
	var inject time.Time
	posted := false
	var store func() (map[string]string, error)
	o := simrun.Options{
		Seed: 1, Fault: "latency", After: 2 * time.Minute, DataDir: t.TempDir(),
		OnEngine: func(en *engine.Engine) {
			e = en
			store = func() (map[string]string, error) {
				in, err := en.Store().Incident(context.Background(), 1)
				return in.Labels, err
			}
		},
		Pace: func(_ context.Context, now time.Time) error {
			if inject.IsZero() {
				inject = now
			}
			if posted || now.Sub(inject) < 20*time.Second {
				return nil
			}
			req := httptest.NewRequest("POST", "/api/v1/incidents/1/feedback", strings.NewReader(`{"confirm":"catalog"}`))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			e.Handler().ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("feedback at %s: %d %s", now.Sub(inject), w.Code, w.Body)
			}
			posted = true
			return nil
		},
		Linger: func(context.Context, *engine.Engine) error {
			labels, err := store()
			if err != nil {
				return err
			}
			if labels[infer.LabelConfirmed] != "catalog" {
				t.Errorf("after the updates the incident's labels are %v, want %s=catalog", labels, infer.LabelConfirmed)
			}
			return nil
		},
	}
	res, err := simrun.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !posted || res.Incident == nil || res.Incident.ID != 1 {
		t.Fatalf("no feedback posted (%v) or no incident 1 (%+v)", posted, res.Incident)
	}
	if !res.Incident.Updated.After(inject.Add(20 * time.Second)) {
		t.Logf("the incident was not updated after the feedback (last %s after the fault); the test proves less", res.Incident.Updated.Sub(inject))
	}
}
