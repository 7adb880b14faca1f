package metric

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// scrape is the time of the i-th scrape of a node_exporter at 15 s.
func scrape(i int) time.Time { return t0.Add(time.Duration(i) * 15 * time.Second) }

// A CPU at 100 % after hours of a noisy 20–60 % is an anomaly within a
// minute, and the finding names the CPU and the mode.
func TestCPUStepAfterNoisyHours(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewSource(seed))
		st := NewStage(DefaultConfig(), nil)
		labels := map[string]string{"cpu": "0", "mode": "user"}
		const hours = 3 * 240
		var first *signal.Observation
		for i := range hours + 8 {
			v := 0.2 + 0.4*rng.Float64()
			if i >= hours {
				v = 1
			}
			for _, o := range st.Process([]signal.Sample{{Time: scrape(i), Entity: "node", Name: "node_cpu_seconds_rate", Labels: labels, Value: v}}) {
				if o.Kind == signal.MetricAnomaly && i >= hours && first == nil {
					first = &o
				}
			}
		}
		if first == nil {
			t.Errorf("seed %d: no anomaly within 2 minutes of 100 %% CPU", seed)
			continue
		}
		if d := first.Time.Sub(scrape(hours)); d > time.Minute {
			t.Errorf("seed %d: the anomaly came %v after the step", seed, d)
		}
		if first.Evidence["label.cpu"] != "0" || first.Evidence["label.mode"] != "user" ||
			!strings.HasPrefix(first.Summary, `node_cpu_seconds_rate{cpu="0",mode="user"} 1 above`) {
			t.Errorf("seed %d: the finding does not name its series: %s %v", seed, first.Summary, first.Evidence)
		}
	}
}

// A chronically noisy series (one that flaps between two levels every few
// minutes, as a request latency does when a dependency times out) stays
// within its budget, well under one finding per 10 minutes after its first
// hour, where without the budget it makes more; a new level beyond every
// flap is still reported at once.
func TestBudget(t *testing.T) {
	run := func(cfg Config, seed int64) (late int, step bool) {
		rng := rand.New(rand.NewSource(seed))
		st := NewStage(cfg, nil)
		const n, stepAt = 6 * 240, 6*240 - 20 // six hours
		high := 0.0
		for i := range n {
			if rng.Float64() < 0.01 {
				high = 1 - high
			}
			v := 100 + 200*high + 5*rng.NormFloat64()
			if i >= stepAt {
				v = 100000
			}
			for range st.Process([]signal.Sample{{Time: scrape(i), Entity: "api", Name: "http_server_request_duration_seconds", Value: v}}) {
				switch {
				case i >= stepAt && i < stepAt+4:
					step = true
				case i >= 240 && i < stepAt:
					late++
				}
			}
		}
		return late, step
	}
	off := DefaultConfig()
	off.Budget = 0
	worse := 0
	for seed := int64(1); seed <= 5; seed++ {
		late, step := run(DefaultConfig(), seed)
		// Five hours of flapping: at most one finding per half hour.
		if late > 10 {
			t.Errorf("seed %d: %d findings in 5 noisy hours with the budget, want <= 10", seed, late)
		}
		if !step {
			t.Errorf("seed %d: the new level was not reported within a minute", seed)
		}
		unbudgeted, _ := run(off, seed)
		if unbudgeted > late {
			worse++
		}
		t.Logf("seed %d: %d findings in 5 hours with the budget, %d without", seed, late, unbudgeted)
	}
	if worse == 0 {
		t.Error("the budget never spared a finding: the test does not test it")
	}
}

// A file system filling at 3 MB/s is forecast from its parts (avail and
// size per mount point) within a minute, the mount point named; the
// expected range of a series that is never negative is never negative.
func TestDerivedDiskSaturation(t *testing.T) {
	st := NewStage(DefaultConfig(), nil)
	const size, healthy = 256 << 20, 120
	labels := map[string]string{"mountpoint": "/mnt/fill", "fstype": "tmpfs", "device": "tmpfs"}
	var forecast, anomaly *signal.Observation
	for i := range healthy + 20 {
		avail := float64(size - 10<<20)
		if i >= healthy {
			avail -= float64((i - healthy) * 15 * 3 << 20)
		}
		avail = max(0, avail)
		for _, o := range st.Process([]signal.Sample{
			{Time: scrape(i), Entity: "node", Name: "node_filesystem_avail_bytes", Labels: labels, Value: avail},
			{Time: scrape(i), Entity: "node", Name: "node_filesystem_size_bytes", Labels: labels, Value: size},
		}) {
			if o.Name != "node_filesystem_utilization" {
				continue
			}
			if o.Kind == signal.MetricForecast && forecast == nil {
				forecast = &o
			}
			if o.Kind == signal.MetricAnomaly && anomaly == nil {
				anomaly = &o
			}
		}
	}
	if forecast == nil || forecast.Time.Sub(scrape(healthy)) > time.Minute {
		t.Fatalf("no forecast within a minute of the fill: %+v", forecast)
	}
	if forecast.Evidence["label.mountpoint"] != "/mnt/fill" || forecast.High != 1 {
		t.Errorf("the forecast does not name the mount point or the limit: %+v", forecast)
	}
	if anomaly == nil || anomaly.Low < 0 || anomaly.Expected < 0 {
		t.Errorf("anomaly %+v; want one with a range not below 0", anomaly)
	}
	if st.Stats().Derived != healthy+20 {
		t.Errorf("derived %d samples, want %d", st.Stats().Derived, healthy+20)
	}
}

// One entity with a label of unbounded values is cut at
// MaxSeriesPerEntity series and counted; a finding carries at most
// MaxLabels labels and says how many it left off.
func TestBounds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSeriesPerEntity, cfg.MaxLabels = 10, 2
	st := NewStage(cfg, nil)
	for i := range 20 {
		st.Process([]signal.Sample{{Time: scrape(0), Entity: "api", Name: "hits", Labels: map[string]string{"path": string(rune('a' + i))}, Value: 1}})
	}
	st.Process([]signal.Sample{{Time: scrape(0), Entity: "db", Name: "hits", Value: 1}})
	if s := st.Stats(); s.Series != 11 || s.EntityCut != 10 {
		t.Errorf("series %d, cut %d; want 11 and 10", s.Series, s.EntityCut)
	}
	o := signal.Observation{Name: "x", Summary: "x 1 above", Evidence: map[string]string{}}
	st.labels(&o, map[string]string{"a": "1", "b": "2", "c": "3"})
	if o.Evidence["labels_cut"] != "1" || o.Evidence["label.c"] != "" || o.Summary != `x{a="1",b="2",…1 more} 1 above` {
		t.Errorf("bounded labels: %+v", o)
	}
}

// A duration in seconds that moves by microseconds to a few milliseconds
// (a scrape collector) makes no finding: below a millisecond a time is no
// news, whatever its own noise.
func TestTimeFloor(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	st := NewStage(DefaultConfig(), nil)
	n := 0
	for i := range 400 {
		v := 4e-5 + 1e-5*rng.Float64()
		if i%97 == 96 {
			v = 0.002
		}
		n += len(st.Process([]signal.Sample{{Time: scrape(i), Entity: "api", Name: "http_server_request_duration_seconds", Value: v}}))
	}
	if n != 0 {
		t.Errorf("%d findings of millisecond blips", n)
	}
	// The same blips in a series of no time unit are findings.
	st = NewStage(DefaultConfig(), nil)
	n = 0
	for i := range 400 {
		v := 4e-5 + 1e-5*rng.Float64()
		if i%97 == 96 {
			v = 0.002
		}
		n += len(st.Process([]signal.Sample{{Time: scrape(i), Entity: "node", Name: "node_load1", Value: v}}))
	}
	if n == 0 {
		t.Error("the control series made no finding: the test does not test the floor")
	}
}

// The budget does not apply to up and restarts: with no token left and no
// new level, a flapping service's next fall is still reported; another
// series' is not.
func TestBudgetSparesUp(t *testing.T) {
	st := NewStage(DefaultConfig(), nil)
	for _, c := range []struct {
		name string
		want bool
	}{{"up", true}, {"kube_pod_container_status_restarts", true}, {"queue_depth", false}} {
		ser := st.newSeries(key{entity: "flaky", name: c.name}, &signal.Sample{Name: c.name})
		ser.tokens, ser.seenHi, ser.lo, ser.hi = 0, true, 0, 1
		if got := st.spend(ser, 0); got != c.want {
			t.Errorf("%s: reported %v with no token and no new level, want %v", c.name, got, c.want)
		}
	}
}

// TestUnjudgedSeriesMakeNoFinding: a step in a series whose meaning tells
// no trouble (a counter of unknown meaning, network throughput) or in the
// direction that is none (a load that falls) is learned and counted, not
// reported; the same step up in the CPU is a finding.
func TestUnjudgedSeriesMakeNoFinding(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	st := NewStage(DefaultConfig(), nil)
	got := map[string]int{}
	for i := range 400 {
		v := 10 * (1 + 0.05*rng.NormFloat64())
		if i >= 380 {
			v = 100
		}
		for _, name := range []string{"node_netstat_Tcp_ActiveOpens_rate", "node_network_receive_bytes_rate", "node_cpu_seconds_rate"} {
			for _, o := range st.Process([]signal.Sample{{Time: scrape(i), Entity: "node", Name: name, Value: v}}) {
				got[o.Name]++
			}
		}
		// A load that falls is no trouble.
		for _, o := range st.Process([]signal.Sample{{Time: scrape(i), Entity: "node", Name: "node_load1", Value: 1000 / v}}) {
			got[o.Name]++
		}
	}
	if got["node_cpu_seconds_rate"] == 0 || len(got) != 1 {
		t.Errorf("findings %v, want the CPU's alone", got)
	}
	if st.Stats().Unjudged != 3 {
		t.Errorf("unjudged runs %d, want 3", st.Stats().Unjudged)
	}
}
