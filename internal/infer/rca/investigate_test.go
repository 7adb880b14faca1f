package rca

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// series makes a minute series over [at-30m, at+5m] of noise around base,
// moved to after from at on.
func series(r *rand.Rand, entity, name string, at time.Time, base, after float64) SeriesData {
	sd := SeriesData{Entity: entity, Name: name}
	for t := at.Add(-30 * time.Minute); !t.After(at.Add(5 * time.Minute)); t = t.Add(time.Minute) {
		v := base
		if !t.Before(at) {
			v = after
		}
		sd.Points = append(sd.Points, Point{Time: t, Value: v * (1 + 0.05*r.NormFloat64())})
	}
	return sd
}

func TestInvestigateBlamesTheCalleeNotItsVictims(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	at := time.Unix(1_700_000_000, 0).UTC()
	topo := signal.Topology{Edges: []signal.Edge{{Caller: "front", Callee: "cart"}, {Caller: "cart", Callee: "db"}, {Caller: "front", Callee: "ads"}}}
	in := Investigation{At: at, Topology: topo, Series: []SeriesData{
		series(r, "front", "http_server_request_duration_seconds_p99", at, 0.2, 2.0), // victim, worst latency
		series(r, "cart", "http_server_request_duration_seconds_p99", at, 0.1, 1.6),  // victim
		series(r, "db", "db_query_duration_seconds_p99", at, 0.05, 1.5),              // the slow dependency
		series(r, "ads", "http_server_request_duration_seconds_p99", at, 0.05, 0.05),
		series(r, "ads", "process_cpu_seconds_rate", at, 0.3, 0.3),
	}}
	causes := Investigate(in, InvestigateConfig{})
	if len(causes) == 0 || causes[0].Entity != "db" {
		t.Fatalf("want db first, got %v", names(causes))
	}
	if len(causes[0].Facts) == 0 || causes[0].Facts[0].Kind != FactChange {
		t.Errorf("db's cause has no change fact: %+v", causes[0].Facts)
	}
	// Focused on ads, nothing that ads does not depend on is ranked.
	in.Focus = "ads"
	for _, c := range Investigate(in, InvestigateConfig{}) {
		if c.Entity != "ads" {
			t.Errorf("focused on ads, ranked %s", c.Entity)
		}
	}
}

func TestInvestigateLocalEvidenceAndHosts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	at := time.Unix(1_700_000_000, 0).UTC()
	topo := signal.Topology{Edges: []signal.Edge{{Caller: "front", Callee: "pay"}, {Caller: "front", Callee: "ship"}},
		Placements: []signal.Placement{{Service: "pay", Host: "host:n1"}, {Service: "ship", Host: "host:n1"}}}
	// A node hog: the host's CPU, read from a pod's node_* series, and
	// both residents slow. Neither service burns CPU of its own.
	in := Investigation{At: at, Topology: topo, Series: []SeriesData{
		series(r, "pay/pay-1", "node_cpu_usage_rate_pct", at, 10, 95),
		series(r, "pay", "latency_ms", at, 10, 40),
		series(r, "ship", "latency_ms", at, 10, 30),
		series(r, "pay", "cpu_usage_rate_pct", at, 5, 5),
		series(r, "front", "latency_ms", at, 30, 70),
	}}
	causes := Investigate(in, InvestigateConfig{})
	if len(causes) == 0 || causes[0].Entity != "host:n1" {
		t.Fatalf("a node hog: want host:n1 first, got %v", names(causes))
	}
	// The service burns the CPU itself: it is the more specific cause.
	in.Series[3] = series(r, "pay", "cpu_usage_rate_pct", at, 5, 90)
	causes = Investigate(in, InvestigateConfig{})
	if len(causes) == 0 || causes[0].Entity != "pay" {
		t.Fatalf("pay burns CPU: want pay first, got %v", names(causes))
	}
}

func TestInvestigateCanary(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	at := time.Unix(1_700_000_000, 0).UTC()
	// Both services roll out a new instance at the alert; only a's new
	// instance fails more than its old siblings, while both services'
	// totals move a little.
	in := Investigation{At: at, Events: []signal.Event{
		{Time: at.Add(-time.Minute), Entity: "a", Kind: signal.EventDeploy},
		{Time: at.Add(-time.Minute), Entity: "b", Kind: signal.EventDeploy},
	}}
	for _, svc := range []string{"a", "b"} {
		in.Series = append(in.Series, series(r, svc+"/old-1", "error_ratio", at, 0.01, 0.012), series(r, svc+"/old-2", "error_ratio", at, 0.01, 0.012))
		nw := series(r, svc+"/new-1", "error_ratio", at, 0.01, 0.012)
		if svc == "a" {
			nw = series(r, svc+"/new-1", "error_ratio", at, 0.01, 0.3)
		}
		nw.Points = nw.Points[29:] // born a minute before the alert
		in.Series = append(in.Series, nw)
	}
	causes := Investigate(in, InvestigateConfig{})
	if len(causes) == 0 || causes[0].Entity != "a" {
		t.Fatalf("want a first, got %v", names(causes))
	}
	found := false
	for _, f := range causes[0].Facts {
		found = found || f.Kind == FactCanary && f.Peer == "a/new-1"
	}
	if !found {
		t.Errorf("no canary fact on a: %+v", causes[0].Facts)
	}
}

func TestRobustScaleIgnoresAnEarlierFault(t *testing.T) {
	vals := make([]float64, 30)
	for i := range vals {
		vals[i] = 1 + 0.01*float64(i%3)
	}
	for i := 10; i < 14; i++ {
		vals[i] = 80 // an earlier fault in the baseline
	}
	_, scale := robustScale(vals)
	if scale > 0.1 {
		t.Errorf("scale %g: the earlier fault inflated it", scale)
	}
	_, sparse := robustScale([]float64{0, 0, 0, 0, 0, 0, 2, 0, 0, 3})
	if sparse <= 0.01 {
		t.Errorf("a sparse series has scale %g", sparse)
	}
}

func names(cs []signal.Cause) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Entity
	}
	return out
}
