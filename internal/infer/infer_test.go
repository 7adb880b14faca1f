package infer

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func shop() signal.Topology {
	var t signal.Topology
	for _, e := range strings.Fields("frontend>gateway gateway>catalog gateway>cart gateway>checkout gateway>user catalog>db catalog>cache cart>cache user>db checkout>payment checkout>cart checkout>queue payment>db queue>notification") {
		a, b, _ := strings.Cut(e, ">")
		t.Edges = append(t.Edges, signal.Edge{Caller: a, Callee: b})
	}
	return t
}

func ob(at time.Duration, entity string, kind signal.ObsKind, name string, score float64) signal.Observation {
	return signal.Observation{Time: t0.Add(at + 10*time.Second), Start: t0.Add(at), Entity: entity, Kind: kind, Name: name, Score: score,
		Actual: 300, Expected: 3, Low: 1, High: 5}
}

// victims are latency anomalies of db's callers, a second apart from at.
func victims(at time.Duration) []signal.Observation {
	var obs []signal.Observation
	for i, e := range []string{"catalog", "user", "payment", "gateway", "frontend"} {
		obs = append(obs, ob(at+time.Duration(i+1)*time.Second, e, signal.MetricAnomaly, "latency_p99_ms", 0.85))
	}
	return obs
}

func TestDiagnosis(t *testing.T) {
	inf := New(Config{}, shop, nil)
	// The victims are seen first: the gateway looks like the cause.
	got := inf.Add(victims(0)[3:])
	if len(got) != 1 || got[0].Top().Entity != "gateway" {
		t.Fatalf("first diagnosis: %+v", got)
	}
	first := got[0]
	if !first.Diagnosed.Equal(t0.Add(15 * time.Second)) {
		t.Errorf("diagnosed at %s", first.Diagnosed)
	}
	first.ID = 7 // the store's
	inf.Bind(first)
	first.Title = "changed by the caller"

	// Then db's own latency and the other victims: db takes over.
	obs := append(victims(0)[:3], ob(0, "db", signal.TraceLatency, "query", 0.95))
	obs[len(obs)-1].Time = t0.Add(20 * time.Second)
	got = inf.Add(obs)
	if len(got) != 1 {
		t.Fatalf("%d incidents", len(got))
	}
	in := got[0]
	if in.ID != 7 || in.Status != signal.IncidentOpen {
		t.Fatalf("lost identity: id %d status %s", in.ID, in.Status)
	}
	if in.Title != "db: latency (6 services affected)" || len(in.Entities) != 6 || !in.Onset.Equal(t0) {
		t.Fatalf("title %q entities %v onset %s", in.Title, in.Entities, in.Onset)
	}
	if !in.Diagnosed.Equal(t0.Add(20*time.Second)) || !in.Updated.Equal(t0.Add(20*time.Second)) {
		t.Errorf("diagnosed %s updated %s", in.Diagnosed, in.Updated)
	}
	if len(in.Causes) < 2 || in.Causes[0].Score <= in.Causes[1].Score || !strings.Contains(in.Causes[0].Evidence[0], "db: own latency") {
		t.Fatalf("causes: %+v", in.Causes)
	}

	// More of the same keeps the diagnosis time.
	got = inf.Add(victims(30 * time.Second))
	if got[0].Top().Entity != "db" || !got[0].Diagnosed.Equal(in.Diagnosed) || !got[0].Updated.After(in.Updated) {
		t.Fatalf("diagnosis moved: top %s diagnosed %s", got[0].Top().Entity, got[0].Diagnosed)
	}

	// Quiet for ResolveAfter: resolved, still the same incident.
	res := inf.Tick(t0.Add(10 * time.Minute))
	if len(res) != 1 || res[0].ID != 7 || res[0].Status != signal.IncidentResolved || res[0].Top().Entity != "db" {
		t.Fatalf("resolve: %+v", res)
	}
}

func TestChangeEvents(t *testing.T) {
	inf := New(Config{MaxEvents: 3}, shop, nil)
	inf.AddEvents([]signal.Event{{Time: t0.Add(-3 * time.Hour), Entity: "db", Kind: signal.EventDeploy}})
	inf.AddEvents([]signal.Event{
		{Time: t0.Add(-time.Minute), Entity: "payment", Kind: signal.EventDeploy, Text: "payment v2"},
		{Time: t0.Add(-2 * time.Hour), Entity: "payment", Kind: signal.EventConfig},
	})
	inf.mu.Lock()
	kept := len(inf.events)
	inf.mu.Unlock()
	if kept != 1 {
		t.Fatalf("%d events kept, want 1 within the window", kept)
	}
	got := inf.Add([]signal.Observation{
		ob(0, "payment", signal.TraceErrors, "charge", 0.95),
		ob(time.Second, "checkout", signal.MetricAnomaly, "error_ratio", 0.9),
	})
	if len(got) != 1 || got[0].Title != "payment: change (2 services affected)" {
		t.Fatalf("got %+v", got)
	}
	if ev := strings.Join(got[0].Causes[0].Evidence, "\n"); !strings.Contains(ev, "deploy on payment") {
		t.Fatalf("evidence: %s", ev)
	}
}

func TestTwoIncidentsAndNoise(t *testing.T) {
	inf := New(Config{}, shop, nil)
	if got := inf.Add([]signal.Observation{ob(0, "cache", signal.MetricAnomaly, "cpu_utilization", 0.6)}); len(got) != 0 {
		t.Fatalf("noise opened %v", got)
	}
	obs := append(victims(time.Minute), ob(time.Minute, "db", signal.TraceLatency, "query", 0.95),
		ob(61*time.Second, "notification", signal.TraceErrors, "send", 0.95), ob(62*time.Second, "queue", signal.MetricAnomaly, "queue_depth", 0.8))
	got := inf.Add(obs)
	if len(got) != 2 {
		t.Fatalf("%d incidents", len(got))
	}
	tops := []string{got[0].Top().Entity, got[1].Top().Entity}
	if !(tops[0] == "db" && tops[1] == "notification" || tops[0] == "notification" && tops[1] == "db") {
		t.Fatalf("tops %v", tops)
	}
}

func TestConcurrent(t *testing.T) {
	inf := New(Config{}, shop, nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for r := range 50 {
				at := time.Duration(r) * 10 * time.Second
				for _, in := range inf.Add(append(victims(at), ob(at, "db", signal.TraceLatency, "q", 0.95))) {
					if in.ID == 0 {
						in.ID = int64(1000*w + r)
						inf.Bind(in)
					}
					in.Causes = nil // snapshots are the caller's
				}
				inf.AddEvents([]signal.Event{{Time: t0.Add(at), Entity: "db", Kind: signal.EventAlarm}})
				inf.Tick(t0.Add(at))
			}
		})
	}
	wg.Wait()
	res := inf.Tick(t0.Add(time.Hour))
	if len(res) != 1 || res[0].ID == 0 || res[0].Top().Entity != "db" {
		t.Fatalf("after the storm: %+v", res)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.EventWindow = -1
	cfg.RCA.TopK = -1
	cfg.Correlate.MinScore = 2
	err := cfg.Validate()
	for _, want := range []string{"event_window", "rca.top_k", "correlate.min_score"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to name %s", err, want)
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	var obs []signal.Observation
	for r := 0; len(obs) < 1000; r++ {
		at := time.Duration(r) * 5 * time.Second
		obs = append(obs, victims(at)...)
		obs = append(obs, ob(at, "db", signal.TraceLatency, "q", 0.95), ob(at, "cache", signal.MetricAnomaly, fmt.Sprint("m", r%5), 0.4))
	}
	obs = obs[:1000]
	b.ReportAllocs()
	for b.Loop() {
		inf := New(Config{}, shop, nil)
		for i := 0; i < len(obs); i += 50 {
			inf.Add(obs[i : i+50])
		}
	}
}
