package sim

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func newBig(t testing.TB, mod func(*Config)) *World {
	t.Helper()
	cfg := DefaultConfig()
	cfg.MetricInterval = 10 * time.Second
	cfg.Detail = true
	if mod != nil {
		mod(&cfg)
	}
	w, err := New(cfg, Shop())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestBigShopHealthy(t *testing.T) {
	w := newBig(t, nil)
	r := record(w, 20*time.Minute)
	for _, s := range w.Services() {
		if w.Kind(s) == "external" {
			if _, ok := r.series[s+"/up"]; ok {
				t.Errorf("external %s has metrics", s)
			}
			continue
		}
		if m := r.mean(s, "error_ratio"); m > 0.02 {
			t.Errorf("%s: error ratio %.4f", s, m)
		}
		if m := r.mean(s, "cpu_utilization"); m > 0.7 {
			t.Errorf("%s: cpu %.2f", s, m)
		}
		if m := r.mean(s, "request_rate"); m == 0 {
			t.Errorf("%s: no requests", s)
		}
		t.Logf("%-12s rate %6.1f p50 %6.1f p99 %6.1f cpu %.2f err %.4f", s, r.mean(s, "request_rate"), r.mean(s, "latency_p50_ms"), r.mean(s, "latency_p99_ms"), r.mean(s, "cpu_utilization"), r.mean(s, "error_ratio"))
	}
	for _, bad := range []string{"timeout", "refused", "OutOfMemory", "panic:", "slow ", "no space", "pool after"} {
		if n := r.logsWith("", bad); n > 0 {
			t.Errorf("healthy run logged %d lines with %q", n, bad)
		}
	}
}

func TestTopologyValidate(t *testing.T) {
	f := func(mod func(*Topology), want ...string) {
		t.Helper()
		topo := Shop()
		mod(&topo)
		wantErrors(t, topo.Validate(), want...)
	}
	f(func(*Topology) {})
	f(func(t *Topology) { t.Services[0].Kind = "mainframe" }, "kind \"mainframe\"")
	f(func(t *Topology) { t.Services[9].Calls = []CallSpec{{To: "frontend"}} }, "cycle")
	f(func(t *Topology) { t.Services[1].Calls[0].To = "nowhere"; t.Entries = nil }, "\"nowhere\"", "no entries")
	f(func(t *Topology) { t.Services[1].Calls[0].Retries = 9; t.Services[2].Name = "db" }, "retries", "twice")
	f(func(t *Topology) { t.Services[11].Consumer = "mailer" }, "consumer")
}

func TestTemplatesPerKind(t *testing.T) {
	for k := kindWeb; k < kindExternal; k++ {
		seen := map[string]bool{}
		for _, s := range templatesOf(k) {
			seen[s] = true
		}
		if len(seen) < 20 {
			t.Errorf("kind %s has %d templates, want >= 20", kindNames[k], len(seen))
		}
	}
}

func TestRandom(t *testing.T) {
	for seed := range int64(12) {
		spec := RandomSpec{Services: 8 + int(seed)*2, Depth: 1 + int(seed)%4, FanOut: 1 + int(seed)%4}
		topo, err := Random(spec, seed)
		if err != nil {
			t.Fatalf("spec %+v seed %d: %v", spec, seed, err)
		}
		if len(topo.Services) != spec.Services {
			t.Errorf("seed %d: %d services, want %d", seed, len(topo.Services), spec.Services)
		}
		again, _ := Random(spec, seed)
		if fmt.Sprint(again) != fmt.Sprint(topo) {
			t.Fatalf("seed %d: two different topologies", seed)
		}
		w, err := New(DefaultConfig(), topo)
		if err != nil {
			t.Fatal(err)
		}
		r := record(w, 20*time.Second)
		for _, s := range w.Services() {
			if w.Kind(s) != "external" && r.mean(s, "up") != 1 {
				t.Errorf("seed %d: %s never up", seed, s)
			}
		}
	}
	if _, err := Random(RandomSpec{Services: 2}, 1); err == nil {
		t.Error("accepted 2 services")
	}
}

// BenchmarkBigShopHour is the yardstick: one simulated hour of the
// big shop, metrics every 10 s with detail, all logs, 1 % of traces.
func BenchmarkBigShopHour(b *testing.B) {
	b.ReportAllocs()
	var n int
	for b.Loop() {
		w := newBig(b, func(c *Config) { c.TraceSampling = 0.01 })
		for range 3600 {
			bt := w.Step()
			n += bt.Len()
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "wall-s/sim-hour")
	b.ReportMetric(float64(n)/float64(b.N), "signals/sim-hour")
}

// BenchmarkBigShopDayMemory runs a simulated day with faults coming and
// going and reports the live heap after the first hour and at the end: a
// flat memory shows as a growth near zero.
func BenchmarkBigShopDayMemory(b *testing.B) {
	for b.Loop() {
		w := newBig(b, func(c *Config) {
			c.TraceSampling = 0.01
			c.Traffic = Traffic{Daily: 0.4, Weekly: 0.2, Noise: 0.05, Bursts: 1, BurstSize: 0.5}
		})
		kinds := AllFaultKinds()
		targets := map[FaultKind]Fault{
			FaultSlowQuery: {Target: "db"}, FaultExternal: {Target: "payprovider"}, FaultSurge: {Target: "frontend"},
			FaultNetLoss: {Target: "payment", Peer: "checkout"}, FaultPartition: {Target: "db", Peer: "catalog"},
			FaultPool: {Target: "user"},
		}
		for i := range 22 {
			k := kinds[i%len(kinds)]
			f := targets[k]
			if f.Target == "" {
				f.Target = "catalog"
			}
			f.Kind, f.Start, f.Duration = k, w.Now().Add(time.Duration(i)*time.Hour+30*time.Minute), 15*time.Minute
			if err := w.Inject(f); err != nil {
				b.Fatal(err)
			}
		}
		heap := func() float64 {
			var m runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m)
			return float64(m.HeapAlloc)
		}
		var h1 float64
		for i := range 24 * 3600 {
			w.Step()
			if i == 3600 {
				h1 = heap()
			}
		}
		b.ReportMetric(h1/1e6, "heap-MB@1h")
		b.ReportMetric(heap()/1e6, "heap-MB@24h")
	}
}
