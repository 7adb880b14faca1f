package metric

import (
	"math/rand"
	"runtime"
	"strconv"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

func benchObserve(b *testing.B, cfg Config) {
	rng := rand.New(rand.NewSource(1))
	vals := make([]float64, 4096)
	for i := range vals {
		vals[i] = 100 * (1 + 0.1*rng.NormFloat64())
	}
	d := newDetector(cfg)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d.Observe(at(i), vals[i&4095])
	}
}

// BenchmarkDetectorObserve is the cost of one point of an ordinary series.
func BenchmarkDetectorObserve(b *testing.B) { benchObserve(b, DefaultConfig()) }

// BenchmarkDetectorObserveForecast adds the exhaustion forecast of a
// utilization series.
func BenchmarkDetectorObserveForecast(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Forecast = true
	benchObserve(b, cfg)
}

// BenchmarkStageProcess is the cost per sample through the Stage, 100
// series in batches of 100.
func BenchmarkStageProcess(b *testing.B) {
	st := NewStage(DefaultConfig(), nil)
	rng := rand.New(rand.NewSource(1))
	batch := make([]signal.Sample, 100)
	for i := range batch {
		batch[i] = signal.Sample{Entity: "svc" + string(rune('a'+i%26)), Name: profiles[i%len(profiles)].name}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range batch {
			batch[j].Time = at(i)
			batch[j].Value = 100 * (1 + 0.1*rng.NormFloat64())
		}
		st.Process(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/sample")
}

// BenchmarkStateBytes reports the heap held per series by a Detector that
// has seen enough points to fill all its buffers.
func BenchmarkStateBytes(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		b.ReportMetric(stateBytes(DefaultConfig(), 200), "bytes/series")
		cfg := DefaultConfig()
		cfg.Forecast = true
		b.ReportMetric(stateBytes(cfg, 200), "bytes/utilization-series")
	}
}

// stateBytes measures the heap held by n detectors.
func stateBytes(cfg Config, n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ds := make([]*Detector, n)
	for i := range ds {
		ds[i] = newDetector(cfg)
		for j := range 100 {
			ds[i].Observe(at(j), float64(j%7))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ds)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

func TestStateBytes(t *testing.T) {
	got := stateBytes(DefaultConfig(), 500)
	t.Logf("%.0f bytes per series", got)
	if got > 4096 {
		t.Errorf("%.0f bytes of state per series, want <= 4096", got)
	}
}

// BenchmarkStageJoint is the cost per sample through the Stage of hosts of
// 32 series each scored jointly too (Config.EntityMetrics), and the heap a
// host's joint model holds; BenchmarkStageProcess is the same Stage on
// entities of 4 series.
func BenchmarkStageJoint(b *testing.B) {
	for _, on := range []bool{true, false} {
		name := "joint"
		if !on {
			name = "alone"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			if !on {
				cfg.EntityMetrics = 0
			}
			st := NewStage(cfg, nil)
			rng := rand.New(rand.NewSource(1))
			const hosts, per = 4, 32
			batch := make([]signal.Sample, hosts*per)
			for i := range batch {
				batch[i] = signal.Sample{Entity: "host" + strconv.Itoa(i/per), Name: "node_cpu_seconds_rate",
					Labels: map[string]string{"cpu": strconv.Itoa(i % per), "mode": "user"}}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				for j := range batch {
					batch[j].Time = at(i)
					batch[j].Value = 0.3 + 0.05*rng.NormFloat64()
				}
				st.Process(batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/sample")
		})
	}
}

// TestJointStateBytes bounds the heap a 32-series joint model holds: 4n²
// numbers and the calibration.
func TestJointStateBytes(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 50
	es := make([]*Entity, n)
	row := make([]float64, 32)
	for i := range es {
		es[i], _ = NewEntity(DefaultEntityConfig(), 32)
		for r := range 300 {
			for j := range row {
				row[j] = float64((r + j) % 7)
			}
			es[i].Observe(row)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(es)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes a 32-series entity, %.0f a series", per, per/32)
	if per/32 > 1536 {
		t.Errorf("%.0f bytes of joint state a series, want <= 1536", per/32)
	}
}
