package ui_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/seerops/seer/internal/api"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/ui"
)

// bigStore holds 100 incidents; the first has 10 000 observations.
type bigStore struct {
	incidents []signal.Incident
	obs       []signal.Observation
}

func newBigStore() *bigStore {
	t0 := time.Now().UTC().Add(-time.Hour)
	s := &bigStore{}
	for i := range 10000 {
		at := t0.Add(time.Duration(i) * 300 * time.Millisecond)
		s.obs = append(s.obs, signal.Observation{ID: int64(i + 1), Time: at, Start: at, Entity: fmt.Sprintf("svc-%d", i%40),
			Kind: signal.TraceLatency, Name: "GET /x", Score: 0.5, Summary: "p99 up"})
	}
	for i := range 100 {
		in := signal.Incident{ID: int64(100 - i), Status: signal.IncidentOpen, Title: fmt.Sprintf("svc-%d: latency", i),
			Onset: t0, Opened: t0, Updated: t0, Entities: []string{fmt.Sprintf("svc-%d", i%40), "gateway"},
			Causes: []signal.Cause{{Entity: fmt.Sprintf("svc-%d", i%40), Kind: "latency", Score: 0.7, Evidence: []string{"began first"}}}}
		if in.ID == 1 {
			for _, o := range s.obs {
				in.ObservationIDs = append(in.ObservationIDs, o.ID)
			}
		}
		s.incidents = append(s.incidents, in)
	}
	return s
}

func (s *bigStore) Incidents(context.Context, knowledge.IncidentQuery) ([]signal.Incident, error) {
	return s.incidents, nil
}

func (s *bigStore) Incident(_ context.Context, id int64) (signal.Incident, error) {
	for _, in := range s.incidents {
		if in.ID == id {
			return in, nil
		}
	}
	return signal.Incident{}, knowledge.ErrNotFound
}

func (s *bigStore) Observations(_ context.Context, q knowledge.ObservationQuery) ([]signal.Observation, error) {
	if len(q.IDs) > 0 {
		return s.obs[:len(q.IDs)], nil
	}
	return s.obs[:min(len(s.obs), max(q.Limit, 1000))], nil
}

func (s *bigStore) Executions(context.Context, int64) ([]signal.Execution, error) { return nil, nil }

func (s *bigStore) Events(context.Context, knowledge.EventQuery) ([]signal.Event, error) {
	return nil, nil
}

// TestBrowserLoad checks that the pages stay quick with 100 incidents and an
// incident of 10 000 observations (and a service's page among them): each renders within seconds, and the
// page answers at once afterwards (no long task left running).
func TestBrowserLoad(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(api.New(api.Deps{Store: newBigStore(), UI: ui.Handler()}, nil))
	defer srv.Close()
	f := func(what, url, ready string) {
		t.Helper()
		start := time.Now()
		step(t, ctx, what, chromedp.Navigate(url), waitFor(ready))
		took := time.Since(start)
		t.Logf("%s: %v", what, took)
		if took > 10*time.Second {
			t.Errorf("%s took %v, want under 10s", what, took)
		}
		start = time.Now()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`true`)); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: the page took %v to answer after rendering", what, took)
		}
	}
	f("100 incidents", srv.URL+"/", `document.querySelectorAll("tr.incident").length === 100`)
	f("an incident of 10 000 observations", srv.URL+"/#/incidents/1",
		`!!document.querySelector("li.cause.top") && document.querySelectorAll("ol.timeline li").length === 300`)
	f("explore", srv.URL+"/#/explore", `!!document.querySelector('table[aria-label="observations"]')`)
	// A service in 3 of the 100 incidents, among 1 000 findings.
	f("a service", srv.URL+"/#/services/svc-1",
		`document.querySelectorAll("article.service-page tr.incident").length === 3 && document.querySelectorAll("article.service-page tr.finding").length === 100`)
}
