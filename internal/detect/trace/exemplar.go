package trace

import (
	"cmp"
	"slices"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// The stage keeps example traces for showing a finding (a waterfall with
// the slow or failing span marked): a trace is copied when it becomes a
// series' example (its slowest trace of the window, or its first failing
// one, a deviation's or a known failure's), into a ring of candidates; a
// finding that names a candidate as its trace_id pins it into a second
// ring. Both are bounded: ExemplarCandidates and ExemplarsPinned traces of
// at most ExemplarSpans spans each.
const (
	ExemplarCandidates = 1024
	ExemplarsPinned    = 128
	ExemplarSpans      = 200
)

// Exemplar is one kept trace.
type Exemplar struct {
	TraceID string
	// Spans are in start order; Truncated says spans past ExemplarSpans
	// were left out.
	Spans     []ExemplarSpan
	Truncated bool
}

// ExemplarSpan is one span of a kept trace.
type ExemplarSpan struct {
	ID, Parent         string
	Service, Operation string
	// Peer is the callee a client span names, where it names one.
	Peer       string
	Start, End time.Time
	Client     bool
	Error      bool
	ErrorType  string
}

// exemplarRing keeps the last max exemplars put, by trace id.
type exemplarRing struct {
	max   int
	order []string
	next  int
	byID  map[string]*Exemplar
}

func newExemplarRing(max int) *exemplarRing {
	return &exemplarRing{max: max, byID: make(map[string]*Exemplar)}
}

func (r *exemplarRing) put(e *Exemplar) {
	if _, ok := r.byID[e.TraceID]; ok {
		r.byID[e.TraceID] = e
		return
	}
	if len(r.order) < r.max {
		r.order = append(r.order, e.TraceID)
	} else {
		delete(r.byID, r.order[r.next])
		r.order[r.next] = e.TraceID
		r.next = (r.next + 1) % r.max
	}
	r.byID[e.TraceID] = e
}

// exemplarOf copies t's spans.
func exemplarOf(t *trace) *Exemplar {
	e := &Exemplar{TraceID: t.id, Spans: make([]ExemplarSpan, 0, min(len(t.spans), ExemplarSpans))}
	order := make([]int, len(t.spans))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(t.spans[a].start, t.spans[b].start) })
	for _, i := range order {
		if len(e.Spans) == ExemplarSpans {
			e.Truncated = true
			break
		}
		sp := &t.spans[i]
		e.Spans = append(e.Spans, ExemplarSpan{ID: sp.id, Parent: sp.parent, Service: sp.service, Operation: sp.op,
			Peer: sp.peer, Start: time.Unix(0, sp.start).UTC(), End: time.Unix(0, sp.end).UTC(),
			Client: sp.client, Error: sp.err, ErrorType: sp.errT})
	}
	return e
}

// keepExemplar copies t into the candidates when it became an example of
// something in its analysis. The caller holds mu.
func (s *Stage) keepExemplar(t *trace) {
	if !s.exKeep {
		return
	}
	s.exKeep = false
	s.exCand.put(exemplarOf(t))
}

// pinExemplars moves the traces the observations name from the candidates
// to the pinned ring. The caller holds mu.
func (s *Stage) pinExemplars(obs []signal.Observation) {
	for _, o := range obs {
		if e := s.exCand.byID[o.Evidence["trace_id"]]; e != nil {
			s.exPinned.put(e)
		}
	}
}

// Exemplar returns the kept trace with the id, or false when the stage
// keeps it no longer (or never did).
func (s *Stage) Exemplar(traceID string) (Exemplar, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.exPinned.byID[traceID]
	if e == nil {
		e = s.exCand.byID[traceID]
	}
	if e == nil {
		return Exemplar{}, false
	}
	return Exemplar{TraceID: e.TraceID, Spans: slices.Clone(e.Spans), Truncated: e.Truncated}, true
}
