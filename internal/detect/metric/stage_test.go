package metric

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// TestForecastRamp: memory ramping from 0.4 to 1.0 over 10 minutes is
// forecast well before it reaches 1.0; a flat noisy one never is.
func TestForecastRamp(t *testing.T) {
	const onset, ramp = 360, 120 // 30 min flat, then 10 min (120 points) to 1.0
	for seed := int64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewSource(seed))
		st := NewStage(DefaultConfig(), nil)
		var got []signal.Observation
		for i := range onset + ramp {
			v := 0.4
			if i >= onset {
				v += 0.6 * float64(i-onset) / ramp
			}
			v *= 1 + 0.03*rng.NormFloat64()
			for _, o := range st.Process([]signal.Sample{sample("cart", "memory_utilization", i, v)}) {
				if o.Kind == signal.MetricForecast {
					got = append(got, o)
				}
			}
		}
		if len(got) != 1 {
			t.Errorf("seed %d: %d forecasts, want exactly 1: %v", seed, len(got), got)
			continue
		}
		o := got[0]
		left := at(onset + ramp).Sub(o.Time)
		if left < 3*time.Minute {
			t.Errorf("seed %d: forecast only %v before the limit: %s", seed, left, o)
		}
		if o.Start.Before(at(onset-60)) || o.Start.After(o.Time) || o.Evidence["feature"] != FeatureTrend ||
			o.Entity != "cart" || o.Name != "memory_utilization" || !strings.Contains(o.Summary, "reaches 1 in") {
			t.Errorf("seed %d: malformed forecast %+v", seed, o)
		}
		if seed == 1 {
			t.Logf("%s (%v before the limit)", o, left)
		}
	}
}

func TestForecastFlat(t *testing.T) {
	f := func(level, noise float64) {
		t.Helper()
		for seed := int64(1); seed <= 10; seed++ {
			rng := rand.New(rand.NewSource(seed))
			st := NewStage(DefaultConfig(), nil)
			for i := range 1440 {
				v := min(1, level*(1+noise*rng.NormFloat64()))
				for _, o := range st.Process([]signal.Sample{sample("cart", "memory_utilization", i, v)}) {
					t.Errorf("level %v noise %v seed %d: %s", level, noise, seed, o)
				}
			}
		}
	}
	f(0.5, 0.03)
	f(0.9, 0.03)
	f(0.3, 0.15)
}

// TestForecastOnlyUtilization: other series keep no trend window.
func TestForecastOnlyUtilization(t *testing.T) {
	st := NewStage(DefaultConfig(), nil)
	st.Process([]signal.Sample{sample("a", "disk_utilization", 0, 0.5), sample("a", "latency_p99_ms", 0, 5)})
	for k, s := range st.series {
		if want := strings.HasSuffix(k.name, "_utilization"); (s.d.trendW != nil) != want {
			t.Errorf("%s: forecast %v, want %v", k.name, s.d.trendW != nil, want)
		}
	}
}

func TestStageCounters(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSeries = 2
	st := NewStage(cfg, nil)
	nan := 0.0
	nan = nan / nan
	st.Process([]signal.Sample{
		sample("a", "x", 1, 1),
		sample("a", "x", 2, nan),
		sample("a", "x", 0, 1), // out of order
		{Time: at(1), Entity: "a", Name: "x", Labels: map[string]string{"k": "v"}, Value: 1},
		sample("b", "x", 1, 1), // beyond MaxSeries
	})
	got := st.Stats()
	want := Stats{Series: 2, Samples: 5, NonFinite: 1, OutOfOrder: 1, Dropped: 1}
	if got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if st.Series() != 2 || st.Skipped() != 3 {
		t.Errorf("Series() = %d, Skipped() = %d, want 2, 3", st.Series(), st.Skipped())
	}
	if n := st.Forget(at(2)); n != 2 || st.Series() != 0 {
		t.Errorf("Forget removed %d, %d left, want 2, 0", n, st.Series())
	}
}

// TestStageConcurrent: Process is safe from many goroutines (run with -race).
func TestStageConcurrent(t *testing.T) {
	st := NewStage(DefaultConfig(), nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewSource(int64(g)))
			for i := range 300 {
				batch := make([]signal.Sample, 0, 9)
				for _, p := range profiles {
					batch = append(batch, sample(fmt.Sprintf("svc%d", g), p.name, i, p.healthy(rng, shape{}, i)))
				}
				st.Process(batch)
				_ = st.Stats()
			}
		})
	}
	wg.Wait()
	if got := st.Series(); got != 4*len(profiles) {
		t.Errorf("Series() = %d, want %d", got, 4*len(profiles))
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	f := func(mod func(*Config), fields ...string) {
		t.Helper()
		c := DefaultConfig()
		mod(&c)
		err := c.Validate()
		if err == nil {
			t.Fatalf("%v: no error", fields)
		}
		for _, f := range fields {
			if !strings.Contains(err.Error(), f+" ") {
				t.Errorf("error %q does not name %s", err, f)
			}
		}
	}
	f(func(c *Config) { c.WarmUp = 0 }, "WarmUp")
	f(func(c *Config) { c.Threshold = 1.5; c.LevelAlpha = 0; c.Hold = 0 }, "Threshold", "LevelAlpha", "Hold")
	f(func(c *Config) { c.SeasonBuckets = 5000; c.ForecastWindow = 2 }, "SeasonBuckets", "ForecastWindow")
	f(func(c *Config) { c.ForecastHorizon = 0; c.MaxSeries = 0; c.Repeat = -1 }, "ForecastHorizon", "MaxSeries", "Repeat")
	f(func(c *Config) { c.ReportGain = 0.5; c.RangeWarmUp = -1 }, "ReportGain", "RangeWarmUp")
	if d, err := NewDetector(Config{}); d != nil || err == nil {
		t.Errorf("NewDetector(Config{}) = %v, %v; want an error, not the defaults", d, err)
	}
	var joined interface{ Unwrap() []error }
	c := DefaultConfig()
	c.Decades, c.Band = 0, -1
	if err := c.Validate(); !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Errorf("want two joined errors, got %v", err)
	}
	// An invalid config falls back to defaults rather than failing the engine.
	if st := NewStage(Config{}, nil); st.cfg.WarmUp != DefaultConfig().WarmUp {
		t.Errorf("invalid config not replaced by defaults")
	}
}

func TestNum(t *testing.T) {
	f := func(v float64, want string) {
		t.Helper()
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
	f(850, "850")
	f(120.4, "120")
	f(0.2, "0.2")
	f(0.00512, "0.00512")
	f(3.14159, "3.14")
	f(0, "0")
	f(2.5e7, "2.5e+07")
}

// TestForecastFastRamp: a memory blow-up on a GC sawtooth, scraped every
// 10 s (4 minutes from its usual level to the limit), is forecast within
// five scrapes of its start, dated by its start, before the window's fit
// sees it.
func TestForecastFastRamp(t *testing.T) {
	const onset, ramp = 180, 24 // points of 10 s: 30 min of sawtooth first
	for seed := int64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewSource(seed))
		st := NewStage(DefaultConfig(), nil)
		fired := -1
		for i := range onset + ramp {
			level := 0.5
			if i >= onset {
				level += 0.5 * float64(i-onset) / ramp
			}
			saw := 0.06 * float64(i%10) / 10 * (1 - level) / 0.5
			v := level + saw + 0.004*rng.NormFloat64()
			for _, o := range st.Process([]signal.Sample{sample("cart", "memory_utilization", 2*i, v)}) {
				if o.Kind != signal.MetricForecast || fired >= 0 {
					continue
				}
				fired = i
				if i < onset || o.Start.Before(at(2*onset-2)) {
					t.Errorf("seed %d: forecast at point %d dated %v, before the onset %v: %s", seed, i, o.Start, at(2*onset), o)
				}
			}
		}
		if fired < 0 || fired > onset+5 {
			t.Errorf("seed %d: forecast at point %d, want within 5 points of %d", seed, fired, onset)
		}
	}
}

// TestEscalationReported: an anomalous run that worsens well beyond what was
// reported is reported again at once, not after Repeat; one that merely
// stays bad is not.
func TestEscalationReported(t *testing.T) {
	st := NewStage(DefaultConfig(), nil)
	rng := rand.New(rand.NewSource(3))
	var got []signal.Observation
	for i := range 400 {
		v := 0.4 + 0.002*rng.NormFloat64()
		if i >= 360 {
			v += 0.004 * float64(i-359) * float64(i-359) // a disk filling ever faster
		}
		got = append(got, st.Process([]signal.Sample{sample("db", "disk_used", i, v)})...)
	}
	var anomalies []signal.Observation
	for _, o := range got {
		if o.Kind == signal.MetricAnomaly {
			anomalies = append(anomalies, o)
		}
	}
	if len(anomalies) < 2 || anomalies[1].Time.Sub(anomalies[0].Time) >= DefaultConfig().Repeat || anomalies[1].Score < anomalies[0].Score*DefaultConfig().ReportGain {
		t.Fatalf("escalation not reported at once: %v", anomalies)
	}
	soon := 0
	for i := 1; i < len(anomalies); i++ {
		if anomalies[i].Time.Sub(anomalies[i-1].Time) < DefaultConfig().Repeat {
			soon++
		}
	}
	if soon > 2 {
		t.Errorf("%d escalations reported within Repeat of the last, want at most 2: %v", soon, anomalies)
	}
}
