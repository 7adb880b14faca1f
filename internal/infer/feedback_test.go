package infer

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestShiftsAndFeedback(t *testing.T) {
	inf := New(Config{}, nil, nil)
	var s []signal.Sample
	for i := range 120 {
		at := t0.Add(time.Duration(i) * time.Second)
		a, b := 1.0+0.01*float64(i%3), 5.0+0.1*float64(i%2)
		if i >= 60 {
			a, b = 9, 5.5
		}
		s = append(s, signal.Sample{Time: at, Entity: "a", Name: "cpu", Value: a}, signal.Sample{Time: at, Entity: "b", Name: "cpu", Value: b})
	}
	inf.AddSamples(s)
	onset, end := t0.Add(60*time.Second), t0.Add(119*time.Second)
	c := inf.Diagnose(onset, end, nil)
	if len(c) < 2 || c[0].Entity != "a" || c[0].Kind != "saturation" {
		t.Fatalf("causes %+v", c)
	}
	// Feedback: a was wrong, b right; the next ranking follows.
	in := signal.Incident{ID: 1, Causes: c}
	f := Feedback{IncidentID: 1, Confirm: "b", Reject: []string{"a"}, By: "alice"}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	f.Record(&in)
	if in.Labels[LabelConfirmed] != "b" || in.Labels[LabelRejected] != "a" {
		t.Fatalf("labels %v", in.Labels)
	}
	for range 3 {
		inf.Learn(f, in)
	}
	c = inf.Diagnose(onset, end, nil)
	if c[0].Entity != "b" {
		t.Fatalf("after feedback: %+v", c)
	}
	ex := Explain(signal.Incident{ID: 1, Title: "b: saturation", Causes: c, Labels: in.Labels})
	for _, want := range []string{"Most likely cause: b", "Also considered:", "a (", "operator alice confirmed"} {
		if !strings.Contains(ex.Text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, ex.Text)
		}
	}
	// Weights rebuild from stored labels.
	other := New(Config{}, nil, nil)
	other.LoadFeedback([]signal.Incident{in})
	if w := other.Weights(); w.Confirmed["b"] != 1 || w.Rejected["a"] != 1 {
		t.Errorf("loaded weights %+v", w)
	}
	if err := (Feedback{}).Validate(); err == nil {
		t.Error("empty feedback accepted")
	}
}

func BenchmarkWindowShifts(b *testing.B) {
	w := NewWindow(WindowConfig{})
	var s []signal.Sample
	for i := range 300 {
		for e := range 50 {
			s = append(s, signal.Sample{Time: t0.Add(time.Duration(i) * time.Second), Entity: "svc" + string(rune('a'+e%26)) + string(rune('a'+e/26)), Name: "cpu", Value: float64(i % 7)})
		}
	}
	w.Add(s)
	b.ReportAllocs()
	for b.Loop() {
		w.Shifts(t0.Add(200*time.Second), t0.Add(300*time.Second), nil)
	}
}

// TestVerdictsBearOnSimilarIncidents: a verdict weighs on incidents that
// troubled the same services, and not on unrelated ones; without verdicts
// the plain counts decide.
func TestVerdictsBearOnSimilarIncidents(t *testing.T) {
	w := Weights{Confirmed: map[string]int{"db": 1}, Rejected: map[string]int{"cache": 1},
		Verdicts: []Verdict{{Services: []string{"cache", "db", "frontend", "gateway"}, Confirmed: "db", Rejected: []string{"cache"}}}}
	f := func(entity string, services []string, want float64) {
		t.Helper()
		if got := w.Factor(entity, services); math.Abs(got-want) > 1e-9 {
			t.Errorf("Factor(%s, %v) = %.3f, want %.3f", entity, services, got, want)
		}
	}
	like := []string{"cache", "db", "frontend", "gateway"}
	f("db", like, 1.5)
	f("cache", like, 1/1.5)
	f("gateway", like, 1)
	f("db", []string{"cart", "checkout", "frontend", "payment"}, 1) // unrelated: no verdict bears on it
	f("db", nil, 1.5)                                               // no services: the counts
	f("cache", nil, 1/1.5)
	if got := jaccard([]string{"a", "b", "c"}, []string{"b", "c", "d"}); got != 0.5 {
		t.Errorf("jaccard = %g, want 0.5", got)
	}
	if got := servicesOf([]string{"db/db-0", "db", "cart"}); strings.Join(got, ",") != "cart,db" {
		t.Errorf("servicesOf = %v", got)
	}
}
