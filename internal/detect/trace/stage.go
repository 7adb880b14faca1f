package trace

import (
	"cmp"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Reasons a span is rejected, repaired or shed, as counted in Stats.
const (
	RejectNoTraceID     = "no_trace_id"
	RejectNoSpanID      = "no_span_id"
	RejectNoService     = "no_service"
	RejectFieldTooLong  = "field_too_long"
	RejectNegativeDur   = "negative_duration"
	RejectTooLong       = "duration_too_long"
	RejectBadTime       = "bad_time"
	RejectFuture        = "future"
	RejectStale         = "stale"
	RepairSelfParent    = "self_parent"
	RepairCycle         = "parent_cycle"
	RepairAttrs         = "attrs_truncated"
	RepairNoOperation   = "no_operation"
	RepairPeerTooLong   = "peer_too_long"
	ShedMaxTraces       = "max_traces"
	ShedMaxSpansInTrace = "max_spans_per_trace"
	ShedMaxBuffered     = "max_buffered_spans"
)

// Times outside these bounds do not fit in int64 nanoseconds.
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Stats are the stage's counters since it was made.
type Stats struct {
	SpansAccepted int64 `json:"spans_accepted"`
	// Rejected, Repaired and Shed count spans by reason.
	Rejected map[string]int64 `json:"rejected,omitempty"`
	Repaired map[string]int64 `json:"repaired,omitempty"`
	Shed     map[string]int64 `json:"shed,omitempty"`
	// DuplicateSpans were dropped at analysis because their id was taken.
	DuplicateSpans   int64 `json:"duplicate_spans"`
	TracesCompleted  int64 `json:"traces_completed"`
	TracesIncomplete int64 `json:"traces_incomplete"`
	// LateSamples were analysed after their window had been judged and
	// were counted in the current one instead.
	LateSamples int64 `json:"late_samples"`
	// LateSeriesSpans were analysed after their step of the derived series
	// had been returned (Series) and are left out of it.
	LateSeriesSpans int64 `json:"late_series_spans"`
	SeriesShed      int64 `json:"series_shed"`
	// StructureSkipped counts executions with more distinct calls than
	// MaxSteps, whose structure was not checked.
	StructureSkipped int64 `json:"structure_skipped"`
	EdgesShed        int64 `json:"edges_shed"`
	Observations     int64 `json:"observations"`

	ActiveTraces  int `json:"active_traces"`
	BufferedSpans int `json:"buffered_spans"`
	Series        int `json:"series"`
	Edges         int `json:"edges"`
	// Fingerprints and Steps count the learned call structures.
	Fingerprints  int `json:"fingerprints"`
	Steps         int `json:"steps"`
	KnownFailures int `json:"known_failures"`
}

// cspan is the part of a span the analysis needs; attributes other than
// peer.service and error.type are not kept, so a trace's memory is bounded by
// its span count.
type cspan struct {
	id, parent  string
	service, op string
	peer, errT  string
	start, end  int64 // unix ns
	client, err bool
	kind        uint8 // kindUnset, kindServer (server or consumer) or kindOther
}

// Span kinds as the derived series need them.
const (
	kindUnset uint8 = iota
	kindServer
	kindOther
)

// trace is one buffered trace.
type trace struct {
	id     string
	spans  []cspan
	oldest int64 // earliest span start
	newest int64 // latest span end
	// checked is the span count at the last failed rootedness check, so a
	// waiting trace is re-examined only when it grows.
	checked   int
	truncated bool
}

// Stage buffers spans into traces, analyses completed traces against learned
// per-operation baselines and keeps the service dependency graph. It is safe
// for concurrent use.
type Stage struct {
	mu  sync.Mutex
	cfg Config
	log *slog.Logger

	traces   map[string]*trace
	buffered int

	// example traces of findings (exemplar.go); exKeep is set while a
	// trace is analysed when it becomes an example of something
	exCand, exPinned *exemplarRing
	exKeep           bool
	lastNow          int64 // latest Tick, 0 before the first
	newest           int64 // newest time seen, span end or Tick

	series   map[skey]*series
	edges    map[ekey]*edge
	services map[string]int64  // service → last seen
	callerOf map[string]string // service → its latest caller

	st     Stats
	warned map[string]bool

	// localisation: per service and over all traces, by window
	loc                  map[string]*svcLoc
	gring                slots
	gTraces, gE2E        float64
	gWindows, locLearned int64
	known                []*known
	declared             map[ekey]bool
	declaredSvcs         map[string]bool

	// derived series: aggregates per step (by index), and the first step
	// not yet returned by Series
	steps   map[int64]*seriesStep
	stepsTo int64

	// scratch, reused across traces under mu
	idx   map[string]int32
	links []link
	kids  []int32
	flags []uint8
	cover []int64
	aged  int64 // when series, edges and services were last aged
	mark  []uint8
	ser   []*series
	cp    []int64
	lo    []int32
	hi    []int32
	byEnd []link
	stack []cpItem
	agg   []stepUse
	facts []string
	xkid  []int32 // per span, its first child in another service, or -1
	done  []*trace
	out   []signal.Observation
}

// NewStage makes a stage. An invalid cfg is reported through logger and
// replaced by the defaults, because a detector that runs on defaults is more
// use than one that does not run.
func NewStage(cfg Config, logger *slog.Logger) *Stage {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "detect.trace")
	if err := cfg.Validate(); err != nil {
		logger.Error("invalid trace config, using defaults", "err", err)
		cfg = DefaultConfig()
	}
	s := &Stage{
		loc:      make(map[string]*svcLoc),
		cfg:      cfg.withDefaults(),
		log:      logger,
		traces:   make(map[string]*trace),
		exCand:   newExemplarRing(ExemplarCandidates),
		exPinned: newExemplarRing(ExemplarsPinned),
		series:   make(map[skey]*series),
		edges:    make(map[ekey]*edge),
		services: make(map[string]int64),
		callerOf: make(map[string]string),
		warned:   make(map[string]bool),
		idx:      make(map[string]int32),
		steps:    make(map[int64]*seriesStep),
		stepsTo:  math.MinInt64,
		st: Stats{
			Rejected: make(map[string]int64),
			Repaired: make(map[string]int64),
			Shed:     make(map[string]int64),
		},
	}
	for i := range s.gring {
		s.gring[i].w = -1
	}
	return s
}

// Process validates spans and buffers them per trace. Analysis happens in
// Tick, once traces are complete, so Process returns no observations today;
// the result is there so that every detector stage has the same shape.
func (s *Stage) Process(spans []signal.Span) []signal.Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range spans {
		s.add(&spans[i])
	}
	return nil
}

// add validates one span and buffers it.
func (s *Stage) add(sp *signal.Span) {
	c := &s.cfg
	if reason := s.check(sp); reason != "" {
		s.st.Rejected[reason]++
		return
	}
	start := sp.Start.UnixNano()
	end := start + int64(sp.Duration)
	if s.lastNow != 0 {
		if end > s.lastNow+int64(c.MaxFuture) {
			s.st.Rejected[RejectFuture]++
			return
		}
		if end < s.lastNow-int64(c.MaxLag) {
			s.st.Rejected[RejectStale]++
			return
		}
	}
	t := s.traces[sp.TraceID]
	if t == nil {
		if len(s.traces) >= c.MaxTraces {
			s.shed(ShedMaxTraces)
			return
		}
	} else if len(t.spans) >= c.MaxSpansPerTrace {
		t.truncated = true
		s.shed(ShedMaxSpansInTrace)
		return
	}
	if s.buffered >= c.MaxBufferedSpans {
		s.shed(ShedMaxBuffered)
		return
	}

	cs := cspan{
		id: sp.SpanID, parent: sp.ParentID,
		service: sp.Service, op: sp.Operation,
		start: start, end: end,
		client: sp.Kind == signal.SpanClient,
		err:    sp.Status == signal.StatusError,
	}
	switch sp.Kind {
	case "":
	case signal.SpanServer, signal.SpanConsumer:
		cs.kind = kindServer
	default:
		cs.kind = kindOther
	}
	if cs.parent == cs.id {
		cs.parent = ""
		s.st.Repaired[RepairSelfParent]++
	}
	if cs.op == "" {
		cs.op = "unknown"
		s.st.Repaired[RepairNoOperation]++
	}
	if len(sp.Attrs) > c.MaxAttrs {
		s.st.Repaired[RepairAttrs]++
	}
	if len(sp.Attrs) > 0 {
		cs.peer = sp.Attrs[signal.AttrPeerService]
		cs.errT = sp.Attrs[signal.AttrErrorType]
		if len(cs.peer) > c.MaxFieldLen {
			cs.peer = ""
			s.st.Repaired[RepairPeerTooLong]++
		}
		if len(cs.errT) > c.MaxFieldLen {
			cs.errT = cs.errT[:c.MaxFieldLen]
		}
	}

	if t == nil {
		t = &trace{id: sp.TraceID, oldest: start, newest: end, spans: make([]cspan, 0, 8)}
		s.traces[sp.TraceID] = t
	}
	t.spans = append(t.spans, cs)
	t.oldest = min(t.oldest, start)
	t.newest = max(t.newest, end)
	s.buffered++
	s.newest = max(s.newest, end)
	s.st.SpansAccepted++
}

// check returns why a span cannot be accepted, or "".
func (s *Stage) check(sp *signal.Span) string {
	c := &s.cfg
	switch {
	case sp.TraceID == "":
		return RejectNoTraceID
	case sp.SpanID == "":
		return RejectNoSpanID
	case sp.Service == "":
		return RejectNoService
	case len(sp.TraceID) > c.MaxFieldLen || len(sp.SpanID) > c.MaxFieldLen || len(sp.ParentID) > c.MaxFieldLen ||
		len(sp.Service) > c.MaxFieldLen || len(sp.Operation) > c.MaxFieldLen:
		return RejectFieldTooLong
	case sp.Duration < 0:
		return RejectNegativeDur
	case sp.Duration > c.MaxDuration:
		return RejectTooLong
	case sp.Start.Before(minTime) || sp.Start.After(maxTime):
		return RejectBadTime
	}
	return ""
}

// shed counts a span dropped for a bound and warns the first time, because a
// stage that sheds is undersized and an operator should hear of it once.
func (s *Stage) shed(reason string) {
	s.st.Shed[reason]++
	if !s.warned[reason] {
		s.warned[reason] = true
		s.log.Warn("shedding spans", "reason", reason,
			"max_traces", s.cfg.MaxTraces, "max_spans_per_trace", s.cfg.MaxSpansPerTrace,
			"max_buffered_spans", s.cfg.MaxBufferedSpans)
	}
}

// Tick completes the traces that have ended (or timed out) by now, analyses
// them, judges the baseline windows that have closed and returns the
// observations raised, ordered by time, kind, entity and name.
func (s *Stage) Tick(now time.Time) []signal.Observation {
	if now.Before(minTime) || now.After(maxTime) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := now.UnixNano()
	if n < s.lastNow {
		n = s.lastNow // time never runs backwards for the stage
	}
	s.lastNow = n
	s.newest = max(s.newest, n)
	s.out = s.out[:0]

	grace, timeout := int64(s.cfg.Grace), int64(s.cfg.CompletionTimeout)
	s.done = s.done[:0]
	for _, t := range s.traces {
		if n-t.oldest > timeout || (n-t.newest > grace && len(t.spans) != t.checked) {
			s.done = append(s.done, t)
		}
	}
	slices.SortFunc(s.done, func(a, b *trace) int {
		return cmp.Or(cmp.Compare(a.newest, b.newest), cmp.Compare(a.id, b.id))
	})
	for _, t := range s.done {
		timedOut := n-t.oldest > timeout
		if !s.analyse(t, timedOut, n) {
			t.checked = len(t.spans)
			continue
		}
		delete(s.traces, t.id)
		s.buffered -= len(t.spans)
	}
	clear(s.done)

	s.closeWindows(n)
	s.learnLoc(n)
	s.ageOut(n)

	// A step over its time bound whose own latency alarm is up is the
	// same news twice; the latency observation says it better.
	s.out = slices.DeleteFunc(s.out, func(o signal.Observation) bool {
		if o.Kind != signal.TraceStructure || o.Evidence["deviation"] != DevSlow {
			return false
		}
		sr := s.series[skey{kindOp, o.Entity, o.Name}]
		return sr != nil && sr.alerts[alertLatency].active
	})
	s.pinExemplars(s.out)
	if len(s.out) == 0 {
		return nil
	}
	out := slices.Clone(s.out)
	slices.SortFunc(out, func(a, b signal.Observation) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Name, b.Name))
	})
	s.st.Observations += int64(len(out))
	return out
}

// Stats returns a copy of the counters.
func (s *Stage) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Rejected = maps.Clone(s.st.Rejected)
	st.Repaired = maps.Clone(s.st.Repaired)
	st.Shed = maps.Clone(s.st.Shed)
	st.ActiveTraces = len(s.traces)
	st.BufferedSpans = s.buffered
	st.Series = len(s.series)
	st.Edges = len(s.edges)
	for _, sr := range s.series {
		if sr.fp != nil {
			st.Fingerprints++
			st.Steps += len(sr.fp.list)
		}
	}
	st.KnownFailures = len(s.known)
	return st
}
