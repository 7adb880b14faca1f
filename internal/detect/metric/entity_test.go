package metric

import (
	"math"
	"math/rand"
	"runtime"
	"strings"
	"testing"
)

func TestEntityConfigValidate(t *testing.T) {
	if err := DefaultEntityConfig().Validate(); err != nil {
		t.Fatalf("the default: %v", err)
	}
	f := func(change func(*EntityConfig), field string) {
		t.Helper()
		c := DefaultEntityConfig()
		change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: got %v, want an error naming it", field, err)
		}
		if _, err := NewEntity(c, 3); err == nil {
			t.Errorf("%s: NewEntity accepted an invalid config", field)
		}
	}
	f(func(c *EntityConfig) { c.Threshold = 0 }, "Threshold")
	f(func(c *EntityConfig) { c.HalfDecades = math.NaN() }, "HalfDecades")
	f(func(c *EntityConfig) { c.Smooth = 0 }, "Smooth")
	f(func(c *EntityConfig) { c.Refit = 0 }, "Refit")
	f(func(c *EntityConfig) { c.FastAlpha = 2 }, "FastAlpha")
	if _, err := NewEntity(DefaultEntityConfig(), 0); err == nil {
		t.Error("NewEntity accepted 0 metrics")
	}
}

func TestEigenSolve(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	const n = 7
	// A random symmetric matrix B·Bᵀ.
	b := make([]float64, n*n)
	for i := range b {
		b[i] = rng.NormFloat64()
	}
	m := make([]float64, n*n)
	for i := range n {
		for j := range n {
			for k := range n {
				m[i*n+j] += b[i*n+k] * b[j*n+k]
			}
		}
	}
	s := newEigenScratch(n)
	copy(s.a, m)
	vals, order := s.solve(n)
	for c := range n {
		if c > 0 && vals[c] > vals[c-1] {
			t.Fatalf("eigenvalues not decreasing: %v", vals)
		}
		// m·v = λ·v
		for i := range n {
			var mv float64
			for j := range n {
				mv += m[i*n+j] * s.v[j*n+order[c]]
			}
			if d := mv - vals[c]*s.v[i*n+order[c]]; math.Abs(d) > 1e-8*(1+math.Abs(vals[0])) {
				t.Fatalf("eigenpair %d off by %g", c, d)
			}
		}
	}
}

// correlated returns a row of n metrics driven by two hidden factors.
func correlated(rng *rand.Rand, n int, row []float64) {
	f1, f2 := rng.NormFloat64(), rng.NormFloat64()
	for j := range n {
		w := float64(j) / float64(n)
		row[j] = 0.5 + 0.1*(w*f1+(1-w)*f2) + 0.005*rng.NormFloat64()
	}
}

func TestEntityBreakInCorrelation(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const n = 12
	e, err := NewEntity(DefaultEntityConfig(), n)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]float64, n)
	var highest float64
	for range 5000 {
		correlated(rng, n, row)
		if r := e.Observe(row); r.Anomalous {
			highest = max(highest, r.Score)
		}
	}
	// The same rows, but metric 3 leaves the others: each value on its own
	// stays inside its usual range.
	var got EntityResult
	for range 3 {
		correlated(rng, n, row)
		row[3] = min(max(0.5-3*(row[n-1]-0.5), 0.3), 0.7)
		got = e.Observe(row)
	}
	if !got.Anomalous || got.Metric != 3 {
		t.Fatalf("a metric that broke from the others: %+v, want anomalous, metric 3", got)
	}
	if moved := e.Moved(nil, 0.5); len(moved) == 0 || moved[0] != 3 {
		t.Errorf("Moved = %v, want 3 first", moved)
	}
	t.Logf("healthy rows alarmed up to %.2f; the break scores %.2f", highest, got.Score)
}

func TestEntityCalibrated(t *testing.T) {
	// On healthy rows the calibrated score alarms on about the share its
	// threshold stands for, whatever the entity's scale and noise.
	for _, scale := range []float64{1e-3, 1, 1e6} {
		rng := rand.New(rand.NewSource(2))
		const n = 8
		e, err := NewEntity(DefaultEntityConfig(), n)
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float64, n)
		alarms, rows := 0, 0
		for i := range 20000 {
			correlated(rng, n, row)
			for j := range row {
				row[j] *= scale
			}
			if r := e.Observe(row); i >= 5000 {
				rows++
				if r.Anomalous {
					alarms++
				}
			}
		}
		// 0.5 at HalfDecades 1.5: p = 10^-1.5 ≈ 3 %.
		if rate := float64(alarms) / float64(rows); rate < 0.01 || rate > 0.06 {
			t.Errorf("scale %g: %.3f of healthy rows alarmed, want about 0.03", scale, rate)
		}
	}
}

func TestEntityNaN(t *testing.T) {
	e, err := NewEntity(DefaultEntityConfig(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.Observe([]float64{1, 2}); r != (EntityResult{}) || e.Skipped() != 1 || e.Rows() != 0 {
		t.Fatalf("a short row: %+v, skipped %d, rows %d", r, e.Skipped(), e.Rows())
	}
	for i := range 1000 {
		r := e.Observe([]float64{float64(i % 7), math.NaN(), math.Inf(1)})
		if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
			t.Fatalf("row %d: score %v", i, r.Score)
		}
	}
}

// BenchmarkEntityObserve is the cost of one row of a 38-metric entity
// (SMD's width); ns/metric is per value.
func BenchmarkEntityObserve(b *testing.B) {
	const n = 38
	rng := rand.New(rand.NewSource(1))
	rows := make([][]float64, 1024)
	for i := range rows {
		rows[i] = make([]float64, n)
		correlated(rng, n, rows[i])
	}
	e, err := NewEntity(DefaultEntityConfig(), n)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e.Observe(rows[i&1023])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/metric")
}

// BenchmarkEntityStateBytes reports the heap held by a 38-metric entity.
func BenchmarkEntityStateBytes(b *testing.B) {
	const n = 38
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e, err := NewEntity(DefaultEntityConfig(), n)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for b.Loop() {
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "B/entity")
	runtime.KeepAlive(e)
}
