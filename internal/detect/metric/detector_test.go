package metric

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestWarmUpIsShort(t *testing.T) {
	if w := DefaultConfig().WarmUp; w > 60 {
		t.Fatalf("warm-up %d points, want <= 60", w)
	}
}

// TestHealthyNoAlarm: healthy, noisy two-hour series, plain, seasonal and
// trending, raise no alarm after warm-up.
func TestHealthyNoAlarm(t *testing.T) {
	const n = 1440 // two hours of 5 s points
	shapes := map[string]shape{
		"flat":          {},
		"seasonal":      {period: 1440, amp: 0.2},
		"seasonal-hour": {period: 720, amp: 0.2},
		"seasonal-fast": {period: 240, amp: 0.3},
		"trend":         {rise: 0.2, n: n},
		"both":          {period: 1440, amp: 0.2, rise: 0.2, n: n},
	}
	cfg := DefaultConfig()
	for sname, sh := range shapes {
		for _, p := range profiles {
			for seed := int64(1); seed <= 8; seed++ {
				rng := rand.New(rand.NewSource(seed))
				c := cfg
				c.Forecast = strings.HasSuffix(p.name, "_utilization")
				d := newDetector(c)
				for i := range n {
					v := p.healthy(rng, sh, i)
					r := d.Observe(at(i), v)
					if r.Anomalous {
						t.Errorf("%s/%s seed %d: alarm at point %d: v=%.4g expected %.4g [%.4g,%.4g] score %.2f (%s)",
							sname, p.name, seed, i, v, r.Expected, r.Low, r.High, r.Score, r.Feature)
						break
					}
					// A strong 20-minute cycle's upswing is, within the
					// forecast window, a leak; only an alarm is wrong there.
					if r.Forecast.Fired && sname != "seasonal-fast" {
						t.Errorf("%s/%s seed %d: forecast at point %d: %+v", sname, p.name, seed, i, r.Forecast)
						break
					}
				}
			}
		}
	}
}

// TestFaultsDetected: each fault is detected within 2 points of onset and
// the observation's Start is the onset point.
func TestFaultsDetected(t *testing.T) {
	const onset = 720
	byName := map[string]profile{}
	for _, p := range profiles {
		byName[p.name] = p
	}
	f := func(name string, fault func(v float64) float64) {
		t.Helper()
		for seed := int64(1); seed <= 10; seed++ {
			p := byName[name]
			rng := rand.New(rand.NewSource(seed))
			st := NewStage(DefaultConfig(), nil)
			var first *signal.Observation
			for i := range onset + 60 {
				v := p.healthy(rng, shape{}, i)
				if i >= onset {
					v = fault(v)
				}
				obs := st.Process([]signal.Sample{sample("checkout", name, i, v)})
				for _, o := range obs {
					if o.Kind != signal.MetricAnomaly {
						continue
					}
					if i < onset {
						t.Errorf("%s seed %d: false alarm before onset at %d: %s", name, seed, i, o)
					}
					if first == nil {
						first = &o
					}
				}
			}
			if first == nil {
				t.Errorf("%s seed %d: not detected", name, seed)
				continue
			}
			if lag := int(first.Time.Sub(at(onset)) / step); lag < 0 || lag > 2 {
				t.Errorf("%s seed %d: detected %d points after onset, want <= 2", name, seed, lag)
			}
			if !first.Start.Equal(at(onset)) {
				t.Errorf("%s seed %d: Start %v, want onset %v", name, seed, first.Start, at(onset))
			}
			if first.Entity != "checkout" || first.Name != name || first.Evidence["feature"] == "" ||
				first.Evidence["direction"] == "" || first.Summary == "" || first.Score < 0.5 || first.Score > 1 {
				t.Errorf("%s seed %d: malformed observation %+v", name, seed, *first)
			}
		}
	}
	f("latency_p99_ms", func(v float64) float64 { return 3 * v })
	f("latency_p50_ms", func(v float64) float64 { return 3 * v })
	f("error_ratio", func(v float64) float64 { return v / 0.005 * 0.2 })
	f("request_rate", func(float64) float64 { return 0 })
	f("cpu_utilization", func(v float64) float64 { return v / 0.3 * 0.95 })
	f("up", func(float64) float64 { return 0 })
}

// TestDirection: a drop is reported down, a rise up, with a readable summary.
func TestDirection(t *testing.T) {
	f := func(factor float64, want, where string) {
		t.Helper()
		rng := rand.New(rand.NewSource(7))
		st := NewStage(DefaultConfig(), nil)
		var got []signal.Observation
		for i := range 300 {
			v := 100 * (1 + 0.05*rng.NormFloat64())
			if i >= 200 {
				v *= factor
			}
			got = append(got, st.Process([]signal.Sample{sample("api", "request_rate", i, v)})...)
		}
		if len(got) == 0 {
			t.Fatalf("factor %v: no observation", factor)
		}
		o := got[0]
		if o.Direction() != want || !strings.Contains(o.Summary, where) || !strings.HasPrefix(o.Summary, "request_rate ") {
			t.Errorf("factor %v: direction %q summary %q, want %q and %q", factor, o.Direction(), o.Summary, want, where)
		}
	}
	f(0.2, Down, "below expected")
	f(3, Up, "above expected")
}

// TestConstantSeries: zero variance does not alarm on float noise but does
// on a real change, on its second point (a series that never moved cannot
// tell its first blip from a change by one point), dated to its first.
func TestConstantSeries(t *testing.T) {
	f := func(noise, after float64, wantAlarm bool) {
		t.Helper()
		rng := rand.New(rand.NewSource(3))
		d := newDetector(DefaultConfig())
		alarmed := -1
		var start time.Time
		for i := range 600 {
			v := 1 + noise*rng.NormFloat64()
			if i >= 500 {
				v = after + noise*rng.NormFloat64()
			}
			if r := d.Observe(at(i), v); r.Anomalous && alarmed < 0 {
				alarmed, start = i, r.Start
			}
		}
		switch {
		case wantAlarm && (alarmed != 501 || !start.Equal(at(500))):
			t.Errorf("noise %g, 1→%g: first alarm at %d from %v, want 501 from %v", noise, after, alarmed, start, at(500))
		case !wantAlarm && alarmed >= 0:
			t.Errorf("noise %g, 1→%g: alarm at %d, want none", noise, after, alarmed)
		}
	}
	f(0, 1, false)
	f(1e-12, 1, false)
	f(1e-9, 1+1e-6, false)
	f(0, 0, true)
	f(1e-12, 0, true)
	f(0, 2, true)
}

// TestSparseSeries: a series that is 0 most of the time and blips now and
// then (an error ratio at a low request rate) learns its blips, however
// improbable each is for a Gaussian, and still sees a fault at once.
func TestSparseSeries(t *testing.T) {
	for seed := int64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewSource(seed))
		st := NewStage(DefaultConfig(), nil)
		blip := func() float64 {
			if rng.Float64() < 0.04 {
				return 1 / float64(7+rng.Intn(8)) // one error among 7..14 requests
			}
			return 0
		}
		var seen []signal.Observation
		for i := range 1440 + 3 {
			v := blip()
			if i >= 1440 {
				v = 0.4 + 0.1*rng.NormFloat64()
			}
			for _, o := range st.Process([]signal.Sample{sample("payment", "error_ratio", i, v)}) {
				if i < 1440 && i >= 120 {
					t.Errorf("seed %d: false alarm at %d: %s", seed, i, o.Summary)
				}
				seen = append(seen, o)
			}
		}
		if len(seen) == 0 || !seen[len(seen)-1].Time.After(at(1439)) {
			t.Errorf("seed %d: fault not seen within 3 points", seed)
		}
	}
}

// TestNonFiniteSkipped: NaN and Inf are counted and do not poison state.
func TestNonFiniteSkipped(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	d := newDetector(DefaultConfig())
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300}
	for i := range 1000 {
		if i%50 == 25 {
			r := d.Observe(at(i), bad[(i/50)%len(bad)])
			if r.Anomalous || r.Score != 0 {
				t.Fatalf("point %d: non-finite value scored %+v", i, r)
			}
			continue
		}
		r := d.Observe(at(i), 10*(1+0.05*rng.NormFloat64()))
		if math.IsNaN(r.Score) || math.IsNaN(r.Expected) || math.IsInf(r.High, 0) {
			t.Fatalf("point %d: state poisoned: %+v", i, r)
		}
		if r.Anomalous {
			t.Fatalf("point %d: alarm on a healthy series after non-finite input", i)
		}
	}
	if got := d.Skipped(); got != 20 {
		t.Errorf("Skipped() = %d, want 20", got)
	}
	if r := d.Observe(at(1001), 10); math.Abs(r.Expected-10) > 1 {
		t.Errorf("expected %v after non-finite input, want about 10", r.Expected)
	}
	if r := d.Observe(at(10), 10); r.Score != 0 || d.OutOfOrder() != 1 {
		t.Errorf("out-of-order point scored %+v, OutOfOrder %d", r, d.OutOfOrder())
	}
}

// TestRepeat: a lasting anomaly yields one observation, then at most one
// per Repeat; a new run after recovery yields a new one at once.
func TestRepeat(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	cfg := DefaultConfig()
	st := NewStage(cfg, nil)
	var times []time.Time
	level := func(i int) float64 {
		switch {
		case i >= 300 && i < 360: // 5 minutes at 5x
			return 500
		case i >= 400 && i < 405:
			return 500
		}
		return 100
	}
	for i := range 500 {
		v := level(i) * (1 + 0.05*rng.NormFloat64())
		for _, o := range st.Process([]signal.Sample{sample("db", "latency_p50_ms", i, v)}) {
			times = append(times, o.Time)
		}
	}
	if len(times) < 2 || !times[0].Equal(at(300)) {
		t.Fatalf("observations at %v, want the first at %v", times, at(300))
	}
	for i := 1; i < len(times); i++ {
		gap := times[i].Sub(times[i-1])
		if gap < cfg.Repeat && !times[i].Equal(at(400)) {
			t.Errorf("observations %v and %v closer than Repeat", times[i-1], times[i])
		}
	}
	if len(times) > 1+6+1 {
		t.Errorf("%d observations for a 5-minute and a 25-second anomaly, want <= 8", len(times))
	}
	if !slices.ContainsFunc(times, func(x time.Time) bool { return x.Equal(at(400)) }) {
		t.Errorf("second anomaly at %v not reported: %v", at(400), times)
	}
}

// TestGradualOnset: a moderate sustained shift fires the level feature and
// dates the onset back to where the shift began, not where it was noticed.
func TestGradualOnset(t *testing.T) {
	const onset = 500
	late := 0
	for seed := int64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewSource(seed))
		d := newDetector(DefaultConfig())
		for i := range onset + 100 {
			v := 100 * (1 + 0.05*rng.NormFloat64())
			if i >= onset {
				v += 17 // 3.4 sigma: rarely one point alone
			}
			r := d.Observe(at(i), v)
			if !r.Anomalous {
				continue
			}
			if i < onset {
				t.Fatalf("seed %d: alarm before onset at %d", seed, i)
			}
			if i > onset+10 {
				t.Errorf("seed %d: detected at %d, want within 10 points of %d", seed, i, onset)
			}
			if on := int(r.Start.Sub(at(0)) / step); on < onset-2 || on > onset+2 {
				late++
				t.Logf("seed %d: onset dated %d, detected at %d, true %d", seed, on, i, onset)
			}
			break
		}
	}
	if late > 2 {
		t.Errorf("%d of 10 onsets dated more than 2 points off", late)
	}
}

func TestSeasonPeriodFound(t *testing.T) {
	cfg0 := DefaultConfig()
	f := func(period int, want int) {
		t.Helper()
		rng := rand.New(rand.NewSource(1))
		cfg := DefaultConfig()
		d := newDetector(cfg)
		for i := range cfg.SeasonBucket * cfg.SeasonBuckets * 2 {
			d.Observe(at(i), 100*(1+0.3*math.Sin(2*math.Pi*float64(i)/float64(period)))*(1+0.03*rng.NormFloat64()))
		}
		if got := d.season.period; math.Abs(float64(got-want)) > 0.03*float64(want) {
			t.Errorf("period %d points: found %d buckets, want %d", period, got, want)
		}
	}
	f(360, 360/cfg0.SeasonBucket)
	f(720, 720/cfg0.SeasonBucket)
	f(1<<30, 0) // no cycle within reach
}

// TestSeasonalCatchesInRangeAnomaly: a value normal for the series but not
// for its phase is caught by the seasonal scorer.
func TestSeasonalCatchesInRangeAnomaly(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	cfg := DefaultConfig()
	d := newDetector(cfg)
	const period = 360
	n := cfg.SeasonBucket*cfg.SeasonBuckets + 3*period
	var found bool
	for i := range n + 40 {
		v := 100 * (1 + 0.5*math.Sin(2*math.Pi*float64(i)/period)) * (1 + 0.02*rng.NormFloat64())
		if i >= n { // stuck at the mean while the cycle says trough or peak
			v = 100
		}
		r := d.Observe(at(i), v)
		if r.Anomalous && i < n {
			t.Fatalf("alarm before the anomaly at %d (%s)", i, r.Feature)
		}
		if r.Anomalous && r.Feature == FeatureSeasonal {
			found = true
			break
		}
	}
	if !found {
		t.Errorf("seasonal anomaly not found")
	}
}

func TestScore(t *testing.T) {
	prev := -1.0
	for z := 0.0; z < 60; z += 0.25 {
		s := score(z, 16)
		if s < prev || s < 0 || s > 1 || math.IsNaN(s) {
			t.Fatalf("score(%v) = %v after %v: want monotone in [0,1]", z, s, prev)
		}
		prev = s
	}
	if s := score(5.73, 16); math.Abs(s-0.5) > 0.01 {
		t.Errorf("score(5.73) = %v, want about 0.5", s)
	}
	if a, b := score(7.99, 16), score(8.01, 16); math.Abs(a-b) > 0.01 {
		t.Errorf("score jumps at the asymptote: %v %v", a, b)
	}
}

func TestMedian(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	f := func(a []float64) {
		t.Helper()
		s := slices.Clone(a)
		slices.Sort(s)
		if got, want := median(a), s[len(s)/2]; got != want {
			t.Errorf("median(%v) = %v, want %v", s, got, want)
		}
	}
	f([]float64{1})
	f([]float64{2, 1})
	f([]float64{3, 3, 3, 1})
	for n := 1; n < 200; n += 7 {
		a := make([]float64, n)
		for i := range a {
			a[i] = float64(rng.Intn(10))
		}
		f(a)
	}
}

func FuzzObserve(f *testing.F) {
	f.Add(1.0, 2.0, 0.0, 1e300)
	f.Add(math.Inf(1), math.NaN(), -1e-300, 5.0)
	f.Fuzz(func(t *testing.T, a, b, c, e float64) {
		cfg := DefaultConfig()
		cfg.Forecast = true
		d := newDetector(cfg)
		vals := []float64{a, b, c, e}
		for i := range 400 {
			r := d.Observe(at(i), vals[i%4]+float64(i%3))
			if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
				t.Fatalf("score %v out of [0,1] at %d", r.Score, i)
			}
		}
	})
}

func ExampleDetector() {
	d := newDetector(DefaultConfig())
	for i := range 100 {
		d.Observe(at(i), 100+float64(i%5))
	}
	r := d.Observe(at(100), 400)
	fmt.Println(r.Anomalous, r.Direction, r.Start.Equal(at(100)))
	// Output: true up true
}

// TestSeasonalEdgesLearned: on a noisy square wave the level model misses
// every edge; once the seasonal model explains the series, a stretch of
// deviant points is judged by it and ends, and its tails learn the noise,
// so the edges do not keep alerting.
func TestSeasonalEdgesLearned(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	cfg := DefaultConfig()
	d := newDetector(cfg)
	const period = 288
	n := 14 * period
	alerts, longest := 0, 0
	for i := range n {
		// A quiet low part, a noisy high part that ramps up, a short drop
		// to zero and a ramp down to the low part.
		var v float64
		switch p := i % period; {
		case p < 12:
			v = -15 - 5*float64(p)/12 + 2*(rng.Float64()-0.5)
		case p < 108:
			v = -20 + 4*(rng.Float64()-0.5)
		case p < 276:
			v = 57 + 20*min(1, float64(p-108)/15) + 14*(rng.Float64()-0.5)
		}
		r := d.Observe(at(i), v)
		if i >= n/2 {
			longest = max(longest, d.devN)
			if r.New {
				alerts++
			}
		}
	}
	if d.season.period == 0 {
		t.Fatalf("no period found")
	}
	if alerts > 0 || longest > period/4 {
		t.Errorf("second half: %d anomalous runs, longest deviant stretch %d points; want none and at most %d", alerts, longest, period/4)
	}
}

// newDetector is NewDetector for a configuration known to be valid.
func newDetector(cfg Config) *Detector {
	d, err := NewDetector(cfg)
	if err != nil {
		panic(err)
	}
	return d
}

// TestSeasonFirm: on a clean daily cycle the period is found, and firm.
func TestSeasonFirm(t *testing.T) {
	cfg := DefaultConfig()
	rng := rand.New(rand.NewSource(1))
	d := newDetector(cfg)
	for i := range cfg.SeasonBucket * cfg.SeasonBuckets * 2 {
		d.Observe(at(i), 100*(1+0.3*math.Sin(2*math.Pi*float64(i)/360))*(1+0.03*rng.NormFloat64()))
	}
	if acf := d.SeasonACF(); d.season.period == 0 || acf < 0.8 {
		t.Errorf("sine of 360 points: period %d, ACF %.3f; want a period with ACF >= 0.8", d.season.period, acf)
	}
}

// TestLikelihood: the calibration keeps every score's rank, is one half at
// HalfDecades, and halves 1 - likelihood with every HalfDecades more.
func TestLikelihood(t *testing.T) {
	for _, c := range []struct{ decades, want float64 }{{-1, 0}, {0, 0}, {3.5, 0.5}, {7, 0.75}, {14, 0.9375}} {
		if got := Likelihood(c.decades, 3.5); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Likelihood(%v, 3.5) = %v, want %v", c.decades, got, c.want)
		}
	}
	if a, b := Likelihood(15.9, 3.5), Likelihood(16, 3.5); !(a < b && b < 1) {
		t.Errorf("Likelihood saturates: %v, %v", a, b)
	}
	// The default production threshold asks what the raw score did before
	// the calibration: 8 decades or more, no less and no more.
	cfg := DefaultConfig()
	if l := Likelihood(strong*cfg.Decades, cfg.HalfDecades); l < cfg.Threshold {
		t.Errorf("raw score %v has likelihood %v, under the threshold %v", strong, l, cfg.Threshold)
	}
	if l := Likelihood((strong-1e-9)*cfg.Decades, cfg.HalfDecades); l >= cfg.Threshold {
		t.Errorf("raw score just under %v has likelihood %v, at the threshold %v", strong, l, cfg.Threshold)
	}
}

// TestThresholdOnlyReports: the point's likelihood is its raw score
// calibrated, Anomalous is the likelihood at the threshold, and what the
// model learns does not depend on the threshold: a lower one reports more
// and scores the same.
func TestThresholdOnlyReports(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	vals := make([]float64, 3000)
	for i := range vals {
		vals[i] = 100 * (1 + 0.05*rng.NormFloat64())
		if i >= 2000 && i < 2050 {
			vals[i] *= 1.3
		}
		if i%400 == 7 {
			vals[i] *= 1.25
		}
	}
	hi, lo := DefaultConfig(), DefaultConfig()
	lo.Threshold = 0.5
	dh, _ := NewDetector(hi)
	dl, _ := NewDetector(lo)
	nh, nl := 0, 0
	for i, v := range vals {
		rh, rl := dh.Observe(at(i), v), dl.Observe(at(i), v)
		if rh.Score != rl.Score || rh.Likelihood != rl.Likelihood {
			t.Fatalf("point %d: scores %v / %v differ with the threshold", i, rh.Score, rl.Score)
		}
		if want := Likelihood(rh.Score*hi.Decades, hi.HalfDecades); math.Abs(rh.Likelihood-want) > 1e-12 {
			t.Fatalf("point %d: likelihood %v, want %v", i, rh.Likelihood, want)
		}
		if rh.Anomalous != (dh.Warm() && rh.Likelihood >= hi.Threshold) {
			t.Fatalf("point %d: likelihood %v, anomalous %v at the threshold %v", i, rh.Likelihood, rh.Anomalous, hi.Threshold)
		}
		if rh.Anomalous {
			nh++
		}
		if rl.Anomalous {
			nl++
		}
	}
	if nl <= nh {
		t.Errorf("%d anomalous points at 0.5, %d at 0.8: want more at the lower threshold", nl, nh)
	}
}
