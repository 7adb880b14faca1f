package metric

import (
	"math"
	"sync"
	"time"
)

// scratch holds the pairwise slopes of one fit; pooled because zeroing it
// on the stack for every fit would cost more than the fit.
type scratch struct {
	slopes [maxForecastWindow * maxForecastWindow / 4]float64
	t, y   [maxForecastWindow]float64
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// window keeps bucket means of the recent history of a utilization series
// for a robust trend fit.
type window struct {
	t, y   []float64 // bucket k is at index k%len; t in seconds since origin
	count  int
	step   int
	refit  int // buckets until the next fit
	accT   float64
	accY   float64
	accN   int
	origin time.Time

	// The newest points' rises and the seconds between them, newest at
	// (points-1)%maxRampSteps, for a ramp (see Config.ForecastRamp); the
	// number of steps up in a row; the last point; and the typical size
	// of a step between two points, a mean of |Δ| with each step capped
	// at rampCap of it, so that the rare GC drop or burst does not
	// inflate it.
	rises, gaps [maxRampSteps]float32
	runN        int
	lastT       float64
	lastV       float64
	points      int
	step1       float64

	fired    bool
	lastFire time.Time
	// gate is the bucket mean below which no fit is needed: half of the
	// way from the long-run mean to the excess a forecast requires (see
	// Detector.exhausts), kept by Detector.baseline. A healthy series then
	// costs no fits at all.
	gate float64
}

// fit is a trend fitted on the window.
type fit struct {
	slope  float64 // per second
	level  float64 // fitted value now
	z      float64 // Mann-Kendall
	since  float64 // seconds since origin of the oldest bucket
	rise   float64 // fitted rise over the window
	spread float64 // robust standard deviation of the residuals of the fit
}

func newWindow(size, step int) *window {
	return &window{t: make([]float64, size), y: make([]float64, size), step: step}
}

// add accumulates (t, v); when a bucket completes and the window is full it
// refits the trend.
func (w *window) add(t time.Time, v float64) (fit, bool) {
	secs := t.Sub(w.origin).Seconds()
	if w.points > 0 {
		rise := v - w.lastV
		// A plain mean of the first steps, then an EWMA of capped ones.
		if a := 1 / float64(w.points); a > rampAlpha {
			w.step1 += a * (math.Abs(rise) - w.step1)
		} else {
			w.step1 += rampAlpha * (min(math.Abs(rise), rampCap*w.step1) - w.step1)
		}
		i := (w.points - 1) % maxRampSteps
		w.rises[i], w.gaps[i] = float32(rise), float32(secs-w.lastT)
		if rise > 0 {
			w.runN++
		} else {
			w.runN = 0
		}
	}
	w.lastT, w.lastV = secs, v
	w.points++
	w.accT += secs
	w.accY += v
	w.accN++
	if w.accN < w.step {
		return fit{}, false
	}
	n := len(w.t)
	w.t[w.count%n] = w.accT / float64(w.accN)
	w.y[w.count%n] = w.accY / float64(w.accN)
	w.count++
	w.accT, w.accY, w.accN = 0, 0, 0
	w.refit--
	if w.count < n || w.refit > 0 || w.y[(w.count-1)%n] < w.gate {
		return fit{}, false
	}
	// Refitting every eighth of a window is ample for a horizon of minutes
	// and keeps the amortised cost per point low.
	w.refit = max(1, n/8)
	return w.fit(t.Sub(w.origin).Seconds(), n), true
}

// fit computes the Theil-Sen slope, the Mann-Kendall z and the fitted
// level at now of the newest k buckets of the window. The slope is the
// median over the pairs at least half of them apart: those carry most of
// the information and are a quarter of all pairs, which keeps the
// selection cheap.
func (w *window) fit(now float64, k int) fit {
	size := len(w.t)
	n := min(k, size)
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	tt, yy, slopes := sc.t[:n], sc.y[:n], sc.slopes[:]
	old := (w.count - n) % size
	for i := range n {
		tt[i], yy[i] = w.t[(old+i)%size], w.y[(old+i)%size]
	}
	s, m := 0, 0
	for i := range n {
		for j := i + 1; j < n; j++ {
			dy := yy[j] - yy[i]
			switch {
			case dy > 0:
				s++
			case dy < 0:
				s--
			}
			if dt := tt[j] - tt[i]; j-i >= n/2 && dt > 0 {
				slopes[m] = dy / dt
				m++
			}
		}
	}
	if m == 0 {
		return fit{since: tt[0]}
	}
	slope := median(slopes[:m])
	span := tt[n-1] - tt[0]
	for i := range n {
		yy[i] -= slope * tt[i]
	}
	mid := median(yy)
	level := mid + slope*now
	for i := range n {
		yy[i] = math.Abs(yy[i] - mid)
	}
	spread := 1.4826 * median(yy)
	fn := float64(n)
	sd := math.Sqrt(fn * (fn - 1) * (2*fn + 5) / 18)
	var z float64
	switch {
	case s > 0:
		z = float64(s-1) / sd
	case s < 0:
		z = float64(s+1) / sd
	}
	return fit{slope: slope, level: level, z: z, since: tt[0], rise: slope * span, spread: spread}
}

// forecast decides whether the fitted trend is an exhaustion worth
// reporting now: significant over the whole window, rising well beyond both
// the residual noise and the series' usual range (a GC sawtooth rises
// steadily for a while too, but only within its range), reaching the limit
// within the horizon, and not reported recently.
//
// A fast leak shows on the newer half of the window minutes before it
// dominates the whole (the Theil-Sen slope of a window that is half flat is
// still flat), so the newer half is fitted too when the whole does not
// convince; its rise must clear the same bars.
func (d *Detector) forecast(t time.Time, f fit) Forecast {
	cfg := &d.cfg
	w := d.trendW
	if w.fired && t.Sub(w.lastFire) < cfg.ForecastSuppress {
		return Forecast{}
	}
	eta, ok := d.exhausts(f)
	if !ok {
		f = w.fit(t.Sub(w.origin).Seconds(), len(w.t)/2)
		if eta, ok = d.exhausts(f); !ok {
			return Forecast{}
		}
	}
	w.fired, w.lastFire = true, t
	return Forecast{
		Fired: true,
		ETA:   time.Duration(eta * float64(time.Second)).Round(time.Second),
		Slope: f.slope,
		Level: f.level,
		Z:     f.z,
		Since: w.origin.Add(time.Duration(f.since * float64(time.Second))),
	}
}

// Tuning of the ramp's typical step (see window.step1): the EWMA weight,
// the cap on one step, how many typical steps a ramp must climb per step,
// and the fewest steps a ramp has whatever its span and the most it keeps
// (at scrapes faster than ForecastRamp/maxRampSteps, a ramp is judged on
// the newest maxRampSteps steps).
const (
	rampAlpha    = 0.02
	rampCap      = 3
	rampSteps    = 2
	minRampSteps = 3
	maxRampSteps = 8
)

// ramp reports a steady climb that has lasted ForecastRamp and ends beyond
// the series' usual range, reaching the limit within the horizon: every
// point higher than the last, by rampSteps typical steps of the series on
// average, so that noise that happens to line up is not a climb; and a
// GC sawtooth, which climbs steadily too, stays within its range. The
// climb judged is the newest ForecastRamp of the run (at most
// maxRampSteps steps): a leak that begins on the rising side of a
// sawtooth is judged by its own steps. v is the newest point.
func (d *Detector) ramp(t time.Time, v float64) Forecast {
	cfg := &d.cfg
	w := d.trendW
	if cfg.ForecastRamp <= 0 || w.runN < minRampSteps || v >= cfg.ForecastLimit ||
		w.fired && t.Sub(w.lastFire) < cfg.ForecastSuppress ||
		v < d.base+cfg.ForecastRampRise*max(k1*d.baseDev, cfg.MinScale) {
		return Forecast{}
	}
	var rise, span float64
	steps := 0
	for steps < min(w.runN, maxRampSteps) && (steps < minRampSteps || span < cfg.ForecastRamp.Seconds()) {
		i := (w.points - 2 - steps) % maxRampSteps
		rise += float64(w.rises[i])
		span += float64(w.gaps[i])
		steps++
	}
	if span < cfg.ForecastRamp.Seconds() && steps < maxRampSteps || rise < float64(steps)*rampSteps*w.step1 || !(span > 0) {
		return Forecast{}
	}
	slope := rise / span
	eta := (cfg.ForecastLimit - v) / slope
	if eta > cfg.ForecastHorizon.Seconds() {
		return Forecast{}
	}
	n := float64(steps + 1)
	w.fired, w.lastFire = true, t
	return Forecast{
		Fired: true,
		ETA:   time.Duration(eta * float64(time.Second)).Round(time.Second),
		Slope: slope,
		Level: v,
		Z:     (n*(n-1)/2 - 1) / math.Sqrt(n*(n-1)*(2*n+5)/18),
		Since: t.Add(-time.Duration(span * float64(time.Second))),
	}
}

// exhausts tells whether the fitted trend reaches the limit within the
// horizon and stands out, and in how many seconds.
func (d *Detector) exhausts(f fit) (eta float64, ok bool) {
	cfg := &d.cfg
	if f.z < cfg.ForecastZ || !(f.slope > 0) || f.level >= cfg.ForecastLimit {
		return 0, false
	}
	usual := max(k1*d.baseDev, cfg.MinScale)
	if f.rise < cfg.ForecastRise*max(usual, f.spread) || f.level < d.base+cfg.ForecastRise*usual {
		return 0, false
	}
	eta = (cfg.ForecastLimit - f.level) / f.slope
	return eta, eta <= cfg.ForecastHorizon.Seconds()
}

// median returns the middle element of a (the upper one for even lengths),
// reordering a.
func median(a []float64) float64 {
	k := len(a) / 2
	lo, hi := 0, len(a)-1
	for lo < hi {
		p := a[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// baseline updates the long-run mean and mean absolute deviation of a
// utilization series, against which a trend must stand out. A point moves
// them by at most Clip deviations, so that a leak does not widen the range
// it is measured against before it is reported.
func (d *Detector) baseline(v float64) {
	cfg := &d.cfg
	if d.n == 1 {
		d.base = v
		return
	}
	a := max(1/float64(cfg.ForecastBaseline), 1/float64(d.n))
	dev := v - d.base
	if d.n > cfg.WarmUp {
		lim := cfg.Clip * max(k1*d.baseDev, cfg.MinScale)
		dev = min(max(dev, -lim), lim)
	}
	d.base += a * dev
	d.baseDev += a * (math.Abs(dev) - d.baseDev)
	if d.trendW != nil {
		d.trendW.gate = d.base + cfg.ForecastRise*max(k1*d.baseDev, cfg.MinScale)/2
	}
}
