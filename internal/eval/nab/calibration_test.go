package nab

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/seerops/seer/internal/detect/metric"
)

// calRow is one row of a series under the production detector and NAB's
// alerting: the detector's raw score and the alert's raw strength.
type calRow struct {
	raw, alert float64
	warm       bool
}

// TestPerSeriesRecalibrationLoses is the evidence behind the calibration
// seer ships (docs/architecture.md, "Calibrated scores"): recalibrating the
// alerts against each series' own recent scores, as a conformal p-value or
// as HTM's anomaly likelihood does, scores below the detector's own
// calibration on the 31 files, with
// NAB's fitted alerting habits and without them (so a likelihood does not
// replace them). Each, with the setting that did best of those measured,
// must stay at least 2 points under it. A calibration per unit of time
// rather than per point is logged beside them; the table is printed with
// -v.
func TestPerSeriesRecalibrationLoses(t *testing.T) {
	bare := DefaultAlertConfig()
	bare.Repeat, bare.Habit, bare.SeasonWeakRepeat, bare.Escalate = 0, 0, bare.SeasonRepeat, 1
	for _, c := range []struct {
		name  string
		alert AlertConfig
	}{{"with the fitted habits", DefaultAlertConfig()}, {"without them", bare}} {
		t.Run(c.name, func(t *testing.T) { recalibrations(t, c.alert) })
	}
}

func recalibrations(t *testing.T, ac AlertConfig) {
	series, windows := loadCorpus(t)
	dir := corpusDir(t)
	profiles, err := LoadProfiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	std := profiles[slices.IndexFunc(profiles, func(p Profile) bool { return p.Name == "standard" })]
	cfg := metric.DefaultConfig()
	rows := make([][]calRow, len(series))
	for i, s := range series {
		al, err := NewAlerter(cfg, ac)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range s.Values {
			r, a := al.Observe(s.Times[j], v)
			if a > 0 { // back from the likelihood to the raw strength
				a = -cfg.HalfDecades * math.Log2(1-a) / cfg.Decades
			}
			rows[i] = append(rows[i], calRow{raw: max(r.Level, r.Range), alert: a, warm: al.d.Warm()})
		}
	}
	score := func(fn func(s Series, rs []calRow) []float64) (opt, fixed float64) {
		files := make([]File, len(series))
		for i, s := range series {
			files[i] = File{Name: s.Name, Times: s.Times, Scores: fn(s, rows[i])}
		}
		c, err := NewCorpus(files, windows)
		if err != nil {
			t.Fatal(err)
		}
		return c.Optimize(std).Score, c.At(std, 0.5).Score
	}
	shipped, shippedFixed := score(func(_ Series, rs []calRow) []float64 {
		out := make([]float64, len(rs))
		for i, r := range rs {
			if r.alert > 0 {
				out[i] = metric.Likelihood(r.alert*cfg.Decades, cfg.HalfDecades)
			}
		}
		return out
	})
	t.Logf("%-58s optimum %6.2f  at 0.5 %6.2f", "shipped: the detector's own p-value, calibrated", shipped, shippedFixed)
	alts := []struct {
		name  string
		fn    func(Series, []calRow) []float64
		timed bool // per unit of time: logged, not asserted
	}{
		{"conformal p-value of the alert among the series' scores", func(_ Series, rs []calRow) []float64 {
			c, out := metric.NewCalibrator(2000), make([]float64, len(rs))
			for i, r := range rs {
				if !r.warm {
					continue
				}
				if r.alert > 0 {
					out[i] = c.Likelihood(r.alert, 2)
				}
				c.Add(r.raw)
			}
			return out
		}, false},
		{"conformal p-value of the alert among the series' alerts", func(_ Series, rs []calRow) []float64 {
			c, out := metric.NewCalibrator(2000), make([]float64, len(rs))
			for i, r := range rs {
				if r.warm && r.alert > 0 {
					out[i] = c.Likelihood(r.alert, 1)
					c.Add(r.alert)
				}
			}
			return out
		}, false},
		{"HTM: Gaussian tail of the alert over the series' scores", func(_ Series, rs []calRow) []float64 {
			out := make([]float64, len(rs))
			decay := math.Exp2(-1.0 / 2000)
			var mu, m2, w float64
			for i, r := range rs {
				if !r.warm {
					continue
				}
				if r.alert > 0 && w > 0 {
					sd := max(math.Sqrt(max(m2-mu*mu, 0)), 0.03) // HTM floors it too
					z := (r.alert - mu) / sd
					out[i] = metric.Likelihood(-math.Log10(0.5*math.Erfc(z/math.Sqrt2)), 4)
				}
				w = w*decay + 1
				mu += (r.raw - mu) / w
				m2 += (r.raw*r.raw - m2) / w
			}
			return out
		}, false},
		{"per day: decades less log10 of the series' points a day", func(s Series, rs []calRow) []float64 {
			out := make([]float64, len(rs))
			var step float64
			for i, r := range rs {
				if i > 0 {
					if dt := s.Times[i].Sub(s.Times[i-1]).Seconds(); step == 0 {
						step = dt
					} else if dt > 0 {
						step += 0.01 * (dt - step)
					}
				}
				if r.alert > 0 && step > 0 {
					out[i] = metric.Likelihood(r.alert*cfg.Decades-math.Log10(86400/step), 1)
				}
			}
			return out
		}, true},
	}
	for _, a := range alts {
		opt, fixed := score(a.fn)
		t.Logf("%-58s optimum %6.2f  at 0.5 %6.2f", a.name, opt, fixed)
		if !a.timed && opt > shipped-2 {
			t.Errorf("%s: optimum %.2f, within 2 points of the shipped calibration's %.2f: the documented conclusion no longer holds", a.name, opt, shipped)
		}
	}
}

// TestHalfDecadesCrossValidated: HalfDecades places NAB's optimum at
// likelihood 0.5 and was chosen on the 31 files. Chosen instead on one half
// of them (of 2.5 to 5 decades, by the score at 0.5) and the other half
// scored at 0.5, the two held-out halves together must stay within 3
// points of what the cross-validation of the threshold itself gives.
func TestHalfDecadesCrossValidated(t *testing.T) {
	series, windows := loadCorpus(t)
	profiles, err := LoadProfiles(corpusDir(t))
	if err != nil {
		t.Fatal(err)
	}
	std := profiles[slices.IndexFunc(profiles, func(p Profile) bool { return p.Name == "standard" })]
	cfg := metric.DefaultConfig()
	newDet, err := MetricDetector(cfg, DefaultAlertConfig())
	if err != nil {
		t.Fatal(err)
	}
	files, err := Run(t.Context(), series, newDet, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	halves := Split(names)
	grid := []float64{2.5, 3, 3.25, 3.5, 3.75, 4, 5}
	// corpora[g][h]: half h rescored as if HalfDecades were grid[g].
	corpora := make([][2]*Corpus, len(grid))
	for g, half := range grid {
		for h := range 2 {
			var part []File
			for _, f := range files {
				if !slices.Contains(halves[h], f.Name) {
					continue
				}
				s := make([]float64, len(f.Scores))
				for i, l := range f.Scores {
					if l > 0 {
						d := -cfg.HalfDecades * math.Log2(1-l)
						s[i] = metric.Likelihood(d, half)
					}
				}
				part = append(part, File{Name: f.Name, Times: f.Times, Scores: s})
			}
			if corpora[g][h], err = NewCorpus(part, windows); err != nil {
				t.Fatal(err)
			}
		}
	}
	var raw, rawThr, null, perfect float64
	for h := range 2 {
		best, bg := -math.MaxFloat64, 0
		for g := range grid {
			if s := corpora[g][1-h].At(std, 0.5).Raw; s > best {
				best, bg = s, g
			}
		}
		c := corpora[bg][h]
		raw += c.At(std, 0.5).Raw
		ref := corpora[0] // the threshold's own cross-validation: any scale will do
		rawThr += ref[h].At(std, ref[1-h].Optimize(std).Threshold).Raw
		null += c.null(std)
		perfect += c.perfect(std)
		t.Logf("half %d held out: HalfDecades %g chosen on the other", h+1, grid[bg])
	}
	held, thr := 100*(raw-null)/(perfect-null), 100*(rawThr-null)/(perfect-null)
	t.Logf("held out at 0.5 with HalfDecades chosen on the other half: %.2f; with the threshold chosen there: %.2f", held, thr)
	if held < thr-3 {
		t.Errorf("held out at 0.5: %.2f, more than 3 points under %.2f", held, thr)
	}
}

// TestCrossValidatedValues: `seer eval nab --cv` chooses each fitted habit
// on or off, at the values fitted on all 31 files; here the values too are
// chosen on one half (192 settings: repeat 0–0.08, habit 0–300, half-life
// 50–120, the weak-season discount and the escalation on or off) and the
// other half scored. It is the more honest figure, and must stay within 5
// points of --cv's.
func TestCrossValidatedValues(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("192 settings over the corpus: not with -short or -race")
	}
	series, windows := loadCorpus(t)
	profiles, err := LoadProfiles(corpusDir(t))
	if err != nil {
		t.Fatal(err)
	}
	std := profiles[slices.IndexFunc(profiles, func(p Profile) bool { return p.Name == "standard" })]
	var cands []Candidate
	for _, rep := range []float64{0, 0.02, 0.04, 0.08} {
		for _, habit := range []int{0, 100, 175, 300} {
			for _, hl := range []int{50, 75, 120} {
				for _, weak := range []bool{false, true} {
					for _, esc := range []bool{false, true} {
						c := Candidate{Metric: metric.DefaultConfig(), Alert: DefaultAlertConfig()}
						c.Alert.Repeat, c.Alert.Habit, c.Alert.HalfLife = rep, habit, hl
						if !weak {
							c.Alert.SeasonWeakRepeat = c.Alert.SeasonRepeat
						}
						if !esc {
							c.Alert.Escalate = 1
						}
						c.Name = fmt.Sprintf("repeat %g, habit %d, half-life %d, weak season %v, escalate %v", rep, habit, hl, weak, esc)
						cands = append(cands, c)
					}
				}
			}
		}
	}
	fixed := metric.DefaultConfig().Threshold
	values, err := CrossValidate(t.Context(), series, windows, std, cands, fixed, 0)
	if err != nil {
		t.Fatal(err)
	}
	onOff, err := CrossValidate(t.Context(), series, windows, std, Candidates(), fixed, 0)
	if err != nil {
		t.Fatal(err)
	}
	for h, f := range values.Folds {
		t.Logf("half %d held out: chose %s at %.4f, held out %.2f", h+1, f.Chosen, f.Threshold, f.Held.Score)
	}
	t.Logf("values chosen on the other half: %.2f; habits on or off (--cv): %.2f", values.Score, onOff.Score)
	if values.Score < onOff.Score-5 {
		t.Errorf("values chosen on the other half: %.2f, more than 5 points under --cv's %.2f: the fitted values do not hold out", values.Score, onOff.Score)
	}
}
