package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/signal"
)

// FuzzDecisionBodies feeds arbitrary bodies to feedback, approve and
// reject: a 2xx or a 4xx, never a 5xx or a panic; feedback that is taken
// names only the incident's entities.
func FuzzDecisionBodies(f *testing.F) {
	for _, seed := range []string{
		`{"confirm":"db"}`, `{"reject":["checkout"],"labels":{"team":"a"}}`, `{"confirm":"elsewhere"}`, `{}`, ``, `null`,
		`{"reason":"not now"}`, `{"reason":1}`, `{"by":"mallory"}`, `[`, `{"confirm":"db"} {}`, `{"labels":{"a":null}}`,
	} {
		for _, path := range []uint8{0, 1, 2} {
			f.Add(path, seed)
		}
	}
	fb := &fakeFeedback{}
	s := New(Deps{Remedy: &fakeRemedy{}, Feedback: &Feedback{Store: fb},
		Store: newRig(f).store, Events: func(context.Context, signal.Event) error { return nil }}, nil)
	routes := []string{"/api/v1/incidents/7/feedback", "/api/v1/incidents/7/approve", "/api/v1/incidents/7/reject"}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		fb.in = signal.Incident{ID: 7, Entities: []string{"checkout"}, Causes: []signal.Cause{{Entity: "db", Kind: "latency", Score: 0.9}}}
		req := httptest.NewRequest("POST", routes[int(route)%len(routes)], strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q on %s: %s", w.Code, body, req.URL.Path, w.Body)
		}
		if w.Code < 300 && route%3 == 0 {
			for _, e := range strings.Split(fb.in.Labels[infer.LabelConfirmed]+","+fb.in.Labels[infer.LabelRejected], ",") {
				if e != "" && e != "db" && e != "checkout" {
					t.Fatalf("feedback %q named %q, which is not the incident's", body, e)
				}
			}
		}
	})
}
