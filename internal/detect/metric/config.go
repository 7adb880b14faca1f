package metric

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config holds every knob of the production detector. The alerting of
// NAB's scorer (a record per series, habits, repeat discounts) is not here:
// it lives in eval/nab, around the Detector.
type Config struct {
	// WarmUp is the number of points learned from before any alarm.
	WarmUp int `yaml:"warm_up"`
	// Threshold is the likelihood (Result.Likelihood) at or above which a
	// point is anomalous, and makes a finding: one threshold for every
	// series, whatever its scale or noise. At 0.8 (with the default
	// HalfDecades) a deviation as large is expected by chance once in 10^8
	// of the series' points.
	Threshold float64 `yaml:"threshold"`
	// Decades is the improbability, in powers of ten, that maps to raw
	// score 1: Result.Score = log10(1/p) / Decades.
	Decades float64 `yaml:"decades"`
	// HalfDecades is the improbability, log10(1/p) by the series' own
	// model, whose likelihood is one half: Likelihood = 1 -
	// 2^(-log10(1/p)/HalfDecades); each HalfDecades more halves 1 -
	// Likelihood. The default, 8/log2(5) ≈ 3.45, makes likelihood 0.8 the
	// 8 decades findings needed before the calibration (raw score 0.5), and
	// 0.5 a deviation expected once in about 2,800 points: where NAB's
	// scorer, which charges a false alarm a ninth of a missed anomaly, is
	// best served (eval/nab).
	HalfDecades float64 `yaml:"half_decades"`
	// Band is the half-width of the reported expected range in robust
	// standard deviations; a point outside it counts towards an onset.
	Band float64 `yaml:"band"`
	// LevelAlpha is the EWMA weight of the level (baseline) update.
	LevelAlpha float64 `yaml:"level_alpha"`
	// TrendBeta scales LevelAlpha for the Holt trend update; 0 disables the trend.
	TrendBeta float64 `yaml:"trend_beta"`
	// ScaleAlpha is the EWMA weight of the absolute-deviation (scale) update.
	ScaleAlpha float64 `yaml:"scale_alpha"`
	// ShiftAlpha is the EWMA weight of the short average of standardised
	// residuals that detects sustained level shifts; 0 disables it.
	ShiftAlpha float64 `yaml:"shift_alpha"`
	// Clip bounds, in robust standard deviations, how far one point can pull
	// the baseline and the scale, so anomalies do not become the norm at once.
	Clip float64 `yaml:"clip"`
	// AnomalyLearn scales the learning rates while a point is anomalous, so
	// that a lasting shift becomes the norm only gradually.
	AnomalyLearn float64 `yaml:"anomaly_learn"`
	// MinScale is the absolute floor of the scale, so constant series do not
	// alarm on float noise.
	MinScale float64 `yaml:"min_scale"`
	// RelMinScale is the floor of the scale relative to the level.
	RelMinScale float64 `yaml:"rel_min_scale"`
	// TailK is how many times the series' own recent high quantile of
	// deviations (TailPoints) a deviation must reach for raw score 0.5
	// (Decades/2 decades: an exponential tail read from the series' own
	// record), on top of being improbable for a Gaussian: a series that
	// blips every few minutes learns its blips, a jump far beyond them
	// still fires.
	TailK float64 `yaml:"tail_k"`
	// LevelTailK is TailK for the short average of the residuals (the
	// level feature), which is lighter-tailed than single points.
	LevelTailK float64 `yaml:"level_tail_k"`
	// TailPoints is how many decayed past deviations define that quantile:
	// the size of deviation the series has shown about this many times.
	TailPoints float64 `yaml:"tail_points"`
	// TailHalfLife is the number of points after which past deviations
	// count half.
	TailHalfLife int `yaml:"tail_half_life"`
	// Hold is the number of in-range points that end an anomalous run.
	Hold int `yaml:"hold"`
	// Suppress is how long after an alarm a new run raises no Result.Alarm.
	Suppress time.Duration `yaml:"suppress"`
	// Repeat is the least time between two observations of one anomalous run.
	Repeat time.Duration `yaml:"repeat"`
	// ReportGain is how many times the score last reported for an
	// anomalous run a later score must reach to be reported at once,
	// before Repeat has passed: a disk filling leaves its range faintly
	// first and is worth a second word when it gets worse.
	ReportGain float64 `yaml:"report_gain"`

	// RangeK is how many times the width of the series' long-run range a
	// value's excess beyond it is scored: score = RangeK·excess/width, the
	// lesser excess of two points running, so that at the threshold the
	// series must stay 0.5/RangeK of the width beyond its range for
	// two points; 0 disables the range feature.
	RangeK float64 `yaml:"range_k"`
	// RangeDecay is the share of the distance to the middle by which each
	// end of the long-run range is drawn in per point, so that the range
	// forgets extremes over about 1/RangeDecay points.
	RangeDecay float64 `yaml:"range_decay"`
	// RangeWarmUp is the number of points the range is learned from
	// before it scores: a young series' range is what it has happened to
	// show so far.
	RangeWarmUp int `yaml:"range_warm_up"`
	// RangeWarmUpTime is how long the range is learned from before it
	// scores, if that comes before RangeWarmUp points and after
	// RangeWarmUpMin: a scrape every 15 s makes RangeWarmUp points four
	// hours, and two hours are enough to have seen a host's usual range; 0
	// counts points only.
	RangeWarmUpTime time.Duration `yaml:"range_warm_up_time"`
	// RangeWarmUpMin is the least number of points RangeWarmUpTime needs.
	RangeWarmUpMin int `yaml:"range_warm_up_min"`

	// SeasonBucket is the number of points averaged into one bucket of the
	// seasonal history.
	SeasonBucket int `yaml:"season_bucket"`
	// SeasonBuckets is how many buckets the seasonal history keeps (periods
	// up to half of it are found); 0 disables the seasonal scorer.
	SeasonBuckets int `yaml:"season_buckets"`
	// SeasonMinACF is the autocorrelation a lag needs to be taken as the period.
	SeasonMinACF float64 `yaml:"season_min_acf"`
	// SeasonGain is how much smaller the seasonal residual scale must be than
	// the level scale for the seasonal model to be used.
	SeasonGain float64 `yaml:"season_gain"`

	// Forecast enables the exhaustion forecast for this series; the Stage
	// sets it for every saturation of the semantics table (semconv).
	Forecast bool `yaml:"-"`
	// ForecastLimit is the value those series cannot exceed; the Stage
	// sets it from the semantics table (1 for a ratio, 100 for a percentage).
	ForecastLimit float64 `yaml:"-"`
	// ForecastHorizon is how soon the limit must be reached to report it.
	ForecastHorizon time.Duration `yaml:"forecast_horizon"`
	// ForecastStep is the number of points averaged into one forecast bucket.
	ForecastStep int `yaml:"forecast_step"`
	// ForecastWindow is the number of buckets the trend is fitted on.
	ForecastWindow int `yaml:"forecast_window"`
	// ForecastZ is the Mann-Kendall z a rising trend needs to be significant.
	ForecastZ float64 `yaml:"forecast_z"`
	// ForecastRamp is how long a steady climb must have lasted to be
	// forecast at once, before the window's fit can see it: every point
	// higher than the last for at least that long and three points,
	// climbing twice the series' typical step per point on average,
	// ending beyond its usual range (ForecastRampRise) and reaching the
	// limit within the horizon. A memory blow-up or a disk filling in
	// minutes is then reported within a few scrapes; 0 disables it.
	ForecastRamp time.Duration `yaml:"forecast_ramp"`
	// ForecastRampRise is ForecastRise for a ramp: how many spreads of the
	// series its newest point must lie above the long-run mean. The climb
	// itself is evidence the window's fit lacks, so the bar is far lower.
	// The Stage looks for ramps only on resources that accumulate (memory,
	// disk, pools, file descriptors by the semantics table): a CPU climbs
	// for a few scrapes whenever the traffic does, and that is no leak.
	ForecastRampRise float64 `yaml:"forecast_ramp_rise"`
	// ForecastRise is how many spreads of the series (its long-run spread
	// and the residual spread of the fit, the larger) both the fitted rise
	// over the window and the fitted level's excess over the long-run mean
	// must reach, so that a GC sawtooth or a slow wander within the usual
	// range is not taken for a leak.
	ForecastRise float64 `yaml:"forecast_rise"`
	// ForecastBaseline is the number of points over which the long-run mean
	// and spread are averaged.
	ForecastBaseline int `yaml:"forecast_baseline"`
	// ForecastSuppress is how long after a forecast no other is reported.
	ForecastSuppress time.Duration `yaml:"forecast_suppress"`

	// MaxSeries bounds the series a Stage tracks; new series beyond it are
	// counted and dropped.
	MaxSeries int `yaml:"max_series"`
	// MaxSeriesPerEntity bounds the label sets of one entity's series a
	// Stage tracks, so that one exporter with a label of unbounded values
	// cannot crowd out the others; the series cut are counted.
	MaxSeriesPerEntity int `yaml:"max_series_per_entity"`
	// MaxLabels bounds the labels a finding carries; the rest are cut and
	// counted in its evidence (labels_cut).
	MaxLabels int `yaml:"max_labels"`

	// Budget is the number of findings a series may report before it must
	// earn them back by being quiet, one per BudgetRefill of in-range
	// points: chronic noise then stays quiet. A series out of tokens still
	// reports a run that reaches a level beyond every anomalous value it
	// has shown, so a new level is never hidden. 0 turns the budget off.
	Budget float64 `yaml:"budget"`
	// BudgetRefill is how long a series must stay in range to earn one
	// finding back.
	BudgetRefill time.Duration `yaml:"budget_refill"`

	// EntityMetrics is the most series of one entity the Stage scores
	// jointly with an entity detector (Entity): the first judged series
	// the entity shows, up to this many. It costs 4n² numbers an entity
	// (32 series: 32 KiB, 1 KiB a series). 0 turns joint scoring off.
	EntityMetrics int `yaml:"entity_metrics"`
	// EntityReport is the entity score at which a joint anomaly that no
	// series' own detector reported is a finding of its own (0.8: a row
	// as unusual as one in about 3,000 of the entity's own). A joint
	// anomaly that a member's detector reported too, at Entity.Threshold,
	// becomes one finding naming every member that moved.
	EntityReport float64 `yaml:"entity_report"`
	// Entity configures the entity detector.
	Entity EntityConfig `yaml:"entity"`
}

// Limits of the fixed-size scratch arrays used on the hot path.
const (
	maxForecastWindow = 64
	maxSeasonBuckets  = 1024
)

// DefaultConfig is tuned for 5-second service metrics.
func DefaultConfig() Config {
	return Config{
		WarmUp:             30,
		Threshold:          0.8,
		Decades:            16,
		HalfDecades:        8 / math.Log2(5),
		Band:               3,
		LevelAlpha:         0.05,
		TrendBeta:          0.05,
		ScaleAlpha:         0.02,
		ShiftAlpha:         0.3,
		Clip:               3,
		AnomalyLearn:       0.25,
		MinScale:           1e-6,
		RelMinScale:        0.01,
		TailK:              3,
		LevelTailK:         2,
		TailPoints:         1,
		TailHalfLife:       360,
		Hold:               3,
		Suppress:           5 * time.Minute,
		Repeat:             time.Minute,
		ReportGain:         1.4,
		RangeK:             10,
		RangeDecay:         0.0003,
		RangeWarmUp:        1000,
		RangeWarmUpTime:    2 * time.Hour,
		RangeWarmUpMin:     400,
		SeasonBucket:       6,
		SeasonBuckets:      256,
		SeasonMinACF:       0.5,
		SeasonGain:         0.8,
		ForecastLimit:      1,
		ForecastHorizon:    30 * time.Minute,
		ForecastStep:       2,
		ForecastWindow:     32,
		ForecastZ:          4,
		ForecastRamp:       30 * time.Second,
		ForecastRampRise:   1.5,
		ForecastRise:       4,
		ForecastBaseline:   720,
		ForecastSuppress:   30 * time.Minute,
		MaxSeries:          100000,
		MaxSeriesPerEntity: 5000,
		MaxLabels:          8,
		Budget:             3,
		BudgetRefill:       20 * time.Minute,
		EntityMetrics:      32,
		EntityReport:       0.8,
		Entity:             DefaultEntityConfig(),
	}
}

// Validate reports every problem of the configuration, each naming its field.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("metric detector: %s is %v, want %s", field, v, want))
	}
	unit := func(field string, v float64) { // (0,1]
		if !(v > 0 && v <= 1) {
			bad(field, v, "in (0,1]")
		}
	}
	positive := func(field string, v float64) {
		if !(v > 0) {
			bad(field, v, "> 0")
		}
	}
	if c.WarmUp < 2 {
		bad("WarmUp", c.WarmUp, ">= 2")
	}
	if !(c.Threshold > 0 && c.Threshold <= 1) {
		bad("Threshold", c.Threshold, "in (0,1]")
	}
	positive("Decades", c.Decades)
	if !(c.HalfDecades > 0 && c.HalfDecades <= 100) {
		bad("HalfDecades", c.HalfDecades, "in (0,100]")
	}
	positive("Band", c.Band)
	unit("LevelAlpha", c.LevelAlpha)
	if !(c.TrendBeta >= 0 && c.TrendBeta <= 1) {
		bad("TrendBeta", c.TrendBeta, "in [0,1]")
	}
	unit("ScaleAlpha", c.ScaleAlpha)
	if !(c.ShiftAlpha >= 0 && c.ShiftAlpha < 1) {
		bad("ShiftAlpha", c.ShiftAlpha, "in [0,1)")
	}
	positive("Clip", c.Clip)
	unit("AnomalyLearn", c.AnomalyLearn)
	if !(c.MinScale > 0) {
		bad("MinScale", c.MinScale, "> 0")
	}
	if !(c.RelMinScale >= 0) {
		bad("RelMinScale", c.RelMinScale, ">= 0")
	}
	if !(c.TailK >= 1) {
		bad("TailK", c.TailK, ">= 1")
	}
	if !(c.LevelTailK >= 1) {
		bad("LevelTailK", c.LevelTailK, ">= 1")
	}
	if !(c.TailPoints >= 1 && c.TailPoints <= 1000) {
		bad("TailPoints", c.TailPoints, "in [1,1000]")
	}
	if c.TailHalfLife < 1 || c.TailHalfLife > maxTailHalfLife {
		bad("TailHalfLife", c.TailHalfLife, fmt.Sprintf("in [1,%d]", maxTailHalfLife))
	}
	if c.Hold < 1 {
		bad("Hold", c.Hold, ">= 1")
	}
	if c.Suppress < 0 {
		bad("Suppress", c.Suppress, ">= 0")
	}
	if c.Repeat < 0 {
		bad("Repeat", c.Repeat, ">= 0")
	}
	if !(c.ReportGain >= 1 && c.ReportGain <= 100) {
		bad("ReportGain", c.ReportGain, "in [1,100]")
	}
	if !(c.RangeK >= 0 && c.RangeK <= 1e6) {
		bad("RangeK", c.RangeK, "in [0,1e6]")
	}
	if !(c.RangeDecay >= 0 && c.RangeDecay < 1) {
		bad("RangeDecay", c.RangeDecay, "in [0,1)")
	}
	if c.RangeWarmUp < 0 {
		bad("RangeWarmUp", c.RangeWarmUp, ">= 0")
	}
	if c.RangeWarmUpTime < 0 {
		bad("RangeWarmUpTime", c.RangeWarmUpTime, ">= 0 (0: points only)")
	}
	if c.RangeWarmUpMin < 0 {
		bad("RangeWarmUpMin", c.RangeWarmUpMin, ">= 0")
	}
	if c.SeasonBuckets != 0 {
		if c.SeasonBuckets < minBuckets || c.SeasonBuckets > maxSeasonBuckets {
			bad("SeasonBuckets", c.SeasonBuckets, fmt.Sprintf("0 (off) or in [%d,%d]", minBuckets, maxSeasonBuckets))
		}
		if c.SeasonBucket < 1 {
			bad("SeasonBucket", c.SeasonBucket, ">= 1")
		}
		unit("SeasonMinACF", c.SeasonMinACF)
		unit("SeasonGain", c.SeasonGain)
	}
	if c.ForecastLimit != c.ForecastLimit || c.ForecastLimit > 1e300 || c.ForecastLimit < -1e300 {
		bad("ForecastLimit", c.ForecastLimit, "a finite number")
	}
	if c.ForecastHorizon <= 0 {
		bad("ForecastHorizon", c.ForecastHorizon, "> 0")
	}
	if c.ForecastStep < 1 {
		bad("ForecastStep", c.ForecastStep, ">= 1")
	}
	if c.ForecastWindow < 8 || c.ForecastWindow > maxForecastWindow {
		bad("ForecastWindow", c.ForecastWindow, fmt.Sprintf("in [8,%d]", maxForecastWindow))
	}
	positive("ForecastZ", c.ForecastZ)
	if c.ForecastRamp < 0 {
		bad("ForecastRamp", c.ForecastRamp, ">= 0 (0: off)")
	}
	if !(c.ForecastRampRise >= 0) {
		bad("ForecastRampRise", c.ForecastRampRise, ">= 0")
	}
	if !(c.ForecastRise >= 0) {
		bad("ForecastRise", c.ForecastRise, ">= 0")
	}
	if c.ForecastBaseline < 1 {
		bad("ForecastBaseline", c.ForecastBaseline, ">= 1")
	}
	if c.ForecastSuppress < 0 {
		bad("ForecastSuppress", c.ForecastSuppress, ">= 0")
	}
	if c.MaxSeries < 1 {
		bad("MaxSeries", c.MaxSeries, ">= 1")
	}
	if c.MaxSeriesPerEntity < 1 {
		bad("MaxSeriesPerEntity", c.MaxSeriesPerEntity, ">= 1")
	}
	if c.MaxLabels < 0 {
		bad("MaxLabels", c.MaxLabels, ">= 0")
	}
	if !(c.Budget >= 0) {
		bad("Budget", c.Budget, ">= 0 (0: off)")
	}
	if c.Budget > 0 && c.BudgetRefill <= 0 {
		bad("BudgetRefill", c.BudgetRefill, "> 0 when Budget is set")
	}
	if c.EntityMetrics < 0 || c.EntityMetrics > maxEntityMetrics {
		bad("EntityMetrics", c.EntityMetrics, fmt.Sprintf("in [0,%d] (0: off)", maxEntityMetrics))
	}
	if c.EntityMetrics > 0 {
		if !(c.EntityReport > 0 && c.EntityReport <= 1) {
			bad("EntityReport", c.EntityReport, "in (0,1]")
		}
		if err := c.Entity.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
