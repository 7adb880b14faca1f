package metric

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

// hostScrape is one scrape of a simulated host: a load that wanders, and
// CPU, run queue and context switches that follow it, with the memory,
// disk and network beside them on their own.
func hostScrape(i int, load float64, rng *rand.Rand, cpuBreak float64) []signal.Sample {
	t := scrape(i)
	n := func(s float64) float64 { return s * rng.NormFloat64() }
	smp := func(name string, labels map[string]string, v float64) signal.Sample {
		return signal.Sample{Time: t, Entity: "node", Name: name, Labels: labels, Value: v}
	}
	return []signal.Sample{
		smp("node_cpu_seconds_rate", map[string]string{"cpu": "0", "mode": "user"}, 0.05+0.4*load+cpuBreak+n(0.01)),
		smp("node_load1", nil, 0.2+2*load+n(0.05)),
		smp("node_context_switches_rate", nil, 1000+4000*load+n(100)),
		smp("node_memory_utilization", nil, 0.4+n(0.005)),
		smp("node_disk_io_time_seconds_rate", map[string]string{"device": "sda"}, 0.02+n(0.003)),
		smp("node_network_receive_bytes_rate", map[string]string{"device": "eth0"}, 5e4+n(5e3)),
	}
}

// wander is a load that drifts within 0.1–0.5, as a healthy host's does.
func wander(rng *rand.Rand, l float64) float64 {
	return min(0.5, max(0.1, l+0.01*rng.NormFloat64()))
}

// runHost feeds hours of a healthy host and then fault scrapes, and
// returns the findings of the fault and how many the healthy part raised
// after its first hour.
func runHost(t *testing.T, cfg Config, seed int64, healthy, fault int, load, cpuBreak float64) (faultObs []signal.Observation, healthyObs int, st *Stage) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	st = NewStage(cfg, nil)
	l := 0.3
	for i := range healthy + fault {
		l = wander(rng, l)
		cur, brk := l, 0.0
		if i >= healthy {
			cur, brk = load, cpuBreak
		}
		for _, o := range st.Process(hostScrape(i, cur, rng, brk)) {
			switch {
			case i >= healthy:
				faultObs = append(faultObs, o)
			case i >= 240:
				healthyObs++
			}
		}
	}
	return faultObs, healthyObs, st
}

// A host whose CPU, load and context switches rise together is one
// finding naming them, where the series' own detectors make one each.
func TestEntityOneFindingForAHost(t *testing.T) {
	const healthy, fault = 8 * 240, 4 // eight hours at 15 s, then a minute at full load
	for seed := int64(1); seed <= 3; seed++ {
		obs, _, st := runHost(t, DefaultConfig(), seed, healthy, fault, 2.5, 0)
		off := DefaultConfig()
		off.EntityMetrics = 0
		alone, _, _ := runHost(t, off, seed, healthy, fault, 2.5, 0)
		if len(alone) < 2 {
			t.Fatalf("seed %d: the series' own detectors made %d findings of the load; the test needs several", seed, len(alone))
		}
		var joint []signal.Observation
		for _, o := range obs {
			if o.Evidence["moved"] != "" {
				joint = append(joint, o)
			}
		}
		if len(joint) == 0 {
			t.Errorf("seed %d: no joint finding; findings: %v", seed, summaries(obs))
			continue
		}
		if len(obs) >= len(alone) {
			t.Errorf("seed %d: %d findings with joint scoring, %d without: nothing was folded", seed, len(obs), len(alone))
		}
		first := joint[0]
		for _, want := range []string{"node_cpu_seconds_rate", "node_load1", "node_context_switches_rate"} {
			if !strings.Contains(first.Evidence["moved"], want) {
				t.Errorf("seed %d: the joint finding does not name %s: moved %q", seed, want, first.Evidence["moved"])
			}
		}
		if strings.Contains(first.Evidence["moved"], "node_memory_utilization") {
			t.Errorf("seed %d: the joint finding names the memory, which did not move: %q", seed, first.Evidence["moved"])
		}
		if s := st.Stats(); s.EntityFolded == 0 || s.EntityRows < healthy-10 {
			t.Errorf("seed %d: stats %+v: want rows scored and findings folded", seed, s)
		}
	}
}

// A healthy host stays as quiet with joint scoring as without it.
func TestEntityHealthyHostQuiet(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		_, with, st := runHost(t, DefaultConfig(), seed, 12*240, 0, 0, 0)
		off := DefaultConfig()
		off.EntityMetrics = 0
		_, without, _ := runHost(t, off, seed, 12*240, 0, 0, 0)
		if with > without {
			t.Errorf("seed %d: %d findings in 11 healthy hours with joint scoring, %d without", seed, with, without)
		}
		if st.Stats().EntityFindings > 2 {
			t.Errorf("seed %d: %d joint findings in 12 healthy hours", seed, st.Stats().EntityFindings)
		}
	}
}

// A CPU busy at a level it has shown, while the load and context switches
// it always follows stay low, is a joint finding on the CPU that the CPU's
// own detector does not make.
func TestEntityBrokenRelation(t *testing.T) {
	found := 0
	for seed := int64(1); seed <= 3; seed++ {
		off := DefaultConfig()
		off.EntityMetrics = 0
		alone, _, _ := runHost(t, off, seed, 24*240, 8, 0.12, 0.13)
		obs, _, _ := runHost(t, DefaultConfig(), seed, 24*240, 8, 0.12, 0.13)
		for _, o := range obs {
			if o.Evidence["feature"] == FeatureJoint && o.Name == "node_cpu_seconds_rate" {
				found++
				t.Logf("seed %d: %s (own detector: %d findings)", seed, o.Summary, len(alone))
				break
			}
		}
	}
	if found < 2 {
		t.Errorf("a broken relation was found on %d of 3 seeds", found)
	}
}

// A Stage with joint scoring off has no joint model; with it, every
// entity of two or more series gets one, and one of a single series none.
func TestEntityMembers(t *testing.T) {
	st := NewStage(DefaultConfig(), nil)
	rng := rand.New(rand.NewSource(1))
	for i := range 3 {
		st.Process(hostScrape(i, 0.3, rng, 0))
		st.Process([]signal.Sample{{Time: scrape(i), Entity: "lonely", Name: "process_cpu_seconds_rate", Value: 0.1}})
	}
	if j := st.joints["node"]; j == nil || j.det == nil || len(j.keys) != 6 {
		t.Fatalf("node: joint model %+v, want one of 6 series", j)
	}
	if j := st.joints["lonely"]; j == nil || !j.solo || j.det != nil {
		t.Errorf("a single-series entity has a joint model: %+v", j)
	}
	cfg := DefaultConfig()
	cfg.EntityMetrics = 2
	st = NewStage(cfg, nil)
	for i := range 3 {
		st.Process(hostScrape(i, 0.3, rng, 0))
	}
	if j := st.joints["node"]; j == nil || len(j.keys) != 2 || j.keys[0].name == j.keys[1].name {
		t.Errorf("EntityMetrics 2: members %+v", j.keys)
	}
	if st.Stats().EntityRows == 0 {
		t.Error("no rows scored")
	}
	cfg.EntityMetrics = -1
	if cfg.Validate() == nil {
		t.Error("EntityMetrics -1 validated")
	}
	if math.IsNaN(st.joints["node"].row[0]) {
		t.Error("a member's value is missing from the row")
	}
}

func summaries(obs []signal.Observation) []string {
	var s []string
	for _, o := range obs {
		s = append(s, o.Summary)
	}
	return s
}
