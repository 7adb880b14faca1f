package infer

import (
	"slices"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// TestTroubleOnset: noise that opened an incident minutes before a fault
// does not date the fault; a lone burst is its own onset.
func TestTroubleOnset(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration, kind signal.ObsKind, score float64) signal.Observation {
		return signal.Observation{Time: t0.Add(d), Start: t0.Add(d), Entity: "a", Kind: kind, Score: score}
	}
	i := New(Config{}, nil, nil)
	f := func(obs []signal.Observation, want time.Duration) {
		t.Helper()
		if got := i.troubleOnset(obs, t0); got.Sub(t0) != want {
			t.Errorf("onset %s, want %s", got.Sub(t0), want)
		}
	}
	noise := at(0, signal.MetricAnomaly, 0.6)
	fault := []signal.Observation{at(9*time.Minute, signal.MetricAnomaly, 0.9), at(9*time.Minute, signal.TraceLatency, 0.9), at(9*time.Minute+10*time.Second, signal.MetricAnomaly, 1)}
	f(append([]signal.Observation{noise}, fault...), 9*time.Minute)
	f([]signal.Observation{noise, at(30*time.Second, signal.MetricAnomaly, 0.9)}, 0)
	f([]signal.Observation{at(0, signal.LogBurst, 0.95)}, 0) // logs alone: the incident's onset

	// A first problem (a surge) and, after a pause, a second one of
	// comparable weight: the diagnosis is about the second, what is wrong
	// now. A faint later blip does not move it.
	surge := []signal.Observation{at(0, signal.MetricAnomaly, 1), at(0, signal.MetricAnomaly, 1), at(10*time.Second, signal.TraceLatency, 1)}
	second := []signal.Observation{at(13*time.Minute, signal.MetricAnomaly, 1), at(13*time.Minute, signal.TraceLatency, 0.9)}
	f(append(slices.Clone(surge), second...), 13*time.Minute)
	f(append(slices.Clone(surge), at(13*time.Minute, signal.MetricAnomaly, 0.55)), 0)

	// A forecast dates nothing by the trend window it fitted.
	fc := at(9*time.Minute, signal.MetricForecast, 0.9)
	fc.Start = t0.Add(time.Minute)
	f(append([]signal.Observation{noise}, fc), 9*time.Minute)

	// The trouble a forecast foretells (an OOM four minutes on, past the
	// grouping window) is the forecast's burst: it lasts until its limit
	// is due, so the diagnosis keeps the forecast's evidence.
	fc.Evidence = map[string]string{"eta": "5m0s"}
	oom := []signal.Observation{at(13*time.Minute, signal.MetricAnomaly, 1), at(13*time.Minute, signal.LogNewTemplate, 0.85), at(13*time.Minute, signal.TraceErrors, 0.9)}
	f(append([]signal.Observation{noise, fc}, oom...), 9*time.Minute)
	fc.Evidence = nil
	f(append([]signal.Observation{noise, fc}, oom...), 13*time.Minute)

	// Trouble that cleared for longer than an incident takes to resolve
	// is history: the faint fault that reopens the incident is diagnosed
	// on its own, however loud the noise before it was.
	loud := []signal.Observation{at(0, signal.MetricAnomaly, 1), at(0, signal.MetricAnomaly, 1), at(10*time.Second, signal.TraceLatency, 1), at(20*time.Second, signal.MetricAnomaly, 1), at(30*time.Second, signal.MetricAnomaly, 1)}
	f(append(slices.Clone(loud), at(9*time.Minute, signal.MetricAnomaly, 0.9)), 9*time.Minute)
	f(append(slices.Clone(loud), at(4*time.Minute, signal.MetricAnomaly, 0.9)), 0)
}
