package trace

import (
	"strconv"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

// The candidates are a ring: the oldest goes first; a trace a finding
// names is pinned and outlives the candidates that push it out; a long
// trace is cut at ExemplarSpans.
func TestExemplarRings(t *testing.T) {
	s := NewStage(Config{}, nil)
	keep := func(id string, spans int) {
		tr := &trace{id: id}
		for i := range spans {
			tr.spans = append(tr.spans, cspan{id: strconv.Itoa(i), service: "svc", op: "op", start: int64(spans - i), end: int64(spans + 1)})
		}
		s.exKeep = true
		s.keepExemplar(tr)
	}
	keep("named", 3)
	s.pinExemplars([]signal.Observation{{Evidence: map[string]string{"trace_id": "named"}}, {Evidence: map[string]string{"trace_id": "unknown"}}})
	for i := range ExemplarCandidates {
		keep("t"+strconv.Itoa(i), 1)
	}
	if _, ok := s.Exemplar("t0"); !ok {
		t.Error("the oldest candidate that fits is gone")
	}
	keep("one more", 1)
	if _, ok := s.Exemplar("t0"); ok {
		t.Error("the oldest candidate outlived the ring")
	}
	ex, ok := s.Exemplar("named")
	if !ok || len(ex.Spans) != 3 || ex.Spans[0].ID != "2" || ex.Truncated {
		t.Errorf("the pinned trace: %v %+v", ok, ex)
	}
	if _, ok := s.Exemplar("unknown"); ok {
		t.Error("a trace never kept is there")
	}
	keep("long", ExemplarSpans+5)
	if ex, _ := s.Exemplar("long"); len(ex.Spans) != ExemplarSpans || !ex.Truncated {
		t.Errorf("a long trace kept %d spans, truncated %v", len(ex.Spans), ex.Truncated)
	}
	s.exKeep = false
	s.keepExemplar(&trace{id: "unremarkable"})
	if _, ok := s.Exemplar("unremarkable"); ok {
		t.Error("a trace that became no example was kept")
	}
}
