package metric

import "math"

// season keeps bucket means of the recent history, finds a period in them by
// autocorrelation, and scores each point against the value at the same phase
// one period earlier plus a learned offset (which follows level changes).
// A point within the bucket means of the neighbouring phases is not a
// deviation: a daily edge that comes a few points early or late is still
// the daily pattern, whereas the interpolated prediction would smear it.
type season struct {
	// buf holds bucket means less ref (the first one), in float32 to halve
	// the largest part of a series' state; bucket k is at buf[k%len(buf)].
	buf     []float32
	ref     float64
	bucket  int // points per bucket
	count   int // completed buckets
	pts     int // points added
	acc     float64
	accN    int
	checkIn int // buckets until the period is looked for again
	period  int // in buckets; 0 when none was found

	off, absR float64 // EWMA of the residual and of its absolute value
	n         int     // residual updates since the period was adopted
	r, scale  float64 // residual and scale of the point being observed
	e         float64 // its residual from the interpolated prediction
	ok        bool
	// acf is the autocorrelation at the period when it was last looked for,
	// corrected for the lag's overlap: how surely the series repeats itself
	// (see Detector.seasonRepeat).
	acf  float32
	tail tail // of the normal points' residuals since the period was adopted
}

func newSeason(buckets, bucket int) *season {
	s := &season{buf: make([]float32, buckets), bucket: bucket}
	s.tail.reset()
	return s
}

// minLag is the shortest period considered, in buckets, so that slow
// wander is not taken for a cycle.
const minLag = 3

// minBuckets is the history needed before a period is looked for.
const minBuckets = 32

// predictRange is the value at the same phase one period ago, interpolated
// between bucket centres, with the least and greatest of the bucket means
// around that phase (one bucket either side), so that a sharp daily edge
// that comes a few points early or late is not a deviation.
func (s *season) predictRange() (v, lo, hi float64, ok bool) {
	if s.period == 0 {
		return 0, 0, 0, false
	}
	b := float64(s.bucket)
	f := (float64(s.pts-s.period*s.bucket) - (b-1)/2) / b
	k0 := int(math.Floor(f))
	w := f - float64(k0)
	n := len(s.buf)
	if k0 < 0 || k0 < s.count-n || k0+1 >= s.count {
		return 0, 0, 0, false
	}
	a, b := float64(s.buf[k0%n]), float64(s.buf[(k0+1)%n])
	lo, hi = min(a, b), max(a, b)
	if k0 > 0 && k0 > s.count-n {
		c := float64(s.buf[(k0-1)%n])
		lo, hi = min(lo, c), max(hi, c)
	}
	if k0+2 < s.count {
		c := float64(s.buf[(k0+2)%n])
		lo, hi = min(lo, c), max(hi, c)
	}
	return s.ref + a*(1-w) + b*w, s.ref + lo, s.ref + hi, true
}

// score standardises v against the seasonal model; it returns the z, the
// expected value and the scale.
func (s *season) score(v, floor float64) (z, exp, scale float64, ok bool) {
	sp, lo, hi, ok := s.predictRange()
	s.ok = ok
	if !ok {
		return 0, 0, 0, false
	}
	exp = sp + s.off
	s.e = v - exp
	s.r = v - min(max(v, lo+s.off), hi+s.off)
	s.scale = max(k1*s.absR, floor)
	return s.r / s.scale, exp, s.scale, true
}

// learn updates the residual model with the point last scored (its tail
// only if the point was normal) and adds v to the bucket history, looking
// for the period again now and then.
func (s *season) learn(v float64, normal bool, cfg *Config) {
	if s.ok {
		if normal {
			s.tail.add(math.Abs(s.r), cfg.MinScale, cfg.TailHalfLife)
		}
		r, e := s.r, s.e
		if s.n > 5 {
			r = min(max(r, -cfg.Clip*s.scale), cfg.Clip*s.scale)
			e = min(max(e, -cfg.Clip*s.scale), cfg.Clip*s.scale)
		}
		s.n++
		s.off += max(cfg.LevelAlpha, 1/float64(s.n)) * e
		s.absR += max(cfg.ScaleAlpha, 1/float64(s.n)) * (math.Abs(r) - s.absR)
		s.ok = false
	}
	s.pts++
	s.acc += v
	s.accN++
	if s.accN < s.bucket {
		return
	}
	n := len(s.buf)
	mean := s.acc / float64(s.bucket)
	if s.count == 0 {
		s.ref = mean
	}
	s.buf[s.count%n] = float32(mean - s.ref)
	s.count++
	s.acc, s.accN = 0, 0
	s.checkIn--
	if s.count < minBuckets || s.checkIn > 0 {
		return
	}
	// Look often while the history fills, then every quarter of it: a
	// period does not change quickly and the search is the costly part.
	s.checkIn = minBuckets / 4
	if s.count >= n {
		s.checkIn = n / 4
	}
	p, acf := s.detect(cfg.SeasonMinACF)
	if p != s.period {
		s.period, s.off, s.absR, s.n = p, 0, 0, 0
		s.tail.reset()
	}
	s.acf = float32(acf)
}

// detect returns the lag, in buckets, with the highest local peak of the
// autocorrelation of the linearly detrended history, and that peak
// corrected for the lag's shorter overlap; or 0 when no peak reaches minACF.
func (s *season) detect(minACF float64) (int, float64) {
	size := len(s.buf)
	n := min(s.count, size)
	var x [maxSeasonBuckets]float64
	var acf [maxSeasonBuckets/2 + 2]float64
	start := (s.count - n) % size
	var sy, sky float64
	for k := range n {
		y := float64(s.buf[(start+k)%size])
		x[k] = y
		sy += y
		sky += float64(k) * y
	}
	fn := float64(n)
	kbar := (fn - 1) / 2
	b := (sky - kbar*sy) / (fn * (fn*fn - 1) / 12)
	a := sy/fn - b*kbar
	var c0 float64
	for k := range n {
		x[k] -= a + b*float64(k)
		c0 += x[k] * x[k]
	}
	if !(c0 > 0) {
		return 0, 0
	}
	top := n/2 + 1
	for l := minLag - 1; l <= top; l++ {
		var c float64
		for k := l; k < n; k++ {
			c += x[k] * x[k-l]
		}
		acf[l] = c / c0
	}
	best, lag := minACF, 0
	for l := minLag; l < top; l++ {
		if acf[l] >= best && acf[l] >= acf[l-1] && acf[l] >= acf[l+1] {
			best, lag = acf[l], l
		}
	}
	if lag == 0 {
		return 0, 0
	}
	// The sum at lag l has n-l terms against c0's n, so a perfect cycle of
	// l buckets scores only (n-l)/n: a daily cycle of 5-minute points,
	// 48 buckets of a full history of 256, could never look firm.
	return lag, best * fn / (fn - float64(lag))
}
