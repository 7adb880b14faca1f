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
	// FeatureJoint marks a finding of the entity detector: a series that
	// left its usual relation to its entity's other series.
	FeatureJoint = "joint"
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

// strong is the raw score from which a point is beyond doubt: a
// feature's Gaussian improbability of Decades/2 and TailK times the
// series' recent largest deviation. The model learns from such points
// slowly (AnomalyLearn) and never takes them into its tails as calm.
const strong = 0.5

// maxAbs bounds accepted values; beyond it squares overflow and state would
// be poisoned, so such values are skipped like NaN.
const maxAbs = 1e150

// Result is the verdict on one point.
type Result struct {
	// Score is the raw strength of the deviation in [0,1]: its
	// improbability by the series' own model, log10(1/p)/Decades, where
	// p is the lesser evidence of a Gaussian on the series' scale and of
	// the series' own recent deviations (a deviation ρ times the largest
	// of its last N is read as an exponential tail would have it, p ≈
	// N^-ρ: TailK sets N), so that Score·Decades is in decades.
	Score float64
	// Likelihood is Score calibrated: 1 - 2^(-log10(1/p)/HalfDecades),
	// one half where a deviation as large is expected once in
	// 10^HalfDecades points of the series. Every score keeps its rank.
	Likelihood float64
	// Anomalous is whether the point is out of range (Likelihood >=
	// Threshold after warm-up).
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
	// Level and Range are the scores of the two feature families Score is
	// the larger of: the level model's (spike, level shift, seasonal) and
	// the long-run range's. A consumer that acts on each alert once (NAB's
	// alerting in eval/nab) keeps a record of each.
	Level, Range float64
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
	first      time.Time

	level, trend    float64
	absDev, up, dn  float64 // EWMA of |e|, max(e,0), max(-e,0)
	shift           float64 // EWMA of clipped z
	shiftNorm       float64 // sd of shift for independent residuals
	blipMean        float64 // the short mean after maxBlip equal residuals, relative to them
	zThr            float64 // the |z| whose score is strong
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
	quiet     int // in-range points since the last anomalous one
	runPoints int
	runStart  time.Time
	lastAlarm time.Time
	// The series' long-run range, each end drawn towards the middle by
	// RangeDecay per point.
	lo, hi, rangePrev float64
	// pend is the first point of an escape from the range, held back from
	// it until the next point (see widen).
	pend    float64
	pending bool

	season *season
	trendW *window
	// Long-run mean and mean absolute deviation of a utilization series.
	base, baseDev float64
}

// NewDetector returns a detector for one series, or cfg's problems (see
// Validate): a configuration is never silently replaced.
func NewDetector(cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg, zThr: zOf(strong, cfg.Decades)}
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
	return d, nil
}

// jumpShare is the excess beyond the long-run range, in widths of the
// range, from which an escape's first point is held back from the range.
const jumpShare = 0.5

// widen takes v into the long-run range. An escape is judged against the
// range it escaped, not one its own first point widened: the first point
// beyond the range is held back (pend) until the next says whether it was
// a lone record or the start of a new level (when it jumped jumpShare of
// the range's width beyond it: a heavy-tailed series makes its records
// by small steps); either way both are taken in
// then, so that a new level is reported once and becomes the range.
func (d *Detector) widen(v float64, escaped bool, prev float64) {
	if escaped && prev == 0 && !d.pending && math.Abs(d.rangePrev) >= jumpShare {
		d.pend, d.pending = v, true
		return
	}
	if d.pending {
		d.lo, d.hi = min(d.lo, d.pend), max(d.hi, d.pend)
		d.pending = false
	}
	d.lo, d.hi = min(d.lo, v), max(d.hi, v)
}

// rangeWarm tells whether the long-run range has been learned long enough
// to score: RangeWarmUp points, or RangeWarmUpTime of at least
// RangeWarmUpMin points, whichever comes first (at a 15 s scrape, 1000
// points are four hours).
func (d *Detector) rangeWarm(t time.Time) bool {
	c := &d.cfg
	return d.n > c.RangeWarmUp || c.RangeWarmUpTime > 0 && d.n > c.RangeWarmUpMin && t.Sub(d.first) >= c.RangeWarmUpTime
}

// Skipped is the number of NaN, infinite or absurdly large values ignored.
func (d *Detector) Skipped() int { return d.skipped }

// OutOfOrder is the number of points ignored because they were older than
// the last accepted one.
func (d *Detector) OutOfOrder() int { return d.outOfOrder }

// Points is the number of points accepted.
func (d *Detector) Points() int { return d.n }

// Config is the detector's configuration.
func (d *Detector) Config() Config { return d.cfg }

// Warm is whether the detector has learned from WarmUp points: before, no
// point is anomalous.
func (d *Detector) Warm() bool { return d.n > d.cfg.WarmUp }

// SeasonACF is the autocorrelation at the period the seasonal model uses,
// corrected for the lag's overlap; 0 when no period has been found.
func (d *Detector) SeasonACF() float64 {
	if d.season == nil || d.season.period == 0 {
		return 0
	}
	return float64(d.season.acf)
}

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
	if d.n == 1 {
		d.first = t
	}
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

	r.Score = min(score(bestZ, cfg.Decades), beyond(bestX, bestQ, bestK, strong))
	levelScore := r.Score

	// Score against the series' long-run range: a value beyond all the
	// series has shown for a long while is news however noisy the series
	// is from point to point, which the level model, whose scale follows
	// that noise, cannot tell.
	var rangeScore float64
	prevEscape := d.rangePrev
	escaped := false
	if w := d.hi - d.lo; d.rangeWarm(t) && w > max(cfg.MinScale, cfg.RelMinScale*math.Abs(pred)) {
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
		escaped = x != 0
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

	r.Likelihood = Likelihood(r.Score*cfg.Decades, cfg.HalfDecades)
	r.Anomalous = warm && r.Likelihood >= cfg.Threshold
	sure := warm && r.Score >= strong
	r.Level, r.Range = levelScore, rangeScore
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
	// The model's own learning follows the strong bound, not the
	// reporting threshold: what it takes in as normal is unchanged by how
	// sensitive reporting is.
	deviant := sure || d.held || warm && (gauss >= 1 || d.devN > 0 && math.Abs(e) > qSpike)
	if useSea {
		deviant = sure || d.held || warm && (gSea >= 1 || d.devN > 0 && beyondSea)
	}
	d.learnTails(e, rSea, deviant)
	if s := d.season; s != nil {
		s.learn(v, !deviant, cfg)
	}
	d.learn(e, sUp, sDn, qSpike, warm, deviant)
	d.widen(v, escaped, prevEscape)
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

// Likelihood maps an improbability of decades (log10(1/p)) to [0,1): 1 -
// 2^(-decades/half), one half at half decades. It ranks as decades do and
// never saturates; 1 - Likelihood halves with every half decades more.
func Likelihood(decades, half float64) float64 {
	return 1 - math.Exp2(-max(decades, 0)/half)
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
