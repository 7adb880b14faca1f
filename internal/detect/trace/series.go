package trace

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// skind says what a series measures.
type skind uint8

const (
	// kindOp: self time and error origins of (service, operation).
	kindOp skind = iota
	// kindUnreach: calls from a caller that failed to reach (peer, caller).
	kindUnreach
	// kindTimeout: incomplete traces begun in (service, "").
	kindTimeout
)

// skey names a series: a and b are (service, operation), (peer, caller) or
// (service, "") by kind.
type skey struct {
	kind skind
	a, b string
}

const (
	// logFloorMs keeps the log of tiny self times finite and stops the
	// noise of microsecond spans from looking like large relative changes.
	logFloorMs = 0.1
	// sdFloor is the least standard deviation (in log units, ~5%) assumed
	// for a window's mean, so that a very steady operation does not alarm
	// on a change nobody would care about.
	sdFloor = 0.05
	// ratioFloor is the least baseline failure ratio assumed in the
	// binomial test, because a baseline of a few errors in thousands is
	// not known well enough to call three errors an anomaly.
	ratioFloor = 0.01
	// freshRatio: a series without a baseline yet, or with a sparse one,
	// still raises an observation when at least this share of calls fail:
	// that is a fault whatever its baseline turns out to be, and learning
	// it as the baseline would hide the fault once warm.
	freshRatio = 0.5
)

// bucket accumulates the samples of one or more consecutive windows.
type bucket struct {
	open       bool
	first, cur int64 // window indexes
	n, k       int64 // samples, failures
	kd         int64 // executions deviating from the fingerprint
	sum, sum2  float64
	worst      float64
	worstTrace string
	errTrace   string
	errType    string
}

func (b *bucket) add(x float64, fail bool, traceID, errType string) {
	b.n++
	b.sum += x
	b.sum2 += x * x
	if b.worstTrace == "" || x > b.worst {
		b.worst, b.worstTrace = x, traceID
	}
	if fail {
		b.k++
		if b.errTrace == "" {
			b.errTrace = traceID
		}
		if errType != "" {
			b.errType = errType
		}
	}
}

func (b *bucket) addDeviant(dev bool) {
	if dev {
		b.kd++
	}
}

func (b *bucket) addRatio(fail bool, traceID, errType string) {
	b.n++
	if fail {
		b.k++
		if b.errTrace == "" {
			b.errTrace = traceID
		}
		if errType != "" {
			b.errType = errType
		}
	}
}

// alert is the firing state of one pattern of one series.
type alert struct {
	active      bool
	onset, last int64
}

// Which alert of a series.
const (
	alertLatency = iota
	alertRatio
	alertStruct
)

// series is the baseline of one operation or caller→peer pair.
type series struct {
	key      skey
	lastSeen int64
	b        bucket
	// learned is how many windows the baseline has learned from.
	learned int
	// Latency: EWMA of the window mean of log self time, of the
	// within-window variance, and of the between-window variance.
	mean, vin, vbet float64
	// Failure ratio: EWMA of samples and of failures per window; ed of
	// executions deviating from the fingerprint.
	en, ek, ed float64
	alerts     [3]alert

	// self is the decayed sketch of the operation's self time, learned
	// outside latency alarms; fp its call structure.
	self qsketch
	fp   *fingerprint
	// devs tallies the current window's deviations by fact.
	devs map[string]*deviation
}

// getSeries finds or makes a series; nil when the cap is reached.
func (s *Stage) getSeries(k skey, t int64) *series {
	sr := s.series[k]
	if sr == nil {
		if len(s.series) >= s.cfg.MaxSeries {
			s.st.SeriesShed++
			return nil
		}
		sr = &series{key: k}
		if k.kind == kindOp {
			sr.self = newQsketch(float64(s.cfg.StructMemory))
		}
		s.series[k] = sr
	}
	sr.lastSeen = max(sr.lastSeen, t)
	return sr
}

// advance moves sr's bucket to window w before a sample of w is added,
// judging the bucket when it has enough samples and w is past it.
func (s *Stage) advance(sr *series, w, now int64) {
	b := &sr.b
	switch {
	case !b.open:
		*b = bucket{open: true, first: w, cur: w}
	case w == b.cur:
	case w < b.cur:
		s.st.LateSamples++
	case b.n >= int64(s.cfg.MinSamples):
		s.judge(sr, now)
		*b = bucket{open: true, first: w, cur: w}
	case w-b.first < int64(s.cfg.MaxMergeWindows):
		b.cur = w // too few samples yet: merge with this window
	default:
		*b = bucket{open: true, first: w, cur: w}
	}
}

// closeWindows judges every bucket whose window ended more than Grace ago,
// so a pattern is reported without waiting for the next sample.
func (s *Stage) closeWindows(now int64) {
	win, grace := int64(s.cfg.Window), int64(s.cfg.Grace)
	for _, sr := range s.series {
		b := &sr.b
		if !b.open || (b.cur+1)*win+grace > now {
			continue
		}
		switch {
		case b.n >= int64(s.cfg.MinSamples) || s.overwhelming(sr):
			s.judge(sr, now)
			*b = bucket{}
		case (b.first+int64(s.cfg.MaxMergeWindows))*win+grace <= now:
			*b = bucket{}
		}
	}
}

// ageOut forgets series, edges and services not seen for their TTLs.
func (s *Stage) ageOut(now int64) {
	if now-s.aged < int64(s.cfg.Window) {
		return
	}
	s.aged = now
	for k, sr := range s.series {
		if sr.lastSeen < s.newest-int64(s.cfg.SeriesTTL) && !sr.b.open {
			delete(s.series, k)
		}
	}
	ttl := s.newest - int64(s.cfg.EdgeTTL)
	for k, e := range s.edges {
		if e.last < ttl {
			delete(s.edges, k)
		}
	}
	for k, t := range s.services {
		if t < ttl {
			delete(s.services, k)
			delete(s.callerOf, k)
			delete(s.loc, k)
		}
	}
}

// judge decides whether sr's closed bucket is anomalous, raises what it
// finds, and otherwise lets the baseline learn from it.
func (s *Stage) judge(sr *series, now int64) {
	b := &sr.b
	c := &s.cfg
	warm := sr.learned >= c.WarmupWindows
	n := float64(b.n)
	ratio, pBase := float64(b.k)/n, 0.0
	if sr.en > 0 {
		pBase = sr.ek / sr.en
	}
	onset := b.first * int64(c.Window)

	var latUp, latDown, ratioUp, structUp bool
	mw := b.sum / n
	vw := max(0, b.sum2/n-mw*mw)
	var z, sd float64
	if sr.key.kind == kindOp && warm {
		sd = math.Sqrt(max(sr.vbet, sr.vin/n) + sdFloor*sdFloor)
		z = (mw - sr.mean) / sd
		deltaMs := math.Exp(mw) - math.Exp(sr.mean)
		latUp = z >= c.LatencyZ && mw-sr.mean >= math.Log(c.LatencyRatio) &&
			deltaMs >= float64(c.MinLatencyDelta)/1e6
		latDown = z <= -c.LatencyZ && sr.mean-mw >= math.Log(c.LatencyRatio)
	}
	suspect := math.Abs(z) >= c.LatencyZ/2
	pDev := 0.0
	if sr.en > 0 {
		pDev = sr.ed / sr.en
	}
	if warm {
		var tail float64
		ratioUp, tail = s.ratioAnomalous(b.n, b.k, pBase)
		suspect = suspect || tail < math.Sqrt(c.ErrorAlpha)
		if sr.fp != nil {
			structUp, tail = s.ratioAnomalous(b.n, b.kd, pDev)
			suspect = suspect || tail < math.Sqrt(c.ErrorAlpha)
		}
	}
	// Half the calls failing (or not reaching their peer) is a fault,
	// warm baseline or not (see overwhelming).
	ratioUp = ratioUp || s.overwhelming(sr)

	if latUp {
		s.fire(sr, alertLatency, onset, now, func() signal.Observation {
			return s.latencyObs(sr, mw, sd, z)
		})
	} else {
		sr.alerts[alertLatency].active = false
	}
	if ratioUp {
		s.fire(sr, alertRatio, onset, now, func() signal.Observation {
			return s.ratioObs(sr, ratio, pBase)
		})
	} else {
		sr.alerts[alertRatio].active = false
	}
	if structUp {
		s.fire(sr, alertStruct, onset, now, func() signal.Observation {
			return s.structureObs(sr, float64(b.kd)/n, pDev)
		})
	} else {
		sr.alerts[alertStruct].active = false
	}
	clear(sr.devs)
	if latUp || latDown || ratioUp || structUp || suspect {
		// An anomalous window must not become normal, nor the half-faulty
		// window at a fault's onset or end.
		return
	}

	sr.learned++
	a := 1 / float64(min(sr.learned, c.MemoryWindows))
	if sr.learned == 1 {
		sr.mean, sr.vin, sr.vbet = mw, vw, 0
		sr.en, sr.ek, sr.ed = n, float64(b.k), float64(b.kd)
		return
	}
	d := mw - sr.mean
	sr.mean += a * d
	sr.vbet = (1 - a) * (sr.vbet + a*d*d)
	sr.vin += a * (vw - sr.vin)
	sr.en += a * (n - sr.en)
	sr.ek += a * (float64(b.k) - sr.ek)
	sr.ed += a * (float64(b.kd) - sr.ed)
}

// ratioAnomalous tells whether k failures in n are clearly above a baseline
// ratio p: enough of them, well above p, and improbable under it. tail is
// that probability, 1 when the count is too small to be judged.
func (s *Stage) ratioAnomalous(n, k int64, p float64) (anomalous bool, tail float64) {
	c := &s.cfg
	if k < int64(c.MinErrors) || n <= 0 {
		return false, 1
	}
	p0 := min(max(p, ratioFloor), 0.999)
	tail = binomTail(n, k, p0)
	actual := float64(k) / float64(n)
	if actual < p+c.MinErrorRatio || actual < 1.5*p0 {
		return false, tail
	}
	return tail < c.ErrorAlpha, tail
}

// overwhelming tells whether sr's bucket holds failures no baseline
// explains: half or more of its calls, at least MinErrors, improbable
// under the baseline so far. Such a bucket is judged at once, even before
// it has MinSamples calls, and raised whether or not the baseline is warm:
// a sparse operation (an external API called a few times a minute) learns
// its baseline slowly and noisily, the strict test cannot convict a
// handful of failures against it, and waiting for MinSamples calls takes
// half a minute or more while its callers' error ratios already say
// something is wrong.
func (s *Stage) overwhelming(sr *series) bool {
	b := &sr.b
	if sr.key.kind != kindOp && sr.key.kind != kindUnreach || b.k < int64(s.cfg.MinErrors) || float64(b.k) < freshRatio*float64(b.n) {
		return false
	}
	p := 0.0
	if sr.en > 0 {
		p = sr.ek / sr.en
	}
	return binomTail(b.n, b.k, min(max(p, ratioFloor), 0.999)) < math.Sqrt(s.cfg.ErrorAlpha)
}

// binomTail is P(X >= k) for X ~ Binomial(n, p), for k above the mean.
func binomTail(n, k int64, p float64) float64 {
	if k <= 0 {
		return 1
	}
	if k > n {
		return 0
	}
	if float64(k) <= float64(n)*p {
		return 1 // at or below the mean: nothing to see, and no long sum
	}
	lg := func(x int64) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	logT := lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
	odds := p / (1 - p)
	sum, term := 1.0, 1.0
	for i := k; i < n; i++ {
		term *= float64(n-i) / float64(i+1) * odds
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return math.Exp(logT) * sum
}

// fire raises an observation when a pattern appears, then at most once per
// Repeat while it persists; mk is called only when one is raised.
func (s *Stage) fire(sr *series, which int, onset, now int64, mk func() signal.Observation) {
	a := &sr.alerts[which]
	if !a.active {
		a.active, a.onset = true, onset
	} else if now-a.last < int64(s.cfg.Repeat) {
		return
	}
	a.last = now
	o := mk()
	o.Time = time.Unix(0, now).UTC()
	o.Start = time.Unix(0, a.onset).UTC()
	s.out = append(s.out, o)
}

func (s *Stage) latencyObs(sr *series, mw, sd, z float64) signal.Observation {
	b := &sr.b
	c := &s.cfg
	ms := func(x float64) float64 { return max(0, math.Exp(x)-logFloorMs) }
	actual, expected := ms(mw), ms(sr.mean)
	low, high := ms(sr.mean-c.LatencyZ*sd), ms(sr.mean+c.LatencyZ*sd)
	lr, lt := mw-sr.mean, math.Log(c.LatencyRatio)
	score := 1.0
	if lr > 0 && lt > 0 {
		score = 1 - 0.5*lt/max(lr, lt)
	}
	return signal.Observation{
		Entity: sr.key.a, Kind: signal.TraceLatency, Name: sr.key.b,
		Score: score, Actual: actual, Expected: expected, Low: low, High: high,
		Summary: fmt.Sprintf("self time of %s %.1fms, expected %.1fms (%.1f–%.1fms) over %d spans",
			sr.key.b, actual, expected, low, high, b.n),
		Evidence: map[string]string{
			"trace_id":  b.worstTrace,
			"direction": "up",
			"spans":     strconv.FormatInt(b.n, 10),
			"z":         strconv.FormatFloat(z, 'f', 1, 64),
		},
	}
}

func (s *Stage) ratioObs(sr *series, ratio, pBase float64) signal.Observation {
	b := &sr.b
	score := min(1, max(0, 0.5+0.5*(ratio-pBase)/max(1e-9, 1-pBase)))
	o := signal.Observation{
		Entity: sr.key.a, Name: sr.key.b,
		Score: score, Actual: ratio, Expected: pBase, Low: 0,
		High: min(1, max(pBase, ratioFloor)+s.cfg.MinErrorRatio),
		Evidence: map[string]string{
			"trace_id":  b.errTrace,
			"direction": "up",
			"failures":  strconv.FormatInt(b.k, 10),
			"samples":   strconv.FormatInt(b.n, 10),
		},
	}
	if b.errType != "" {
		o.Evidence["error_type"] = b.errType
	}
	switch sr.key.kind {
	case kindOp:
		o.Kind = signal.TraceErrors
		o.Summary = fmt.Sprintf("%d of %d %s spans failed here (%.1f%%), expected %.1f%%",
			b.k, b.n, sr.key.b, 100*ratio, 100*pBase)
		o.Evidence["facts"] = "error:" + caller(sr)
	case kindUnreach:
		o.Kind = signal.TraceUnreachable
		o.Evidence["caller"] = sr.key.b
		if b.errType == "" {
			o.Evidence["error_type"] = "unknown"
		}
		o.Summary = fmt.Sprintf("%d of %d calls from %s failed to reach %s (%.1f%%), expected %.1f%%",
			b.k, b.n, sr.key.b, sr.key.a, 100*ratio, 100*pBase)
		o.Evidence["facts"] = "unreachable:" + sr.key.b + ">" + sr.key.a
	case kindTimeout:
		o.Kind = signal.TraceTimeout
		o.Name = "incomplete_traces"
		o.Summary = fmt.Sprintf("%d of %d traces begun in %s did not complete (%.1f%%), expected %.1f%%",
			b.k, b.n, sr.key.a, 100*ratio, 100*pBase)
	}
	return o
}
