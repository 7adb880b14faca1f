package api

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

func BenchmarkListIncidents(b *testing.B) {
	r := newRig(b)
	r.store.incidents = r.store.incidents[:0]
	for i := range 100 {
		r.store.incidents = append(r.store.incidents, signal.Incident{
			ID: int64(i + 1), Status: signal.IncidentOpen, Title: fmt.Sprintf("incident %d", i),
			Onset: t0, Opened: t0, Updated: t0, Entities: []string{"checkout", "db"},
			ObservationIDs: []int64{1, 2, 3, 4},
			Causes:         []signal.Cause{{Entity: "db", Kind: "latency", Score: 0.9, Evidence: []string{"db p99 850ms, expected 120-180ms"}}},
		})
	}
	req := httptest.NewRequest("GET", "/api/v1/incidents?status=open&since=1740830400&limit=100", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r.s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body)
		}
		r.store.incQ = r.store.incQ[:0]
	}
}

func BenchmarkPostEvents(b *testing.B) {
	r := newRig(b)
	const body = `[{"time":1740830400,"entity":"checkout","kind":"deploy","text":"v2","attrs":{"v":"2"}},{"entity":"db","kind":"config"}]`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		r.s.ServeHTTP(w, req)
		if w.Code != 202 {
			b.Fatal(w.Code, w.Body)
		}
		r.events = r.events[:0]
	}
}
