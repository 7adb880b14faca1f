package metric

import (
	"math"
	"time"
)

// Features that can fire, as reported in Result.Feature and the evidence.
const (
	FeatureSpike    = "spike"
	FeatureLevel    = "level"
	FeatureSeasonal = "seasonal"
	FeatureTrend    = "trend"
	FeatureRange    = "range"
)

// Directions of a deviation.
const (
	Up   = "up"
	Down = "down"
)

// k1 turns a mean absolute deviation into a Gaussian standard deviation.
const k1 = 1.2533141373155

// degenerate bounds, in MinScale, the high quantile of the deviations of a
// series that has never moved beyond float noise.
const degenerate = 2

// maxBlip is the longest anomalous run, in points, still learned as a blip.
const maxBlip = 2

// Feature families that keep their own alert record.
const (
	levelAlert = 1 + iota
	rangeAlert
)

// alertGap is how many points after one family's alert a record of the
// other still counts as the same anomaly.
const alertGap = 10

// escalateGap is how many points after a level model alert a stronger
// score is still the same onset growing, which must reach AlertEscalate
// times that alert to alert again.
const escalateGap = 2

// maxAbs bounds accepted values; beyond it squares overflow and state would
// be poisoned, so such values are skipped like NaN.
const maxAbs = 1e150

// Result is the verdict on one point.
type Result struct {
	// Score is the probability-like strength of the deviation in [0,1].
	Score float64
	// Anomalous is whether the point is out of range (Score >= Threshold
	// after warm-up).
	Anomalous bool
	// Expected is the value predicted for the point before it was seen;
	// Low and High bound the expected range: Band scales or the series'
	// recent largest deviation, the wider.
	Expected, Low, High float64
	// Feature names the scorer that fired (or scored highest).
	Feature string
	// Direction is Up or Down.
	Direction string
	// Start is the onset of the current anomalous run: its first point that
	// went out of range, which may precede the first anomalous point.
	Start time.Time
	// New is set on the first anomalous point of a run.
	New bool
	// Alarm is New outside the Suppress window of the previous alarm.
	Alarm bool
	// Alert is the strength of a new alert on this point, for consumers
	// that act on each alert once (NAB's scorer charges every row scored
	// above its threshold): a feature family's score (the level, spike and
	// seasonal features', or the range feature's) when it exceeds AlertGain
	// times that family's record score, which decays with AlertHalfLife
	// (RangeAlertHalfLife) points, lengthened by AlertHabit points for each
	// recent strong alert, unless the other family alerted within
	// the last few points, or the last alert was the level model's, at most
	// escalateGap points ago, and the score is less than AlertEscalate
	// times that alert's; 0 otherwise. A level model alert (spike or
	// level) is then divided by 1 + AlertRepeat times the decayed number of
	// earlier ones at least as strong, a seasonal one by 1 + SeasonRepeat
	// (up to SeasonWeakRepeat for a weak period) times that number, so that
	// bursts a series makes every day or two stop alerting. It never
	// exceeds Score. Unlike Alarm it needs no threshold: at any threshold, the
	// points whose Alert reaches it are the ones where the series first
	// scores that high since its record last did, so an ongoing anomaly, a
	// flapping series or a repeated blip of the same size alerts once, and a
	// worse one alerts again.
	Alert float64
	// Forecast is set when an exhaustion forecast fires on this point.
	Forecast Forecast
}

// Forecast is an exhaustion forecast: a significant rising trend that
// reaches the limit within the horizon.
type Forecast struct {
	// Fired is set on the one point that reports the forecast.
	Fired bool
	// ETA is the projected time until the limit is reached.
	ETA time.Duration
	// Slope is the Theil-Sen slope in units per second.
	Slope float64
	// Level is the fitted value at the current point.
	Level float64
	// Z is the Mann-Kendall statistic of the window.
	Z float64
	// Since is the start of the window the trend was fitted on.
	Since time.Time
}

// run tracks consecutive points deviating the same way, to date onsets.
type run struct {
	start time.Time
	n     int32 // not int, so that sign shares its word: 8 bytes a run
	sign  int8
}

func (r *run) add(t time.Time, z, lim float64) {
	var s int8
	switch {
	case z >= lim:
		s = 1
	case z <= -lim:
		s = -1
	}
	if s == 0 {
		r.n = 0
		return
	}
	if r.n == 0 || r.sign != s {
		r.start, r.sign, r.n = t, s, 0
	}
	if r.n < math.MaxInt32 {
		r.n++
	}
}

// runOnsetPoints is how many points of a run date its onset: a series
// that drifted mildly off its level for many points before it broke out
// began its anomaly where it broke out, not where it drifted.
const runOnsetPoints = 4

// since is the onset of the run if it deviates in direction s, else t: the
// run's first point, or of a longer run its last runOnsetPoints points.
func (r *run) since(t time.Time, s int8) time.Time {
	if r.n <= 0 || r.sign != s {
		return t
	}
	if r.n > runOnsetPoints {
		step := t.Sub(r.start) / time.Duration(r.n-1)
		return t.Add(-step * (runOnsetPoints - 1))
	}
	return r.start
}

// Detector scores one series causally. It is not safe for concurrent use;
// Stage serialises access.
type Detector struct {
	cfg        Config
	n          int // accepted points
	skipped    int
	outOfOrder int
	last       time.Time

	level, trend    float64
	absDev, up, dn  float64 // EWMA of |e|, max(e,0), max(-e,0)
	shift           float64 // EWMA of clipped z
	shiftNorm       float64 // sd of shift for independent residuals
	blipMean        float64 // the short mean after maxBlip equal residuals, relative to them
	zThr            float64 // the |z| whose score is Threshold
	shiftVar        float64 // EWMA of shift², which calibrates for correlated residuals
	mean, meanN     float64 // EWMA of raw residuals: all, and calm points' only
	band, soft, sea run

	// Empirical tails of the calm points' deviations: |residual| and |mean|.
	spikeT, shiftT tail
	// The current stretch of points that were not calm: its length and
	// largest |residual| and |seasonal residual|, learned as a blip if short.
	devN          int
	devPeak, devR float64
	devSum        float64 // its contribution to meanN had it been calm
	held          bool    // the last point was a first deviation held for confirmation

	inRun     bool
	alarmed   bool
	lastAlert int8    // the feature family of the last alert
	lastLevel float32 // the score of the last level model alert, in the padding
	quiet     int     // in-range points since the last anomalous one
	runPoints int
	runStart  time.Time
	lastAlarm time.Time
	record    float64 // the highest score, decayed by recDecay per point
	recDecay  float64
	// The recent strong alerts, each weighted by its score to the
	// habitPower, decayed with AlertMemory as of point habitN; they set
	// recDecay.
	habit  float64
	habitN int
	// The series' long-run range, each end drawn towards the middle by
	// RangeDecay per point, and the range feature's own decayed record.
	lo, hi, rangePrev    float64
	alertN               int // the point of the last alert
	rangeRec, rangeDecay float64
	// The level model's past alerts by strength, decayed with
	// RepeatHalfLife as of point repN: how often the series has been
	// alerted at least as strongly (see repeats).
	rep  [repeatBins]float32
	repN int

	season *season
	trendW *window
	// Long-run mean and mean absolute deviation of a utilization series.
	base, baseDev float64
}

// NewDetector returns a detector for one series. cfg should have passed
// Validate; DefaultConfig is used when it has not been filled in.
func NewDetector(cfg Config) *Detector {
	if cfg.Validate() != nil {
		fc := cfg.Forecast
		cfg = DefaultConfig()
		cfg.Forecast = fc
	}
	d := &Detector{cfg: cfg, zThr: zOf(cfg.Threshold, cfg.Decades),
		recDecay:   math.Exp2(-1 / float64(cfg.AlertHalfLife)),
		rangeDecay: math.Exp2(-1 / float64(cfg.RangeAlertHalfLife))}
	d.spikeT.reset()
	d.shiftT.reset()
	if a := cfg.ShiftAlpha; a > 0 {
		d.shiftNorm = math.Sqrt(a / (2 - a))
		d.blipMean = 1 - math.Pow(1-a, maxBlip)
	}
	if cfg.SeasonBuckets > 0 {
		d.season = newSeason(cfg.SeasonBuckets, cfg.SeasonBucket)
	}
	if cfg.Forecast {
		d.trendW = newWindow(cfg.ForecastWindow, cfg.ForecastStep)
	}
	return d
}

// Skipped is the number of NaN, infinite or absurdly large values ignored.
func (d *Detector) Skipped() int { return d.skipped }

// OutOfOrder is the number of points ignored because they were older than
// the last accepted one.
func (d *Detector) OutOfOrder() int { return d.outOfOrder }

// Points is the number of points accepted.
func (d *Detector) Points() int { return d.n }

// scales returns the robust standard deviations above and below the
// prediction, with the floors applied.
func (d *Detector) scales(pred float64) (sym, up, dn float64) {
	floor := max(d.cfg.MinScale, d.cfg.RelMinScale*math.Abs(pred))
	sym = max(k1*d.absDev, floor)
	// A side may only widen the range: a lagging baseline biases residuals
	// to one side, which would otherwise make the other side too narrow.
	up = max(2*k1*d.up, sym)
	dn = max(2*k1*d.dn, sym)
	return sym, up, dn
}

// Observe scores the point (t, v) and then learns from it.
func (d *Detector) Observe(t time.Time, v float64) Result {
	if math.IsNaN(v) || math.Abs(v) > maxAbs {
		d.skipped++
		return Result{}
	}
	if d.n > 0 && t.Before(d.last) {
		d.outOfOrder++
		return Result{}
	}
	d.last = t
	d.n++
	cfg := &d.cfg
	if d.n == 1 {
		d.level, d.lo, d.hi = v, v, v
		if d.season != nil {
			d.season.learn(v, false, cfg)
		}
		if d.trendW != nil {
			d.trendW.origin = t
			d.trendW.add(t, v)
			d.baseline(v)
		}
		return Result{Expected: v, Low: v, High: v, Feature: FeatureSpike, Direction: Up}
	}
	warm := d.n > cfg.WarmUp

	// Score against the level model. Each feature's score is the lesser of
	// its Gaussian improbability and how far it exceeds what the series has
	// shown recently, so that both must hold for an alarm.
	pred := d.level + d.trend
	e := v - pred
	sym, sUp, sDn := d.scales(pred)
	z := e / sUp
	if e < 0 {
		z = e / sDn
	}
	qSpike := d.spikeT.quantile(cfg.TailPoints, cfg.MinScale)
	r := Result{Expected: pred, Low: pred - max(cfg.Band*sDn, qSpike), High: pred + max(cfg.Band*sUp, qSpike),
		Feature: FeatureSpike}
	// Features are ranked by the lesser of their two ratios to the alarm
	// threshold, which needs no score: that is computed for the best only.
	gauss := math.Abs(z) / d.zThr // the highest Gaussian ratio of the features
	best := min(gauss, ratio(math.Abs(e), qSpike, cfg.TailK))
	bestZ, bestX, bestQ, bestK := z, math.Abs(e), qSpike, cfg.TailK

	if d.shiftNorm > 0 && d.n > 2 {
		lim := 2 * cfg.Clip
		d.shift += cfg.ShiftAlpha * (min(max(z, -lim), lim) - d.shift)
		sd := max(d.shiftNorm, math.Sqrt(d.shiftVar))
		zShift := d.shift / sd
		c := min(d.shift*d.shift, cfg.Clip*cfg.Clip*sd*sd)
		d.shiftVar += max(cfg.ScaleAlpha, 1/float64(d.n)) * (c - d.shiftVar)
		d.mean += cfg.ShiftAlpha * (e - d.mean)
		g := math.Abs(zShift) / d.zThr
		gauss = max(gauss, g)
		// A blip of maxBlip usual-size deviations is normal, and so is the
		// short mean it makes, however few of them the mean's own tail has
		// seen.
		q := max(d.shiftT.quantile(cfg.TailPoints, cfg.MinScale), d.blipMean*qSpike)
		x := math.Abs(d.mean)
		if s := min(g, ratio(x, q, cfg.LevelTailK)); s > best {
			best, r.Feature = s, FeatureLevel
			bestZ, bestX, bestQ, bestK = zShift, x, q, cfg.LevelTailK
		}
	}

	// Score against the seasonal model, which replaces the level model's
	// range when it explains the series better, in its scale and in its
	// tail, over at least a whole period: a GC sawtooth whose period is not
	// a whole number of buckets, or a sparse series whose blips happen to
	// line up, is predicted well most of the time but misses as far as the
	// level model where it misses.
	var rSea float64
	// While the seasonal model is in use, the level model's misses are the
	// series' pattern, so whether a point deviates is judged by the
	// seasonal model alone: its Gaussian ratio, and whether the point is
	// beyond its expected range.
	useSea, gSea, beyondSea := false, 0.0, false
	if s := d.season; s != nil {
		floor := max(cfg.MinScale, cfg.RelMinScale*math.Abs(pred))
		if zs, exp, ss, ok := s.score(v, floor); ok {
			rSea = math.Abs(s.r)
			d.sea.add(t, zs, cfg.Band)
			q := s.tail.quantile(cfg.TailPoints, cfg.MinScale)
			if s.n >= cfg.WarmUp+s.period*s.bucket && ss < cfg.SeasonGain*sym && q < cfg.SeasonGain*qSpike {
				r.Expected, r.Low, r.High = exp, exp-max(cfg.Band*ss, q), exp+max(cfg.Band*ss, q)
				g := math.Abs(zs) / d.zThr
				gauss = max(gauss, g)
				useSea, gSea, beyondSea = true, g, rSea > max(cfg.Band*ss, q)
				// It replaces the level and spike features too: their
				// misses at the pattern's edges are no news.
				r.Feature = FeatureSeasonal
				bestZ, bestX, bestQ, bestK = zs, rSea, q, cfg.TailK
			}
		}
	}

	r.Score = min(score(bestZ, cfg.Decades), beyond(bestX, bestQ, bestK, cfg.Threshold))
	levelScore := r.Score

	// Score against the series' long-run range: a value beyond all the
	// series has shown for a long while is news however noisy the series
	// is from point to point, which the level model, whose scale follows
	// that noise, cannot tell.
	var rangeScore float64
	if w := d.hi - d.lo; d.n > cfg.RangeWarmUp && w > max(cfg.MinScale, cfg.RelMinScale*math.Abs(pred)) {
		var x float64
		z := 1.0
		switch {
		case v > d.hi:
			x = (v - d.hi) / w
		case v < d.lo:
			x, z = (d.lo-v)/w, -1
		}
		// An escape counts from its second point on, by the lesser of the
		// two: a lone value just past the extremes is how a heavy-tailed
		// series makes its records.
		x *= z
		if x*d.rangePrev > 0 {
			rangeScore = min(1, cfg.RangeK*min(math.Abs(x), math.Abs(d.rangePrev)))
		}
		d.rangePrev = x
		if rangeScore > r.Score {
			r.Score, r.Feature, bestZ = rangeScore, FeatureRange, z
		}
	}
	r.Direction = Up
	var sign int8 = 1
	if bestZ < 0 {
		r.Direction, sign = Down, -1
	}

	// Date onsets before deciding, so that this point may be its own onset.
	d.band.add(t, z, cfg.Band)
	d.soft.add(t, z, 1)

	r.Anomalous = warm && r.Score >= cfg.Threshold
	if warm {
		// Warm-up scores are the model settling, not the series' record.
		// Each feature keeps its own record, so that a spike does not mask
		// a later escape from the range, nor the reverse; but a record of
		// one within alertGap points of the other's alert is the same
		// anomaly seen twice, and is not alerted again.
		d.record *= d.recDecay
		lvl := levelScore > cfg.AlertGain*d.record
		d.record = max(d.record, levelScore)
		// A deviation that grows over its first points (a shift settling
		// in, a burst building up) beats the record at each: within
		// escalateGap points of the last alert it is the same onset, news
		// again only once it is AlertEscalate times as strong.
		if lvl && d.lastAlert == levelAlert && d.n-d.alertN <= escalateGap && levelScore < cfg.AlertEscalate*float64(d.lastLevel) {
			lvl = false
		}
		d.rangeRec *= d.rangeDecay
		rng := rangeScore > cfg.AlertGain*d.rangeRec
		d.rangeRec = max(d.rangeRec, rangeScore)
		if lvl && (d.lastAlert != rangeAlert || d.n-d.alertN > alertGap) {
			r.Alert, d.lastLevel = levelScore, float32(levelScore)
		}
		if rng && (d.lastAlert != levelAlert || d.n-d.alertN > alertGap) {
			r.Alert = max(r.Alert, rangeScore)
		}
		switch {
		case r.Alert == 0:
		case r.Alert == levelScore && lvl:
			d.lastAlert, d.alertN = levelAlert, d.n
		default:
			d.lastAlert, d.alertN = rangeAlert, d.n
		}
		if r.Alert > 0 {
			d.learnHabit(r.Alert)
			switch r.Feature {
			case FeatureRange:
			case FeatureSeasonal:
				r.Alert = d.repeats(r.Alert, d.seasonRepeat(), false)
			default:
				r.Alert = d.repeats(r.Alert, cfg.AlertRepeat, true)
			}
		}
	}
	// A series that has never moved beyond float noise (an error ratio
	// before its first error, up before its first crash) cannot tell its
	// first blip from a fault by one point: the point waits for the next.
	// If that is anomalous too the run starts, dated back to the first; if
	// not, the first was a blip and is learned as one.
	wasHeld := d.held
	d.held = r.Anomalous && !d.inRun && !wasHeld && qSpike <= degenerate*cfg.MinScale
	if d.held {
		r.Anomalous = false
	}
	if r.Anomalous {
		if !d.inRun {
			d.inRun, d.runPoints, r.New = true, 0, true
			switch r.Feature {
			case FeatureLevel:
				d.runStart = d.soft.since(t, sign)
			case FeatureSeasonal:
				d.runStart = d.sea.since(t, sign)
			default:
				d.runStart = d.band.since(t, sign)
			}
			if !d.alarmed || t.Sub(d.lastAlarm) >= cfg.Suppress {
				r.Alarm, d.alarmed, d.lastAlarm = true, true, t
			}
		}
		d.quiet = 0
		d.runPoints++
		if r.Feature == FeatureSpike && d.runPoints >= 3 {
			r.Feature = FeatureLevel // a spike that lasts is a shift
		}
	} else if d.inRun {
		d.quiet++
		if d.quiet >= cfg.Hold {
			d.inRun = false
		}
	}
	if d.inRun {
		r.Start = d.runStart
	}

	// A point is deviant if improbable for a Gaussian, and so are the points
	// after it while they stay beyond the usual deviations.
	// A stretch judged by the level model alone would never end on a
	// seasonal series, and its tails would never learn again.
	deviant := r.Anomalous || d.held || warm && (gauss >= 1 || d.devN > 0 && math.Abs(e) > qSpike)
	if useSea {
		deviant = r.Anomalous || d.held || warm && (gSea >= 1 || d.devN > 0 && beyondSea)
	}
	d.learnTails(e, rSea, deviant)
	if s := d.season; s != nil {
		s.learn(v, !deviant, cfg)
	}
	d.learn(e, sUp, sDn, qSpike, warm, deviant)
	d.lo, d.hi = min(d.lo, v), max(d.hi, v)
	if a := cfg.RangeDecay; a > 0 {
		mid := (d.lo + d.hi) / 2
		d.lo += a * (mid - d.lo)
		d.hi -= a * (d.hi - mid)
	}
	if d.trendW != nil {
		d.baseline(v)
		if f, ok := d.trendW.add(t, v); ok && warm {
			r.Forecast = d.forecast(t, f)
		}
		if !r.Forecast.Fired && warm {
			r.Forecast = d.ramp(t, v)
		}
	}
	return r
}

// habitPower weighs an alert into the series' habit by its score to this
// power, so that strong alerts make the habit and the many faint ones a
// quiet record lets through do not.
const habitPower = 4

// learnHabit counts an alert of strength a into the series' habit and sets
// the half-life of the record from the habit before it: a series that
// alerted strongly and often remembers its record for longer.
func (d *Detector) learnHabit(a float64) {
	cfg := &d.cfg
	d.habit *= math.Exp2(-float64(d.n-d.habitN) / float64(cfg.AlertMemory))
	d.habitN = d.n
	d.recDecay = math.Exp2(-1 / (float64(cfg.AlertHalfLife) + float64(cfg.AlertHabit)*d.habit))
	d.habit += math.Pow(a, habitPower)
}

// repeatBins is the number of strength bins over [0,1] of repeats' counts;
// more would move a Detector up an allocation size class (256 bytes more).
const repeatBins = 36

// repeats returns alert a divided by 1 + g times the decayed number of
// earlier level model alerts at least as strong (RepeatHalfLife), and
// counts a if count is set.
//
// A count series whose bursts the level model flags every day or two makes
// them as its way of life, however large each is against the last few
// hours' noise, as Numenta's anomaly likelihood learns a series' usual rate
// of raw anomalies. The record's habit (learnHabit) forgets within
// AlertMemory points, the count here over weeks of 5-minute points: a burst
// the series made a week ago still says what it does. A seasonal model
// found on such a series (often a short, passing period, its tail young)
// alerts on the same bursts, so its alerts are discounted by the same
// count; they are not counted, nor are the long-run range's: on a truly
// seasonal series the seasonal model's few alerts are the anomalies
// themselves, and the range already judges a point against what the series
// has done for a long while.
func (d *Detector) repeats(a, g float64, count bool) float64 {
	if g == 0 && !count {
		return a
	}
	f := float32(math.Exp2(-float64(d.n-d.repN) / float64(d.cfg.RepeatHalfLife)))
	d.repN = d.n
	b := min(int(a*repeatBins), repeatBins-1)
	var c float32
	for i := range d.rep {
		d.rep[i] *= f
		if i >= b {
			c += d.rep[i]
		}
	}
	if count {
		d.rep[b]++
	}
	return a / (1 + g*float64(c))
}

// firmACF is the autocorrelation, corrected for the lag's overlap, at which
// a period is surely the series' cycle: a daily cycle with noise on top.
const firmACF = 0.8

// seasonRepeat is the weight of the level model's repeat count in
// discounting a seasonal alert: SeasonRepeat for a period the series
// follows surely (autocorrelation firmACF or more), rising linearly to
// SeasonWeakRepeat for one that barely passed SeasonMinACF.
//
// A bursty series can line its bursts up for a while into a period just
// good enough to be taken, whose seasonal model then alerts on the next
// burst as if it broke a pattern; the weaker the period, the likelier its
// alerts are the level model's routine bursts seen again, so the more the
// series' habit of bursts discounts them. A truly seasonal series (a daily
// cycle) has a strong period and keeps its seasonal alerts.
func (d *Detector) seasonRepeat() float64 {
	cfg := &d.cfg
	g, weak := cfg.SeasonRepeat, cfg.SeasonWeakRepeat
	span := firmACF - cfg.SeasonMinACF
	if weak <= g || span <= 0 {
		return g
	}
	doubt := min(1, max(0, (firmACF-float64(d.season.acf))/span))
	return g + (weak-g)*doubt
}

// learnTails teaches the tails the point's deviations if it was calm.
//
// A point that was improbable for a Gaussian is not calm: whether it is how
// the series behaves is only known once it has passed. A stretch of such
// points that ends within maxBlip points was a blip and is learned as one,
// so that a series that blips every few minutes learns its blips; a longer
// one is a change, never learned this way, so that it stays anomalous
// until the slowed level has followed it (and the tails learn the new
// normal then), rather than becoming the norm by its own weight.
func (d *Detector) learnTails(e, rSea float64, deviant bool) {
	cfg := &d.cfg
	a := cfg.ShiftAlpha
	if deviant {
		// The short mean of the calm points leaves the deviant ones out
		// until they turn out to be a blip.
		d.meanN -= a * d.meanN
		d.devSum += a * (e - d.devSum)
		d.devN++
		d.devPeak, d.devR = max(d.devPeak, math.Abs(e)), max(d.devR, rSea)
		return
	}
	if d.devN > 0 && d.devN <= maxBlip {
		d.meanN += d.devSum
		for range d.devN {
			d.spikeT.add(d.devPeak, cfg.MinScale, cfg.TailHalfLife)
			if s := d.season; s != nil && d.devR > 0 {
				s.tail.add(d.devR, cfg.MinScale, cfg.TailHalfLife)
			}
		}
	}
	d.devN, d.devPeak, d.devR, d.devSum = 0, 0, 0, 0
	d.spikeT.add(math.Abs(e), cfg.MinScale, cfg.TailHalfLife)
	if d.shiftNorm > 0 && d.n > 2 {
		d.meanN += a * (e - d.meanN)
		d.shiftT.add(math.Abs(d.meanN), cfg.MinScale, cfg.TailHalfLife)
	}
}

// learn updates the level, trend and scales with the clipped residual, so
// that a single outlier moves the baseline by at most Clip scales.
//
// While the point is anomalous the model learns AnomalyLearn times slower
// and the trend not at all, so that a lasting shift becomes the norm only
// after minutes, without the trend overshooting.
//
// A normal point is clipped no tighter than the deviations the series has
// shown recently (q), so that the scale of a sparse or heavy-tailed series
// learns its blips instead of staying at its floor.
func (d *Detector) learn(e, sUp, sDn, q float64, warm, anomalous bool) {
	cfg := &d.cfg
	if d.n > 5 {
		hi, lo := cfg.Clip*sUp, cfg.Clip*sDn
		if warm && !anomalous {
			hi, lo = max(hi, q), max(lo, q)
		}
		e = min(max(e, -lo), hi)
	}
	slow := 1.0
	if anomalous {
		slow = cfg.AnomalyLearn
	}
	a := max(cfg.LevelAlpha, 1/float64(d.n)) * slow
	d.level += d.trend + a*e
	if warm && !anomalous {
		d.trend += a * cfg.TrendBeta * e
	}
	as := max(cfg.ScaleAlpha, 1/float64(d.n-1)) * slow
	d.absDev += as * (math.Abs(e) - d.absDev)
	d.up += as * (max(e, 0) - d.up)
	d.dn += as * (max(-e, 0) - d.dn)
}

// score maps a standardised deviation to [0,1] by the improbability of a
// Gaussian two-sided tail, in decades: log10(1/p) / decades.
func score(z, decades float64) float64 {
	z = math.Abs(z)
	var l float64
	if z < 8 {
		l = -math.Log10(math.Erfc(z / math.Sqrt2))
	} else { // Mills ratio: p ≈ 2φ(z)/z, beyond where Erfc underflows
		l = (z*z/2 + math.Log(z) + 0.5*math.Log(2*math.Pi) - math.Ln2) / math.Ln10
	}
	return min(1, max(0, l/decades))
}

// zOf inverts score: the |z| whose score is s, by bisection.
func zOf(s, decades float64) float64 {
	lo, hi := 0.0, 1.0
	for score(hi, decades) < s && hi < 1e6 {
		hi *= 2
	}
	for range 64 {
		mid := (lo + hi) / 2
		if score(mid, decades) < s {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
