package rules

import (
	"strings"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

func TestMine(t *testing.T) {
	var cs []Case
	for range 6 {
		cs = append(cs, Case{Patterns: []string{"metric.anomaly:cpu", "trace.latency"}, Cause: "saturation", Action: "scale-out"})
	}
	for range 4 {
		cs = append(cs, Case{Patterns: []string{"log.error_burst", "trace.latency"}, Cause: "errors", Action: "rollback"})
	}
	rs := Mine(cs, DefaultConfig())
	if len(rs) == 0 {
		t.Fatal("no rules")
	}
	top := rs[0]
	if top.Confidence != 1 || top.Origin != Mined {
		t.Fatalf("top rule %+v", top)
	}
	var cpu *signal.Rule
	for i := range rs {
		if strings.Join(rs[i].If, ",") == "metric.anomaly:cpu" {
			cpu = &rs[i]
		}
	}
	if cpu == nil || cpu.Cause != "saturation" || cpu.Action != "scale-out" || cpu.Support != 0.6 || cpu.Lift < 1.6 {
		t.Fatalf("cpu rule %+v in %+v", cpu, rs)
	}
	for _, r := range rs {
		if strings.Join(r.If, ",") == "trace.latency" {
			t.Errorf("a pattern of every case gave a rule without lift: %+v", r)
		}
	}
}

func TestApply(t *testing.T) {
	causes := []signal.Cause{{Entity: "a", Kind: "latency", Score: 0.6}, {Entity: "b", Kind: "saturation", Score: 0.55}}
	r := signal.Rule{ID: 3, If: []string{"metric.anomaly:cpu"}, Cause: "saturation", Confidence: 1, Support: 0.5, Lift: 2}
	fired := Apply(causes, Patterns([]signal.Observation{{Kind: signal.MetricAnomaly, Name: "cpu"}}), []signal.Rule{r})
	if len(fired) != 1 || causes[0].Entity != "b" || !strings.Contains(causes[0].Evidence[0], "rule #3") {
		t.Fatalf("fired %v causes %+v", fired, causes)
	}
	if Apply(causes, []string{"log.burst"}, []signal.Rule{r}) != nil {
		t.Error("a rule fired without its patterns")
	}
	f := func(confirmed bool, want float64) {
		t.Helper()
		x := signal.Rule{Confidence: 0.5}
		Reinforce(&x, confirmed, 0.2)
		if x.Confidence != want {
			t.Errorf("Reinforce(%v) = %v, want %v", confirmed, x.Confidence, want)
		}
	}
	f(true, 0.6)
	f(false, 0.4)
}

func BenchmarkMine(b *testing.B) {
	var cs []Case
	for i := range 500 {
		cs = append(cs, Case{Patterns: []string{"metric.anomaly:cpu", "trace.latency", "log.burst:t" + string(rune('a'+i%5))}, Cause: []string{"saturation", "errors"}[i%2]})
	}
	b.ReportAllocs()
	for b.Loop() {
		Mine(cs, DefaultConfig())
	}
}
