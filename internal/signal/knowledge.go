package signal

import (
	"fmt"
	"time"
)

// Source says which kind of signal an observation was recognised in.
type Source string

// The sources of observations.
const (
	SourceMetric Source = "metric"
	SourceLog    Source = "log"
	SourceTrace  Source = "trace"
	SourceEvent  Source = "event"
)

// ObsKind names the pattern an observation reports.
type ObsKind string

// The patterns seer's detectors recognise. The prefix is the source.
const (
	// A metric left its expected range (spike, dip, level shift, trend break).
	MetricAnomaly ObsKind = "metric.anomaly"
	// A resource (memory, disk, pool) is forecast to hit its limit.
	MetricForecast ObsKind = "metric.forecast"

	// A log template never seen before appeared after warm-up.
	LogNewTemplate ObsKind = "log.new_template"
	// A template that is rare in the baseline appeared.
	LogRare ObsKind = "log.rare"
	// A template's rate rose well above its baseline.
	LogBurst ObsKind = "log.burst"
	// A template that was steady went silent.
	LogSilence ObsKind = "log.silence"
	// Errors and exceptions of a service rose well above their baseline.
	LogErrorBurst ObsKind = "log.error_burst"

	// An operation's own (exclusive) latency rose above its baseline.
	TraceLatency ObsKind = "trace.latency"
	// Errors originating in an operation rose above their baseline.
	TraceErrors ObsKind = "trace.errors"
	// Calls to a service failed before reaching it (refused, unreachable).
	TraceUnreachable ObsKind = "trace.unreachable"
	// A trace deviated from its operation's normal call structure.
	TraceStructure ObsKind = "trace.structure"
	// Spans that never completed within the completion timeout.
	TraceTimeout ObsKind = "trace.timeout"

	// A change event (deploy, config, upgrade, ...) on an entity.
	Change ObsKind = "change"
	// An alarm raised by another system.
	Alarm ObsKind = "alarm"
)

// ObsKinds lists every observation kind.
func ObsKinds() []ObsKind {
	return []ObsKind{MetricAnomaly, MetricForecast, LogNewTemplate, LogRare, LogBurst, LogSilence, LogErrorBurst,
		TraceLatency, TraceErrors, TraceUnreachable, TraceStructure, TraceTimeout, Change, Alarm}
}

// Valid reports whether k is one of ObsKinds.
func (k ObsKind) Valid() bool {
	for _, x := range ObsKinds() {
		if x == k {
			return true
		}
	}
	return false
}

// Source is the signal kind that the pattern is recognised in.
func (k ObsKind) Source() Source {
	for i := 0; i < len(k); i++ {
		if k[i] == '.' {
			switch k[:i] {
			case "metric":
				return SourceMetric
			case "log":
				return SourceLog
			case "trace":
				return SourceTrace
			}
		}
	}
	return SourceEvent
}

// Observation is a recognised pattern, with the evidence for it. Every
// detector emits observations and nothing else.
type Observation struct {
	// ID is assigned by the knowledge store.
	ID int64 `json:"id,omitempty"`
	// Time is when the pattern was recognised, in the signal's own time.
	Time time.Time `json:"time"`
	// Start is since when the pattern has held (its onset).
	Start  time.Time `json:"start"`
	Entity string    `json:"entity"`
	Kind   ObsKind   `json:"kind"`
	// Name says what within the entity: the metric, the template id, the
	// operation, the peer.
	Name string `json:"name"`
	// Score is the strength of the pattern in [0,1].
	Score float64 `json:"score"`
	// Actual and Expected are the value seen and the value expected, where the
	// pattern has them (latency, error ratio, a metric); Low and High bound
	// the expected range.
	Actual   float64 `json:"actual"`
	Expected float64 `json:"expected"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	// Summary is one line an operator can read ("p99 latency 850ms, expected
	// 120–180ms").
	Summary string `json:"summary"`
	// Evidence holds further facts by name: which feature fired, example
	// log lines, the trace id of an example, the direction ("up", "down").
	Evidence map[string]string `json:"evidence,omitempty"`
}

// Direction is "up" when the value rose above its expected range and "down"
// when it fell below it, or the "direction" evidence when one is given.
func (o Observation) Direction() string {
	if d := o.Evidence["direction"]; d != "" {
		return d
	}
	if o.Actual < o.Low {
		return "down"
	}
	return "up"
}

// String is a one-line form for logs and test failures.
func (o Observation) String() string {
	return fmt.Sprintf("%s %s %s/%s score=%.2f %s", o.Time.UTC().Format(time.TimeOnly), o.Kind, o.Entity, o.Name, o.Score, o.Summary)
}

// IncidentStatus is where an incident is in its lifecycle.
type IncidentStatus string

// The incident lifecycle.
const (
	IncidentOpen       IncidentStatus = "open"
	IncidentMitigating IncidentStatus = "mitigating"
	IncidentResolved   IncidentStatus = "resolved"
)

// Cause is one root-cause candidate of an incident with its chain of evidence.
type Cause struct {
	Entity string `json:"entity"`
	// Kind is the kind of fault suspected (latency, errors, unavailable,
	// resource, change, load), where it can be told.
	Kind  string  `json:"kind,omitempty"`
	Score float64 `json:"score"`
	// Evidence is the chain of reasoning, in words an operator can check.
	Evidence []string `json:"evidence"`
	// Facts are the evidence as typed facts, where the ranking made them
	// (an investigation does): what Evidence renders in words.
	Facts []Fact `json:"facts,omitempty"`
}

// Fact is one piece of evidence about a cause: of what kind, about which
// entity and series, when, and the values compared.
type Fact struct {
	Kind      string    `json:"kind"`
	Entity    string    `json:"entity"`
	Series    string    `json:"series,omitempty"`
	Quantity  string    `json:"quantity,omitempty"`
	Peer      string    `json:"peer,omitempty"`
	Time      time.Time `json:"time,omitempty"`
	Direction string    `json:"direction,omitempty"`
	Before    float64   `json:"before,omitempty"`
	After     float64   `json:"after,omitempty"`
	// Z is the robust change score; Score the fact's strength in [0,1].
	Z     float64 `json:"z,omitempty"`
	Score float64 `json:"score,omitempty"`
	Text  string  `json:"text,omitempty"`
}

// Incident is observations, alarms and changes grouped as one problem, with
// the ranked root-cause candidates.
type Incident struct {
	ID     int64          `json:"id,omitempty"`
	Status IncidentStatus `json:"status"`
	Title  string         `json:"title"`
	// Onset is the earliest start among the incident's observations.
	Onset    time.Time `json:"onset"`
	Opened   time.Time `json:"opened"`
	Updated  time.Time `json:"updated"`
	Resolved time.Time `json:"resolved,omitzero"`
	// Diagnosed is when the current top cause was first ranked top.
	Diagnosed      time.Time         `json:"diagnosed,omitzero"`
	Entities       []string          `json:"entities"`
	ObservationIDs []int64           `json:"observation_ids"`
	Causes         []Cause           `json:"causes"`
	Runbook        *Nomination       `json:"runbook,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	// Acknowledged is when an operator took the incident on, and By who;
	// it stays open, but it is known to be handled.
	Acknowledged   time.Time `json:"acknowledged,omitzero"`
	AcknowledgedBy string    `json:"acknowledged_by,omitempty"`
}

// Top is the first-ranked cause, or the zero Cause when there is none.
func (in *Incident) Top() Cause {
	if len(in.Causes) == 0 {
		return Cause{}
	}
	return in.Causes[0]
}

// Nomination is the runbook chosen for an incident and what it would do.
type Nomination struct {
	Name string `json:"name"`
	// Mode is how the runbook runs: dry-run, suggest, approve or auto.
	Mode    string   `json:"mode"`
	Target  string   `json:"target"`
	Actions []string `json:"actions"`
	// Needs, set with Mode "unavailable", is what the runbook's steps need
	// that the environment seer acts in lacks (kubernetes, systemd,
	// docker): it fits the diagnosis but is not nominated to run.
	Needs []string `json:"needs,omitempty"`
}

// ModeUnavailable is a Nomination's Mode when the runbook that fits cannot
// run where seer acts.
const ModeUnavailable = "unavailable"

// Rule is an association between patterns and a cause (and the action that
// fixes it), mined from history or written by hand.
type Rule struct {
	ID int64 `json:"id,omitempty"`
	// If lists the patterns, as "kind" or "kind:name", that must be present.
	If []string `json:"if"`
	// Cause is the root-cause kind the patterns point to.
	Cause string `json:"cause"`
	// Action is the runbook that worked, if known.
	Action     string  `json:"action,omitempty"`
	Support    float64 `json:"support"`
	Confidence float64 `json:"confidence"`
	Lift       float64 `json:"lift"`
	// Origin is "mined" or "manual".
	Origin string `json:"origin"`
}

// Execution is the audit record of one runbook step run (or dry-run) for
// an incident.
type Execution struct {
	ID         int64  `json:"id,omitempty"`
	IncidentID int64  `json:"incident_id"`
	Runbook    string `json:"runbook"`
	Step       string `json:"step"`
	Target     string `json:"target"`
	// Mode is dry-run, suggest, approve or auto.
	Mode string `json:"mode"`
	// Trigger says who or what started it ("policy", "operator:alice").
	Trigger string `json:"trigger"`
	// Status is planned, pending-approval, running, succeeded, failed,
	// timed-out, skipped or interrupted (seer stopped while it ran).
	Status  string    `json:"status"`
	Input   string    `json:"input,omitempty"`
	Output  string    `json:"output,omitempty"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	// PGID is the process group of a running exec step, kept so that a
	// restarted seer can find and stop what a crash left running.
	PGID int `json:"pgid,omitempty"`
}

// Edge is one caller → callee dependency seen in traces (or declared), with
// its recent statistics.
type Edge struct {
	Caller     string        `json:"caller"`
	Callee     string        `json:"callee"`
	Calls      int64         `json:"calls"`
	Errors     int64         `json:"errors"`
	Rate       float64       `json:"rate_per_s"`
	ErrorRatio float64       `json:"error_ratio"`
	LatencyP50 time.Duration `json:"latency_p50_ns"`
	LatencyP99 time.Duration `json:"latency_p99_ns"`
	FirstSeen  time.Time     `json:"first_seen"`
	LastSeen   time.Time     `json:"last_seen"`
}

// Topology is the service dependency graph.
type Topology struct {
	Services []string `json:"services"`
	Edges    []Edge   `json:"edges"`
	// Placements say where each service's instances run, where known.
	Placements []Placement `json:"placements,omitempty"`
}

// Placement is one instance of a service and the host it runs on (either
// may be empty when the data does not say).
type Placement struct {
	Service  string `json:"service"`
	Instance string `json:"instance,omitempty"`
	Host     string `json:"host,omitempty"`
}

// Callees maps each caller to the services it calls.
func (t Topology) Callees() map[string][]string {
	m := make(map[string][]string)
	for _, e := range t.Edges {
		m[e.Caller] = append(m[e.Caller], e.Callee)
	}
	return m
}
