package signal

import (
	"testing"
	"time"
)

func TestSeriesKey(t *testing.T) {
	f := func(s Sample, want string) {
		t.Helper()
		if got := s.SeriesKey(); got != want {
			t.Errorf("SeriesKey(%+v) = %q, want %q", s, got, want)
		}
	}
	f(Sample{Entity: "cart", Name: "latency_p99_ms"}, "cart|latency_p99_ms")
	// Labels in sorted order, whatever order the map gives.
	f(Sample{Entity: "cart", Name: "up", Labels: map[string]string{"pod": "b", "instance": "a"}}, "cart|up|instance=a|pod=b")
}

func TestParseSeverity(t *testing.T) {
	f := func(in string, want Severity) {
		t.Helper()
		if got := ParseSeverity(in); got != want {
			t.Errorf("ParseSeverity(%q) = %s, want %s", in, got, want)
		}
	}
	f("WARNING", SeverityWarn)
	f(" err ", SeverityError)
	f("CRITICAL", SeverityFatal)
	f("fine", SeverityDebug)
	f("INFO", SeverityInfo)
	f("whatever", SeverityInfo)
	if !SeverityError.AtLeast(SeverityWarn) || SeverityInfo.AtLeast(SeverityWarn) || !SeverityFatal.AtLeast(SeverityFatal) {
		t.Error("AtLeast does not order the levels")
	}
}

func TestObsKinds(t *testing.T) {
	f := func(k ObsKind, want Source) {
		t.Helper()
		if got := k.Source(); got != want {
			t.Errorf("%s.Source() = %s, want %s", k, got, want)
		}
	}
	f(MetricForecast, SourceMetric)
	f(LogErrorBurst, SourceLog)
	f(TraceUnreachable, SourceTrace)
	f(Change, SourceEvent)
	f(Alarm, SourceEvent)
	for _, k := range ObsKinds() {
		if !k.Valid() {
			t.Errorf("%s is listed but not valid", k)
		}
	}
	if ObsKind("metric.bogus").Valid() || EventKind("explode").Valid() || !EventDeploy.Valid() {
		t.Error("Valid accepts an unknown kind or rejects a known one")
	}
}

func TestObservationDirection(t *testing.T) {
	f := func(o Observation, want string) {
		t.Helper()
		if got := o.Direction(); got != want {
			t.Errorf("Direction(%+v) = %s, want %s", o, got, want)
		}
	}
	f(Observation{Actual: 0, Low: 0.9, High: 1.1}, "down")
	f(Observation{Actual: 5, Low: 0.9, High: 1.1}, "up")
	f(Observation{Actual: 0, Low: 0.9, Evidence: map[string]string{"direction": "up"}}, "up")
}

func TestIncidentTopAndSpanEnd(t *testing.T) {
	var in Incident
	if top := in.Top(); top.Entity != "" || top.Score != 0 || top.Evidence != nil {
		t.Error("Top of an incident without causes is not the zero cause")
	}
	in.Causes = []Cause{{Entity: "db", Score: 0.9}, {Entity: "cart", Score: 0.2}}
	if in.Top().Entity != "db" {
		t.Errorf("Top = %s, want db", in.Top().Entity)
	}
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	if end := (Span{Start: at, Duration: 250 * time.Millisecond}).End(); !end.Equal(at.Add(250 * time.Millisecond)) {
		t.Errorf("End = %v", end)
	}
	topo := Topology{Edges: []Edge{{Caller: "a", Callee: "b"}, {Caller: "a", Callee: "c"}}}
	if got := topo.Callees()["a"]; len(got) != 2 {
		t.Errorf("Callees[a] = %v, want b and c", got)
	}
	b := Batch{Samples: make([]Sample, 2), Spans: make([]Span, 3)}
	if b.Len() != 5 {
		t.Errorf("Len = %d, want 5", b.Len())
	}
}

func TestGuessSeverity(t *testing.T) {
	f := func(line string, want Severity) {
		t.Helper()
		if got := GuessSeverity(line); got != want {
			t.Errorf("GuessSeverity(%q) = %s; want %s", line, got, want)
		}
	}
	f("2024-01-01 [ERROR] boom", SeverityError)
	f("ts=1 level=warn msg=slow", SeverityWarn)
	f("user said error was fine yesterday at noon", SeverityInfo)
	f("I 1 2 3 4 5 6 FATAL", SeverityInfo)
}
