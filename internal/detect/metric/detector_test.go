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
				d := NewDetector(c)
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
		d := NewDetector(DefaultConfig())
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
	d := NewDetector(DefaultConfig())
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
		d := NewDetector(DefaultConfig())
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
		d := NewDetector(cfg)
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
	d := NewDetector(cfg)
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
		d := NewDetector(cfg)
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
	d := NewDetector(DefaultConfig())
	for i := range 100 {
		d.Observe(at(i), 100+float64(i%5))
	}
	r := d.Observe(at(100), 400)
	fmt.Println(r.Anomalous, r.Direction, r.Start.Equal(at(100)))
	// Output: true up true
}

// TestAlert: an anomaly alerts once however long it lasts, a repeat soon
// after does not alert again, one after the record has decayed does, and a
// healthy series never alerts at the production threshold.
func TestAlert(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	cfg := DefaultConfig()
	level := func(i int) float64 {
		switch {
		case i >= 1000 && i < 1100: // a lasting shift
			return 300
		case i >= 1150 && i < 1153: // the same again, soon after
			return 300
		case i >= 2000 && i < 2003: // again, long after
			return 300
		}
		return 100
	}
	d := NewDetector(cfg)
	var alerts []int
	for i := range 2100 {
		r := d.Observe(at(i), level(i)*(1+0.05*rng.NormFloat64()))
		if r.Alert < 0 || r.Alert > r.Score {
			t.Fatalf("point %d: alert %v is not within [0, score %v]", i, r.Alert, r.Score)
		}
		if r.Alert >= cfg.Threshold {
			alerts = append(alerts, i)
		}
	}
	if len(alerts) != 2 || alerts[0] < 1000 || alerts[0] > 1002 || alerts[1] < 2000 || alerts[1] > 2002 {
		t.Errorf("alerts at points %v, want one at the shift (1000) and one long after (2000)", alerts)
	}

	h := NewDetector(cfg)
	for i := range 5000 {
		if r := h.Observe(at(i), 100*(1+0.05*rng.NormFloat64())); r.Alert >= cfg.Threshold {
			t.Fatalf("healthy series alerted at point %d: %+v", i, r)
		}
	}
}

// TestAlertHabit: strong alerts that keep coming lengthen the half-life of
// the series' record, so that a bursty series makes its bursts a habit; once
// they stop for long, the record decays at the quiet series' pace again.
func TestAlertHabit(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	cfg := DefaultConfig()
	d := NewDetector(cfg)
	halfLife := func() float64 { return -1 / math.Log2(d.recDecay) }
	burst := func(i int) bool { return i >= 1000 && i < 3000 && i%250 == 0 || i == 30000 }
	for i := range 30001 {
		v := 10 * (1 + 0.1*rng.NormFloat64())
		if burst(i) {
			v = 1000
		}
		r := d.Observe(at(i), v)
		switch i {
		case 3000:
			if h := halfLife(); h < float64(cfg.AlertHalfLife+cfg.AlertHabit) {
				t.Errorf("after 8 bursts the record's half-life is %.0f points, want at least %d", h, cfg.AlertHalfLife+cfg.AlertHabit)
			}
		case 30000:
			if r.Alert < cfg.Threshold {
				t.Errorf("a burst long after the others does not alert: %+v", r)
			}
			if h := halfLife(); h > float64(cfg.AlertHalfLife+cfg.AlertHabit/10) {
				t.Errorf("long after the bursts the record's half-life is %.0f points, want about %d", h, cfg.AlertHalfLife)
			}
		}
	}
}

// TestSeasonalEdgesLearned: on a noisy square wave the level model misses
// every edge; once the seasonal model explains the series, a stretch of
// deviant points is judged by it and ends, and its tails learn the noise,
// so the edges do not keep alerting.
func TestSeasonalEdgesLearned(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	cfg := DefaultConfig()
	d := NewDetector(cfg)
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
			if r.Alert >= cfg.Threshold {
				alerts++
			}
		}
	}
	if d.season.period == 0 {
		t.Fatalf("no period found")
	}
	if alerts > 0 || longest > period/4 {
		t.Errorf("second half: %d alerts, longest deviant stretch %d points; want none and at most %d", alerts, longest, period/4)
	}
}

// TestAlertRepeat: a level model alert is discounted by the decayed number
// of earlier ones at least as strong, so that bursts a series makes every
// day fade while a stronger one, or one long after, alerts in full.
func TestAlertRepeat(t *testing.T) {
	cfg := DefaultConfig()
	d := NewDetector(cfg)
	g := cfg.AlertRepeat
	f := func(n int, a, want float64) {
		t.Helper()
		d.n = n
		if got := d.repeats(a, g, true); math.Abs(got-want) > 1e-6 {
			t.Errorf("point %d: alert %.2f discounted to %.6f, want %.6f", n, a, got, want)
		}
	}
	// w is the decayed count at point n of earlier alerts at points ps.
	w := func(n int, ps ...int) (c float64) {
		for _, p := range ps {
			c += math.Exp2(-float64(n-p) / float64(cfg.RepeatHalfLife))
		}
		return c
	}
	f(1000, 0.5, 0.5)                           // the first of its strength
	f(1100, 0.5, 0.5/(1+g*w(1100, 1000)))       // one as strong before it
	f(1200, 0.3, 0.3/(1+g*w(1200, 1000, 1100))) // two stronger before it
	f(1300, 0.9, 0.9)                           // stronger than any before
	// Three half-lives on, the four earlier alerts count about an eighth each.
	n := 1300 + 3*cfg.RepeatHalfLife
	f(n, 0.2, 0.2/(1+g*w(n, 1000, 1100, 1200, 1300)))

	// A seasonal alert is discounted by the same count (here with
	// SeasonRepeat) but not counted.
	n += 100
	d.n = n
	want := 0.9 / (1 + cfg.SeasonRepeat*w(n, 1300))
	if got := d.repeats(0.9, cfg.SeasonRepeat, false); math.Abs(got-want) > 1e-6 {
		t.Errorf("seasonal alert 0.9 discounted to %.6f, want %.6f", got, want)
	}
	f(n, 0.9, 0.9/(1+g*w(n, 1300)))

	g = 0
	d = NewDetector(cfg)
	f(1000, 0.5, 0.5)
	f(1001, 0.5, 0.5) // disabled
}

// TestSeasonRepeat: a seasonal alert is discounted by the level model's
// repeat count with SeasonRepeat when its period is firm, and more, up to
// SeasonWeakRepeat, the closer the period came to not being found at all.
func TestSeasonRepeat(t *testing.T) {
	cfg := DefaultConfig()
	lo, hi := cfg.SeasonRepeat, cfg.SeasonWeakRepeat
	if hi <= lo || firmACF <= cfg.SeasonMinACF {
		t.Fatalf("defaults SeasonRepeat %v, SeasonWeakRepeat %v, ACF %v..%v: want a rising discount", lo, hi, cfg.SeasonMinACF, firmACF)
	}
	mid := float32((cfg.SeasonMinACF + firmACF) / 2)
	f := func(c Config, acf float32, want float64) {
		t.Helper()
		d := NewDetector(c)
		d.season.acf = acf
		if got := d.seasonRepeat(); math.Abs(got-want) > 1e-6 {
			t.Errorf("period ACF %.3f: repeat weight %.4f, want %.4f", acf, got, want)
		}
	}
	f(cfg, 0.95, lo)                      // a firm daily cycle
	f(cfg, firmACF, lo)                   // just firm
	f(cfg, mid, (lo+hi)/2)                // half-way
	f(cfg, float32(cfg.SeasonMinACF), hi) // barely a period
	off := cfg
	off.SeasonWeakRepeat = 0
	f(off, float32(cfg.SeasonMinACF), lo) // disabled

	bad := cfg
	bad.SeasonWeakRepeat = -1
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "SeasonWeakRepeat ") {
		t.Errorf("SeasonWeakRepeat -1: error %v, want one naming it", err)
	}

	// On a clean daily cycle the period is found firm.
	rng := rand.New(rand.NewSource(1))
	d := NewDetector(cfg)
	for i := range cfg.SeasonBucket * cfg.SeasonBuckets * 2 {
		d.Observe(at(i), 100*(1+0.3*math.Sin(2*math.Pi*float64(i)/360))*(1+0.03*rng.NormFloat64()))
	}
	if d.season.period == 0 || d.season.acf < firmACF {
		t.Errorf("sine of 360 points: period %d, ACF %.3f; want a period with ACF >= %.2f", d.season.period, d.season.acf, firmACF)
	}
}

// TestAlertEscalate: a shift that builds up over its first points beats the
// series' record at each, but within escalateGap points of its last alert
// it alerts again only once AlertEscalate times as strong.
func TestAlertEscalate(t *testing.T) {
	type alert struct {
		i int
		a float64
	}
	run := func(escalate float64) []alert {
		cfg := DefaultConfig()
		cfg.AlertRepeat, cfg.SeasonRepeat, cfg.AlertEscalate = 0, 0, escalate
		rng := rand.New(rand.NewSource(3))
		d := NewDetector(cfg)
		var alerts []alert
		for i := range 1100 {
			v := 100.0
			if i >= 1000 { // a ramp of 2% a point, then a plateau
				v += 2 * float64(min(i-999, 20))
			}
			r := d.Observe(at(i), v*(1+0.01*rng.NormFloat64()))
			if r.Alert > r.Score {
				t.Fatalf("point %d: alert %v above score %v", i, r.Alert, r.Score)
			}
			if r.Alert > 0 && i >= 1000 {
				alerts = append(alerts, alert{i, r.Alert})
			}
		}
		return alerts
	}
	for _, g := range []float64{0.5, math.NaN()} {
		c := DefaultConfig()
		c.AlertEscalate = g
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "AlertEscalate ") {
			t.Errorf("AlertEscalate %v: error %v, want one naming it", g, err)
		}
	}
	all, some := run(1), run(DefaultConfig().AlertEscalate)
	if len(some) == 0 || some[0].i > 1003 {
		t.Fatalf("alerts %v, want the ramp's onset alerted", some)
	}
	if len(some) >= len(all) {
		t.Errorf("%d alerts on the ramp with AlertEscalate, %d without; want fewer", len(some), len(all))
	}
	for k := 1; k < len(some); k++ {
		p, q := some[k-1], some[k]
		if q.i-p.i <= escalateGap && q.a < DefaultConfig().AlertEscalate*p.a {
			t.Errorf("alert %.3f at point %d only %.2f times the one %d points before", q.a, q.i, q.a/p.a, q.i-p.i)
		}
	}
}
