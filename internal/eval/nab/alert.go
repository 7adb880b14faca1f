package nab

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/seerops/seer/internal/detect/metric"
)

// AlertConfig holds the knobs of NAB's alerting around seer's detector:
// which rows alert, and how strongly. They serve NAB's scorer, which
// charges every row scored above its threshold and credits only the first
// in a window, and so wants one alert per anomaly; production acts on runs
// of anomalous points (the Stage) and reads none of them.
type AlertConfig struct {
	// HalfLife is the number of points after which the series' record
	// score counts half in deciding whether a score is a new alert, for a
	// series that has had no strong alert of late.
	HalfLife int `yaml:"half_life"`
	// Habit is how many points each recent strong alert adds to that
	// half-life: a series that keeps making strong alerts (a bursty count,
	// a daily batch job) makes them as its habit, so its record is
	// remembered longer and the next burst of the same size is no news,
	// while a quiet series is alerted again soon.
	Habit int `yaml:"habit"`
	// Memory is the number of points after which a strong alert counts
	// half towards that habit.
	Memory int `yaml:"memory"`
	// Gain is how many times its decayed record score a point's score must
	// reach to be a new alert rather than more of what the series has
	// already been alerted on.
	Gain float64 `yaml:"gain"`
	// Escalate is how many times the level model's last alert a score
	// within escalateGap points of it must reach to alert again: a shift or
	// burst that grows over its first few points is one onset.
	Escalate float64 `yaml:"escalate"`
	// Repeat is by how much each earlier level model alert at least as
	// strong, decayed with RepeatHalfLife, discounts a new one: the alert
	// is divided by 1 + Repeat·count, so that a series whose bursts are its
	// daily habit stops alerting on them; 0 disables the discount.
	Repeat float64 `yaml:"repeat"`
	// RepeatHalfLife is the number of points after which an earlier alert
	// counts half in that discount.
	RepeatHalfLife int `yaml:"repeat_half_life"`
	// SeasonRepeat is Repeat for the seasonal model's alerts, discounted by
	// the same count of level model alerts; 0 disables it.
	SeasonRepeat float64 `yaml:"season_repeat"`
	// SeasonWeakRepeat is SeasonRepeat for a period that barely reached
	// the detector's SeasonMinACF, falling linearly to SeasonRepeat at an
	// autocorrelation of firmACF: a period a bursty series happened to line
	// its bursts up into is weak evidence of a cycle. At or below
	// SeasonRepeat it is off.
	SeasonWeakRepeat float64 `yaml:"season_weak_repeat"`
	// RangeHalfLife is HalfLife for the range feature's record.
	RangeHalfLife int `yaml:"range_half_life"`
}

// DefaultAlertConfig is the alerting with which seer's NAB figures are made.
func DefaultAlertConfig() AlertConfig {
	return AlertConfig{
		HalfLife:         75,
		Habit:            175,
		Memory:           2000,
		Gain:             1.2,
		Escalate:         1.4,
		Repeat:           0.04,
		RepeatHalfLife:   40000,
		SeasonRepeat:     0.5,
		SeasonWeakRepeat: 5,
		RangeHalfLife:    100,
	}
}

// Validate reports every problem of the configuration, each naming its field.
func (c AlertConfig) Validate() error {
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("nab alerting: %s is %v, want %s", field, v, want))
	}
	in := func(field string, v, lo, hi float64) {
		if !(v >= lo && v <= hi) {
			bad(field, v, fmt.Sprintf("in [%g,%g]", lo, hi))
		}
	}
	if c.HalfLife < 1 {
		bad("HalfLife", c.HalfLife, ">= 1")
	}
	if c.Habit < 0 {
		bad("Habit", c.Habit, ">= 0")
	}
	if c.Memory < 1 {
		bad("Memory", c.Memory, ">= 1")
	}
	in("Gain", c.Gain, 1, 100)
	in("Escalate", c.Escalate, 1, 100)
	in("Repeat", c.Repeat, 0, 100)
	if c.RepeatHalfLife < 1 {
		bad("RepeatHalfLife", c.RepeatHalfLife, ">= 1")
	}
	in("SeasonRepeat", c.SeasonRepeat, 0, 100)
	in("SeasonWeakRepeat", c.SeasonWeakRepeat, 0, 100)
	if c.RangeHalfLife < 1 {
		bad("RangeHalfLife", c.RangeHalfLife, ">= 1")
	}
	return errors.Join(errs...)
}

// Feature families that keep their own alert record.
const (
	levelAlert = 1 + iota
	rangeAlert
)

// alertGap is how many points after one family's alert a record of the
// other still counts as the same anomaly.
const alertGap = 10

// escalateGap is how many points after a level model alert a stronger
// score is still the same onset growing, which must reach Escalate times
// that alert to alert again.
const escalateGap = 2

// habitPower weighs an alert into the series' habit by its score to this
// power, so that strong alerts make the habit and the many faint ones a
// quiet record lets through do not.
const habitPower = 4

// repeatBins is the number of strength bins over [0,1] of the repeat counts.
const repeatBins = 36

// firmACF is the autocorrelation, corrected for the lag's overlap, at which
// a period is surely the series' cycle: a daily cycle with noise on top.
const firmACF = 0.8

// Alerter turns the production detector's per-point scores into NAB's
// per-row alert strength: a feature family's score (Result.Level or
// Result.Range) when it exceeds Gain times that family's record score,
// which decays with HalfLife (RangeHalfLife) points, lengthened by Habit
// points for each recent strong alert, unless the other family alerted
// within the last alertGap points, or the last alert was the level model's
// at most escalateGap points ago and the score is less than Escalate
// times that alert's; 0 otherwise. A level model alert is then divided by
// 1 + Repeat times the decayed number of earlier ones at least as strong, a
// seasonal one by 1 + SeasonRepeat (up to SeasonWeakRepeat for a weak
// period) times that number, as Numenta's anomaly likelihood learns a
// series' usual rate of anomalies. An alert never exceeds Result.Score.
// The row's score is the alert's likelihood, calibrated as the detector
// calibrates Result.Likelihood (see metric.Likelihood), so that NAB is
// scored at the production threshold on the production scale.
type Alerter struct {
	d   *metric.Detector
	cfg AlertConfig
	n   int // warm points seen

	lastAlert int8
	lastLevel float64 // the score of the last level model alert
	alertN    int     // the point of the last alert
	record    float64 // the highest level score, decayed by recDecay per point
	recDecay  float64
	// The recent strong alerts, each weighted by its score to the
	// habitPower, decayed with Memory as of point habitN; they set recDecay.
	habit  float64
	habitN int
	// The range feature's own decayed record.
	rangeRec, rangeDecay float64
	// The level model's past alerts by strength, decayed with
	// RepeatHalfLife as of point repN.
	rep  [repeatBins]float32
	repN int
}

// NewAlerter wraps a new detector with cfg in NAB's alerting with a.
func NewAlerter(cfg metric.Config, a AlertConfig) (*Alerter, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	d, err := metric.NewDetector(cfg)
	if err != nil {
		return nil, err
	}
	return &Alerter{d: d, cfg: a, recDecay: math.Exp2(-1 / float64(a.HalfLife)),
		rangeDecay: math.Exp2(-1 / float64(a.RangeHalfLife))}, nil
}

// Observe scores the point (t, v) with the detector and returns the
// detector's result and the point's alert strength.
func (al *Alerter) Observe(t time.Time, v float64) (metric.Result, float64) {
	before := al.d.Points()
	r := al.d.Observe(t, v)
	if al.d.Points() == before || !al.d.Warm() {
		// A skipped point, or warm-up: the model settling, not the
		// series' record.
		return r, 0
	}
	al.n++
	cfg := &al.cfg
	levelScore, rangeScore := r.Level, r.Range
	var alert float64
	// Each family keeps its own record, so that a spike does not mask a
	// later escape from the range, nor the reverse; but a record of one
	// within alertGap points of the other's alert is the same anomaly seen
	// twice, and is not alerted again.
	al.record *= al.recDecay
	lvl := levelScore > cfg.Gain*al.record
	al.record = max(al.record, levelScore)
	if lvl && al.lastAlert == levelAlert && al.n-al.alertN <= escalateGap && levelScore < cfg.Escalate*al.lastLevel {
		lvl = false
	}
	al.rangeRec *= al.rangeDecay
	rng := rangeScore > cfg.Gain*al.rangeRec
	al.rangeRec = max(al.rangeRec, rangeScore)
	if lvl && (al.lastAlert != rangeAlert || al.n-al.alertN > alertGap) {
		alert, al.lastLevel = levelScore, float64(float32(levelScore))
	}
	if rng && (al.lastAlert != levelAlert || al.n-al.alertN > alertGap) {
		alert = max(alert, rangeScore)
	}
	switch {
	case alert == 0:
	case alert == levelScore && lvl:
		al.lastAlert, al.alertN = levelAlert, al.n
	default:
		al.lastAlert, al.alertN = rangeAlert, al.n
	}
	if alert > 0 {
		al.learnHabit(alert)
		switch r.Feature {
		case metric.FeatureRange:
		case metric.FeatureSeasonal:
			alert = al.repeats(alert, al.seasonRepeat(), false)
		default:
			alert = al.repeats(alert, cfg.Repeat, true)
		}
	}
	if alert > 0 {
		c := al.d.Config()
		alert = metric.Likelihood(alert*c.Decades, c.HalfDecades)
	}
	return r, alert
}

// learnHabit counts an alert of strength a into the series' habit and sets
// the half-life of the record from the habit before it: a series that
// alerted strongly and often remembers its record for longer.
func (al *Alerter) learnHabit(a float64) {
	cfg := &al.cfg
	al.habit *= math.Exp2(-float64(al.n-al.habitN) / float64(cfg.Memory))
	al.habitN = al.n
	al.recDecay = math.Exp2(-1 / (float64(cfg.HalfLife) + float64(cfg.Habit)*al.habit))
	al.habit += math.Pow(a, habitPower)
}

// repeats returns alert a divided by 1 + g times the decayed number of
// earlier level model alerts at least as strong (RepeatHalfLife), and
// counts a if count is set.
//
// A count series whose bursts the level model flags every day or two makes
// them as its way of life, however large each is against the last few
// hours' noise. The record's habit forgets within Memory points, the count
// here over weeks of 5-minute points. A seasonal model found on such a
// series alerts on the same bursts, so its alerts are discounted by the
// same count; they are not counted, nor are the long-run range's.
func (al *Alerter) repeats(a, g float64, count bool) float64 {
	if g == 0 && !count {
		return a
	}
	f := float32(math.Exp2(-float64(al.n-al.repN) / float64(al.cfg.RepeatHalfLife)))
	al.repN = al.n
	b := min(int(a*repeatBins), repeatBins-1)
	var c float32
	for i := range al.rep {
		al.rep[i] *= f
		if i >= b {
			c += al.rep[i]
		}
	}
	if count {
		al.rep[b]++
	}
	return a / (1 + g*float64(c))
}

// seasonRepeat is the weight of the level model's repeat count in
// discounting a seasonal alert: SeasonRepeat for a period the series
// follows surely (autocorrelation firmACF or more), rising linearly to
// SeasonWeakRepeat for one that barely passed the detector's SeasonMinACF.
func (al *Alerter) seasonRepeat() float64 {
	return seasonWeight(al.cfg.SeasonRepeat, al.cfg.SeasonWeakRepeat, al.d.Config().SeasonMinACF, al.d.SeasonACF())
}

// seasonWeight is g for a period of autocorrelation acf at or above
// firmACF, rising linearly to weak at minACF.
func seasonWeight(g, weak, minACF, acf float64) float64 {
	span := firmACF - minACF
	if weak <= g || span <= 0 {
		return g
	}
	doubt := min(1, max(0, (firmACF-acf)/span))
	return g + (weak-g)*doubt
}
