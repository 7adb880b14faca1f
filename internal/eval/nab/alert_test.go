package nab

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/detect/metric"
)

func newAlerter(t *testing.T, cfg metric.Config, a AlertConfig) *Alerter {
	t.Helper()
	al, err := NewAlerter(cfg, a)
	if err != nil {
		t.Fatal(err)
	}
	return al
}

// TestAlert: an anomaly alerts once however long it lasts, a repeat soon
// after does not alert again, one after the record has decayed does, and a
// healthy series never alerts at the production threshold.
func TestAlert(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	cfg, ac := metric.DefaultConfig(), DefaultAlertConfig()
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
	d := newAlerter(t, cfg, ac)
	var alerts []int
	for i := range 2100 {
		r, a := d.Observe(at(i), level(i)*(1+0.05*rng.NormFloat64()))
		if a < 0 || a > r.Likelihood+1e-12 {
			t.Fatalf("point %d: alert %v is not within [0, likelihood %v]", i, a, r.Likelihood)
		}
		if a >= cfg.Threshold {
			alerts = append(alerts, i)
		}
	}
	if len(alerts) != 2 || alerts[0] < 1000 || alerts[0] > 1002 || alerts[1] < 2000 || alerts[1] > 2002 {
		t.Errorf("alerts at points %v, want one at the shift (1000) and one long after (2000)", alerts)
	}
	h := newAlerter(t, cfg, ac)
	for i := range 5000 {
		if _, a := h.Observe(at(i), 100*(1+0.05*rng.NormFloat64())); a >= cfg.Threshold {
			t.Fatalf("healthy series alerted at point %d: %v", i, a)
		}
	}
}

// TestAlertHabit: strong alerts that keep coming lengthen the half-life of
// the series' record, so that a bursty series makes its bursts a habit; once
// they stop for long, the record decays at the quiet series' pace again.
func TestAlertHabit(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	cfg, ac := metric.DefaultConfig(), DefaultAlertConfig()
	d := newAlerter(t, cfg, ac)
	halfLife := func() float64 { return -1 / math.Log2(d.recDecay) }
	burst := func(i int) bool { return i >= 1000 && i < 3000 && i%250 == 0 || i == 30000 }
	for i := range 30001 {
		v := 10 * (1 + 0.1*rng.NormFloat64())
		if burst(i) {
			v = 1000
		}
		_, a := d.Observe(at(i), v)
		switch i {
		case 3000:
			if h := halfLife(); h < float64(ac.HalfLife+ac.Habit) {
				t.Errorf("after 8 bursts the record's half-life is %.0f points, want at least %d", h, ac.HalfLife+ac.Habit)
			}
		case 30000:
			if a < cfg.Threshold {
				t.Errorf("a burst long after the others does not alert: %v", a)
			}
			if h := halfLife(); h > float64(ac.HalfLife+ac.Habit/10) {
				t.Errorf("long after the bursts the record's half-life is %.0f points, want about %d", h, ac.HalfLife)
			}
		}
	}
}

// TestAlertRepeat: a level model alert is discounted by the decayed number
// of earlier ones at least as strong, so that bursts a series makes every
// day fade while a stronger one, or one long after, alerts in full.
func TestAlertRepeat(t *testing.T) {
	cfg, ac := metric.DefaultConfig(), DefaultAlertConfig()
	d := newAlerter(t, cfg, ac)
	g := ac.Repeat
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
			c += math.Exp2(-float64(n-p) / float64(ac.RepeatHalfLife))
		}
		return c
	}
	f(1000, 0.5, 0.5)                           // the first of its strength
	f(1100, 0.5, 0.5/(1+g*w(1100, 1000)))       // one as strong before it
	f(1200, 0.3, 0.3/(1+g*w(1200, 1000, 1100))) // two stronger before it
	f(1300, 0.9, 0.9)                           // stronger than any before
	// Three half-lives on, the four earlier alerts count about an eighth each.
	n := 1300 + 3*ac.RepeatHalfLife
	f(n, 0.2, 0.2/(1+g*w(n, 1000, 1100, 1200, 1300)))

	// A seasonal alert is discounted by the same count (here with
	// SeasonRepeat) but not counted.
	n += 100
	d.n = n
	want := 0.9 / (1 + ac.SeasonRepeat*w(n, 1300))
	if got := d.repeats(0.9, ac.SeasonRepeat, false); math.Abs(got-want) > 1e-6 {
		t.Errorf("seasonal alert 0.9 discounted to %.6f, want %.6f", got, want)
	}
	f(n, 0.9, 0.9/(1+g*w(n, 1300)))

	g = 0
	d = newAlerter(t, cfg, ac)
	f(1000, 0.5, 0.5)
	f(1001, 0.5, 0.5) // disabled
}

// TestSeasonRepeat: a seasonal alert is discounted by the level model's
// repeat count with SeasonRepeat when its period is firm, and more, up to
// SeasonWeakRepeat, the closer the period came to not being found at all.
func TestSeasonRepeat(t *testing.T) {
	ac, minACF := DefaultAlertConfig(), metric.DefaultConfig().SeasonMinACF
	lo, hi := ac.SeasonRepeat, ac.SeasonWeakRepeat
	if hi <= lo || firmACF <= minACF {
		t.Fatalf("defaults SeasonRepeat %v, SeasonWeakRepeat %v, ACF %v..%v: want a rising discount", lo, hi, minACF, firmACF)
	}
	f := func(weak, acf, want float64) {
		t.Helper()
		if got := seasonWeight(lo, weak, minACF, acf); math.Abs(got-want) > 1e-6 {
			t.Errorf("period ACF %.3f: repeat weight %.4f, want %.4f", acf, got, want)
		}
	}
	f(hi, 0.95, lo)                      // a firm daily cycle
	f(hi, firmACF, lo)                   // just firm
	f(hi, (minACF+firmACF)/2, (lo+hi)/2) // half-way
	f(hi, minACF, hi)                    // barely a period
	f(0, minACF, lo)                     // disabled

	bad := ac
	bad.SeasonWeakRepeat = -1
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "SeasonWeakRepeat ") {
		t.Errorf("SeasonWeakRepeat -1: error %v, want one naming it", err)
	}
	if _, err := NewAlerter(metric.DefaultConfig(), bad); err == nil {
		t.Error("NewAlerter accepted an invalid alert config")
	}
}

// TestAlertEscalate: a shift that builds up over its first points beats the
// series' record at each, but within escalateGap points of its last alert
// it alerts again only once Escalate times as strong.
func TestAlertEscalate(t *testing.T) {
	type alert struct {
		i int
		a float64
	}
	run := func(escalate float64) []alert {
		ac := DefaultAlertConfig()
		ac.Repeat, ac.SeasonRepeat, ac.Escalate = 0, 0, escalate
		rng := rand.New(rand.NewSource(3))
		d := newAlerter(t, metric.DefaultConfig(), ac)
		var alerts []alert
		for i := range 1100 {
			v := 100.0
			if i >= 1000 { // a ramp of 2% a point, then a plateau
				v += 2 * float64(min(i-999, 20))
			}
			r, a := d.Observe(at(i), v*(1+0.01*rng.NormFloat64()))
			if a > r.Likelihood+1e-12 {
				t.Fatalf("point %d: alert %v above likelihood %v", i, a, r.Likelihood)
			}
			if a > 0 && i >= 1000 {
				alerts = append(alerts, alert{i, a})
			}
		}
		return alerts
	}
	for _, g := range []float64{0.5, math.NaN()} {
		c := DefaultAlertConfig()
		c.Escalate = g
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "Escalate ") {
			t.Errorf("Escalate %v: error %v, want one naming it", g, err)
		}
	}
	all, some := run(1), run(DefaultAlertConfig().Escalate)
	if len(some) == 0 || some[0].i > 1003 {
		t.Fatalf("alerts %v, want the ramp's onset alerted", some)
	}
	if len(some) >= len(all) {
		t.Errorf("%d alerts on the ramp with Escalate, %d without; want fewer", len(some), len(all))
	}
	// An alert is a likelihood; the escalation compares the raw scores,
	// which are proportional to its decades, -log2(1 - likelihood).
	decades := func(a float64) float64 { return -math.Log2(1 - a) }
	for k := 1; k < len(some); k++ {
		p, q := some[k-1], some[k]
		if r := decades(q.a) / decades(p.a); q.i-p.i <= escalateGap && r < DefaultAlertConfig().Escalate*(1-1e-9) {
			t.Errorf("alert %.3f at point %d only %.2f times the one %d points before", q.a, q.i, r, q.i-p.i)
		}
	}
}

func TestSplit(t *testing.T) {
	names := []string{"b/2.csv", "a/1.csv", "b/1.csv", "a/2.csv", "a/3.csv"}
	h := Split(names)
	if got := strings.Join(h[0], " ") + " | " + strings.Join(h[1], " "); got != "a/1.csv a/3.csv b/2.csv | a/2.csv b/1.csv" {
		t.Errorf("Split = %s", got)
	}
	if c := Candidates(); len(c) != 16 || c[0].Name != "default" || c[0].Alert != DefaultAlertConfig() {
		t.Errorf("Candidates: %d, the first %q", len(c), c[0].Name)
	}
	seen := map[string]bool{}
	for _, c := range Candidates() {
		if seen[c.Name] {
			t.Errorf("candidate %q twice", c.Name)
		}
		seen[c.Name] = true
		if err := c.Alert.Validate(); err != nil {
			t.Errorf("candidate %s: %v", c.Name, err)
		}
	}
}

// TestAlerterSkips: a NaN or an out-of-order point neither alerts nor
// counts as a point of the series.
func TestAlerterSkips(t *testing.T) {
	al := newAlerter(t, metric.DefaultConfig(), DefaultAlertConfig())
	for i := range 100 {
		al.Observe(at(i), 1)
	}
	n := al.n
	if _, a := al.Observe(at(100), math.NaN()); a != 0 || al.n != n {
		t.Errorf("NaN: alert %v, points %d → %d", a, n, al.n)
	}
	if _, a := al.Observe(at(5), 1000); a != 0 || al.n != n {
		t.Errorf("out of order: alert %v, points %d → %d", a, n, al.n)
	}
}
