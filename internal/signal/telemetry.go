package signal

import (
	"sort"
	"strings"
	"time"
	"unsafe"
)

// Sample is one point of one metric series.
type Sample struct {
	Time   time.Time         `json:"time"`
	Entity string            `json:"entity"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
}

// SeriesKey identifies the series a sample belongs to: its entity, its name
// and its labels in sorted order.
func (s Sample) SeriesKey() string {
	if len(s.Labels) == 0 {
		return s.Entity + "|" + s.Name
	}
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(s.Entity)
	b.WriteByte('|')
	b.WriteString(s.Name)
	for _, k := range keys {
		b.WriteByte('|')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(s.Labels[k])
	}
	return b.String()
}

// Severity is a log record's level, normalised.
type Severity string

// The log levels seer distinguishes.
const (
	SeverityDebug Severity = "debug"
	SeverityInfo  Severity = "info"
	SeverityWarn  Severity = "warn"
	SeverityError Severity = "error"
	SeverityFatal Severity = "fatal"
)

// ParseSeverity maps the usual spellings of a level ("WARNING", "Err", "E",
// "CRITICAL") to a Severity; an unknown one is info.
func ParseSeverity(s string) Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace", "debug", "dbg", "d", "fine", "finer", "finest", "verbose":
		return SeverityDebug
	case "warn", "warning", "w":
		return SeverityWarn
	case "error", "err", "e", "severe":
		return SeverityError
	case "fatal", "critical", "crit", "panic", "emerg", "emergency", "alert", "f":
		return SeverityFatal
	default:
		return SeverityInfo
	}
}

// levels are the words that name a level when seen among a line's first
// words.
var levels = map[string]bool{
	"TRACE": true, "DEBUG": true, "INFO": true, "NOTICE": true, "WARN": true, "WARNING": true,
	"ERROR": true, "ERR": true, "FATAL": true, "CRITICAL": true, "CRIT": true, "PANIC": true, "SEVERE": true,
}

// GuessSeverity finds a level word (in capitals, or as level=word) among the
// first six words of a line whose level was not given apart from it (a
// plain log file, an OTLP record without a severity); info when none.
func GuessSeverity(line string) Severity {
	for i, w := range strings.Fields(line) {
		if i >= 6 {
			break
		}
		w = strings.Trim(w, "[]():<>|=")
		// A level is written in capitals or as level=...; a lower-case
		// "error" in prose is not one.
		if k, v, ok := strings.Cut(w, "="); ok && (strings.EqualFold(k, "level") || strings.EqualFold(k, "lvl")) {
			w = strings.ToUpper(v)
		}
		if levels[w] {
			return ParseSeverity(w)
		}
	}
	return SeverityInfo
}

// AtLeast reports whether s is at least as severe as o.
func (s Severity) AtLeast(o Severity) bool { return s.rank() >= o.rank() }

func (s Severity) rank() int {
	switch s {
	case SeverityDebug:
		return 0
	case SeverityWarn:
		return 2
	case SeverityError:
		return 3
	case SeverityFatal:
		return 4
	default:
		return 1
	}
}

// LogRecord is one log line, its header already split off the body.
type LogRecord struct {
	Time     time.Time         `json:"time"`
	Entity   string            `json:"entity"`
	Severity Severity          `json:"severity"`
	Body     string            `json:"body"`
	TraceID  string            `json:"trace_id,omitempty"`
	Attrs    map[string]string `json:"attrs,omitempty"`
}

// SpanKind is the OpenTelemetry span kind.
type SpanKind string

// The span kinds.
const (
	SpanServer   SpanKind = "server"
	SpanClient   SpanKind = "client"
	SpanInternal SpanKind = "internal"
	SpanProducer SpanKind = "producer"
	SpanConsumer SpanKind = "consumer"
)

// Status is the outcome of a span.
type Status string

// The span outcomes.
const (
	StatusOK    Status = "ok"
	StatusError Status = "error"
)

// Span is one operation of one service within a trace. A call from service A
// to service B appears as a span of B whose parent is a span of A; a call
// that never reached B (refused, timed out) appears as a client span of A
// with the attribute AttrPeerService naming B.
type Span struct {
	TraceID   string            `json:"trace_id"`
	SpanID    string            `json:"span_id"`
	ParentID  string            `json:"parent_id,omitempty"`
	Service   string            `json:"service"`
	Operation string            `json:"operation"`
	Kind      SpanKind          `json:"kind,omitempty"`
	Start     time.Time         `json:"start"`
	Duration  time.Duration     `json:"duration_ns"`
	Status    Status            `json:"status"`
	Attrs     map[string]string `json:"attrs,omitempty"`
}

// End is when the span finished.
func (s Span) End() time.Time { return s.Start.Add(s.Duration) }

// Well-known span attributes, named as in the OpenTelemetry conventions.
const (
	AttrPeerService = "peer.service"
	AttrErrorType   = "error.type"
)

// EventKind says what kind of change or alarm an Event is.
type EventKind string

// The event kinds.
const (
	EventDeploy   EventKind = "deploy"
	EventConfig   EventKind = "config"
	EventUpgrade  EventKind = "upgrade"
	EventScale    EventKind = "scale"
	EventRestart  EventKind = "restart"
	EventRollback EventKind = "rollback"
	EventAlarm    EventKind = "alarm"
)

// Valid reports whether k is one of the known event kinds.
func (k EventKind) Valid() bool {
	switch k {
	case EventDeploy, EventConfig, EventUpgrade, EventScale, EventRestart, EventRollback, EventAlarm:
		return true
	}
	return false
}

// Event is a change made to the system (deploy, config change, upgrade,
// scaling, restart, rollback) or an alarm raised by another system.
type Event struct {
	ID     int64             `json:"id,omitempty"`
	Time   time.Time         `json:"time"`
	Entity string            `json:"entity"`
	Kind   EventKind         `json:"kind"`
	Text   string            `json:"text,omitempty"`
	Source string            `json:"source,omitempty"`
	Attrs  map[string]string `json:"attrs,omitempty"`
}

// Batch is the unit the bus carries between stages: any mix of signals. A
// producer usually fills one field.
type Batch struct {
	Samples      []Sample      `json:"samples,omitempty"`
	Logs         []LogRecord   `json:"logs,omitempty"`
	Spans        []Span        `json:"spans,omitempty"`
	Events       []Event       `json:"events,omitempty"`
	Observations []Observation `json:"observations,omitempty"`
}

// Len is the number of items in the batch.
func (b *Batch) Len() int {
	return len(b.Samples) + len(b.Logs) + len(b.Spans) + len(b.Events) + len(b.Observations)
}

// Bytes estimates the memory the batch holds: each item's struct and the
// strings and maps it points to. It is what a memory limit counts for a
// queued batch, an estimate (strings shared between items are counted
// for each), not an exact figure.
func (b *Batch) Bytes() int64 {
	attrs := func(m map[string]string) int64 {
		if m == nil {
			return 0
		}
		// A map of strings is a header and groups of 8 slots of 32 bytes
		// (and 8 control bytes), at most 7/8 full: even a map of one
		// label takes a whole group.
		const header, group = 48, 8 + 8*32
		n := int64(header + group*((len(m)*8/7+7)/8))
		for k, v := range m {
			n += int64(len(k) + len(v))
		}
		return n
	}
	n := int64(unsafe.Sizeof(*b))
	for i := range b.Samples {
		s := &b.Samples[i]
		n += int64(unsafe.Sizeof(*s)+uintptr(len(s.Entity)+len(s.Name))) + attrs(s.Labels)
	}
	for i := range b.Logs {
		l := &b.Logs[i]
		n += int64(unsafe.Sizeof(*l)+uintptr(len(l.Entity)+len(l.Body)+len(l.TraceID))) + attrs(l.Attrs)
	}
	for i := range b.Spans {
		s := &b.Spans[i]
		n += int64(unsafe.Sizeof(*s)+uintptr(len(s.TraceID)+len(s.SpanID)+len(s.ParentID)+len(s.Service)+len(s.Operation))) + attrs(s.Attrs)
	}
	for i := range b.Events {
		e := &b.Events[i]
		n += int64(unsafe.Sizeof(*e)+uintptr(len(e.Entity)+len(e.Text)+len(e.Source))) + attrs(e.Attrs)
	}
	for i := range b.Observations {
		o := &b.Observations[i]
		n += int64(unsafe.Sizeof(*o)+uintptr(len(o.Entity)+len(o.Name)+len(o.Summary))) + attrs(o.Evidence)
	}
	return n
}
