package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// TraceExemplar reads a kept example trace by id (GET
// /api/v1/observations/{id}/trace); false when seer keeps it no longer.
type TraceExemplar func(traceID string) ([]TraceSpan, bool)

// TraceSpan is one span of an example trace.
type TraceSpan struct {
	ID        string    `json:"id"`
	Parent    string    `json:"parent,omitempty"`
	Service   string    `json:"service"`
	Operation string    `json:"operation"`
	Peer      string    `json:"peer,omitempty"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Client    bool      `json:"client,omitempty"`
	Error     bool      `json:"error,omitempty"`
	ErrorType string    `json:"error_type,omitempty"`
	// Marked is the span the finding is about: the finding's slowest span
	// of its service and operation, or its failing span, or the client
	// span of a call that did not get through.
	Marked bool `json:"marked,omitempty"`
}

// observationTrace answers GET /api/v1/observations/{id}/trace for a trace
// finding: the example trace it names (evidence trace_id), its spans in
// start order with the one the finding is about marked.
func (s *Server) observationTrace(w http.ResponseWriter, r *http.Request) error {
	if err := parseParams(r).err(); err != nil {
		return err
	}
	o, err := s.observation(r)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(o.Kind), "trace.") {
		return badRequest("not_trace", "observation %d is a %s finding, not a trace one", o.ID, o.Kind)
	}
	id := o.Evidence["trace_id"]
	spans, kept := []TraceSpan(nil), false
	if id != "" && s.traces != nil {
		spans, kept = s.traces(id)
	}
	mark(spans, o)
	return reply(w, http.StatusOK, struct {
		Observation signal.Observation `json:"observation"`
		TraceID     string             `json:"trace_id"`
		Kept        bool               `json:"kept"`
		Spans       []TraceSpan        `json:"spans"`
	}{o, id, kept, nonNil(spans)})
}

// mark marks the span of spans the finding o is about.
func mark(spans []TraceSpan, o signal.Observation) {
	best, bestDur := -1, time.Duration(-1)
	consider := func(i int) {
		if d := spans[i].End.Sub(spans[i].Start); d > bestDur {
			best, bestDur = i, d
		}
	}
	for i, sp := range spans {
		switch o.Kind {
		case signal.TraceUnreachable: // entity is the callee, name the caller
			if sp.Service == o.Name && sp.Client && (sp.Peer == "" || sp.Peer == o.Entity) && (sp.Error || best < 0) {
				consider(i)
			}
		case signal.TraceErrors:
			if sp.Service == o.Entity && sp.Error && (o.Name == "" || sp.Operation == o.Name) {
				consider(i)
			}
		default:
			if sp.Service == o.Entity && (sp.Operation == o.Name || o.Kind != signal.TraceLatency) {
				consider(i)
			}
		}
	}
	if best >= 0 {
		spans[best].Marked = true
	}
}
