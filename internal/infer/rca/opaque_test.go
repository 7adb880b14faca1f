package rca

import (
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// TestRankOpaque: an external dependency reports nothing; its caller slows
// and fails and logs failed calls naming it, so it ranks first. A caller
// that names nothing keeps its own fault.
func TestRankOpaque(t *testing.T) {
	topo := signal.Topology{Edges: []signal.Edge{{Caller: "frontend", Callee: "pay"}, {Caller: "pay", Callee: "ext-bank"}}}
	base := []signal.Observation{
		ob(0, "pay", signal.MetricAnomaly, "latency_p95_ms", 0.95, "up"),
		ob(0, "pay", signal.MetricAnomaly, "error_ratio", 0.9, "up"),
		ob(time.Second, "frontend", signal.MetricAnomaly, "latency_p95_ms", 0.9, "up"),
	}
	f := func(obs []signal.Observation, want string) {
		t.Helper()
		got := Rank(Input{Observations: obs, Topology: topo}, Config{})
		if len(got) == 0 || got[0].Entity != want {
			t.Fatalf("top cause %v, want %s", got, want)
		}
	}
	f(base, "pay")
	f(append(base, logOb(0, "pay", signal.LogBurst, "request to ext-bank failed: 503 service unavailable")), "ext-bank")
}

// TestRankNetwork: retransmits localise a lossy link at its callee even
// when the caller's own latency shows first.
func TestRankNetwork(t *testing.T) {
	topo := signal.Topology{Edges: []signal.Edge{{Caller: "frontend", Callee: "api"}, {Caller: "api", Callee: "db"}}}
	obs := []signal.Observation{
		ob(0, "api", signal.TraceLatency, "GET /api", 0.9, "up"),
		ob(0, "api", signal.MetricAnomaly, "latency_p95_ms", 0.95, "up"),
		ob(5*time.Second, "db", signal.MetricAnomaly, "tcp_retransmits", 0.95, "up"),
		ob(5*time.Second, "frontend", signal.MetricAnomaly, "latency_p95_ms", 0.9, "up"),
	}
	got := Rank(Input{Observations: obs, Topology: topo}, Config{})
	if len(got) == 0 || got[0].Entity != "db" || got[0].Kind != KindNetwork {
		t.Fatalf("top cause %v, want db (network)", got)
	}
}

// TestRankHost: a service's disk filling shows on its host too; the
// service is named, and a host alone with the trouble keeps it.
func TestRankHost(t *testing.T) {
	topo := signal.Topology{Edges: []signal.Edge{{Caller: "frontend", Callee: "api"}}}
	host := ob(0, "host:node-1", signal.MetricAnomaly, "disk_utilization", 0.95, "up")
	f := func(obs []signal.Observation, want string) {
		t.Helper()
		got := Rank(Input{Observations: obs, Topology: topo}, Config{})
		if len(got) == 0 || got[0].Entity != want {
			t.Fatalf("top cause %v, want %s", got, want)
		}
	}
	f([]signal.Observation{host, ob(0, "api", signal.MetricAnomaly, "disk_utilization", 0.9, "up")}, "api")
	f([]signal.Observation{host, ob(0, "api", signal.MetricAnomaly, "latency_p95_ms", 0.5, "up")}, "host:node-1")
}
