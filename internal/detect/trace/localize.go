package trace

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Suspect is one service ranked by how much of the recent harm to requests
// is its own: time it added on the critical path of traces, errors that
// originated in it, calls that could not reach it.
type Suspect struct {
	Service string  `json:"service"`
	Score   float64 `json:"score"`
	// Latency is the growth of the service's own critical-path time per
	// trace, as a share of the usual end-to-end time of a trace.
	Latency float64 `json:"latency"`
	// Errors is the growth of errors originating in the service, per trace.
	Errors float64 `json:"errors"`
	// Unreachable is the growth of failed calls to the service, per trace.
	Unreachable float64 `json:"unreachable"`
	// Absent is the share of the service's own traces (those it begins)
	// that stopped, weighted by their usual share of all traces.
	Absent float64 `json:"absent"`
	// CriticalMs and ExpectedMs are the service's own critical-path time
	// per trace, recent and usual.
	CriticalMs float64 `json:"critical_ms"`
	ExpectedMs float64 `json:"expected_ms"`
}

const (
	// locRing is how many windows a service's recent figures are kept for;
	// LocalizeWindow may not span more.
	locRing = 64
	// locWarmWindows and locWarmTraces: a baseline is used once it has
	// learned this many windows and traces.
	locWarmWindows = 60
	locWarmTraces  = 200
	// locSuspect is the window score above which a window is not learned.
	locSuspect = 0.1
	// absentWeight discounts absence, which an upstream fault can cause too.
	absentWeight = 0.5
	// silenceExplained is the least direct score of some service that
	// explains another's silence.
	silenceExplained = 0.005
)

// locSlot is one window of one service's (or all traces') figures.
type locSlot struct {
	w                    int64
	cp                   int64   // own critical-path ns
	errs, unreach, roots int64   // error origins, failed calls to it, traces it began
	traces, e2e          int64   // only in the global ring
	cp2                  float64 // sum of squares of own critical ms
}

// slots is a ring of windows.
type slots [locRing]locSlot

// svcLoc holds one service's recent windows and its learned per-trace rates.
type svcLoc struct {
	ring                           slots
	cp, errs, unreach, roots, seen float64 // decayed sums over learned windows
	cp2                            float64
}

// at is window w's slot, emptied first when it held an older window.
func (r *slots) at(w int64) *locSlot {
	sl := &r[uint64(w)%locRing]
	if sl.w != w {
		*sl = locSlot{w: w}
	}
	return sl
}

// loc finds or makes a service's localisation state; nil past MaxSeries.
func (s *Stage) locOf(svc string) *svcLoc {
	l := s.loc[svc]
	if l == nil {
		if len(s.loc) >= s.cfg.MaxSeries {
			return nil
		}
		l = &svcLoc{}
		for i := range l.ring {
			l.ring[i].w = -1
		}
		s.loc[svc] = l
	}
	return l
}

// learnLoc folds the windows closed by now into the baselines, skipping a
// window in which some service looks at fault once the baselines are warm.
func (s *Stage) learnLoc(now int64) {
	win := int64(s.cfg.Window)
	closed := floorDiv(now-2*int64(s.cfg.Grace), win) - 1
	if s.locLearned == 0 || closed-s.locLearned > locRing/2 {
		s.locLearned = closed - 1
	}
	for w := s.locLearned + 1; w <= closed; w++ {
		s.locLearned = w
		g := &s.gring[uint64(w)%locRing]
		if g.w != w || g.traces == 0 {
			continue
		}
		if s.locWarm() {
			if sus := s.rank(w, w, false); len(sus) > 0 && sus[0].Score >= locSuspect {
				continue
			}
		}
		d := 1 - 1/float64(s.cfg.LocalizeMemory)
		s.gTraces = s.gTraces*d + float64(g.traces)
		s.gE2E = s.gE2E*d + float64(g.e2e)
		s.gWindows++
		for _, l := range s.loc {
			sl := &l.ring[uint64(w)%locRing]
			var x locSlot
			if sl.w == w {
				x = *sl
			}
			l.cp = l.cp*d + float64(x.cp)
			l.cp2 = l.cp2*d + x.cp2
			l.errs = l.errs*d + float64(x.errs)
			l.unreach = l.unreach*d + float64(x.unreach)
			l.roots = l.roots*d + float64(x.roots)
			l.seen = l.seen*d + float64(g.traces)
		}
	}
}

func (s *Stage) locWarm() bool {
	return s.gWindows >= locWarmWindows && s.gTraces >= locWarmTraces
}

// rank scores every service over windows from..to against its baseline,
// best first; with all, services that score zero are listed too.
func (s *Stage) rank(from, to int64, all bool) []Suspect {
	if !s.locWarm() {
		return nil
	}
	var traces, e2e int64
	for w := from; w <= to; w++ {
		if g := &s.gring[uint64(w)%locRing]; g.w == w {
			traces += g.traces
			e2e += g.e2e
		}
	}
	if traces == 0 {
		return nil
	}
	n := float64(traces)
	e2eBase := max(s.gE2E/s.gTraces, 1e6) // ns per trace, at least 1ms
	var out []Suspect
	direct := 0.0
	for svc, l := range s.loc {
		if l.seen <= 0 {
			continue
		}
		var x locSlot
		for w := from; w <= to; w++ {
			if sl := &l.ring[uint64(w)%locRing]; sl.w == w {
				x.cp += sl.cp
				x.cp2 += sl.cp2
				x.errs += sl.errs
				x.unreach += sl.unreach
				x.roots += sl.roots
			}
		}
		cpBase, errBase, unBase, rootBase := l.cp/l.seen, l.errs/l.seen, l.unreach/l.seen, l.roots/l.seen
		// Growth within two standard errors of the baseline is noise: a
		// busy, jittery service must not outrank a quiet one that broke.
		cpSE := math.Sqrt(l.cp2/l.seen/n) * 1e6
		su := Suspect{
			Service:     svc,
			Latency:     max(0, float64(x.cp)/n-cpBase-2*cpSE) / e2eBase,
			Errors:      max(0, float64(x.errs)/n-errBase-2*math.Sqrt(errBase/n)),
			Unreachable: max(0, float64(x.unreach)/n-unBase-2*math.Sqrt(unBase/n)),
			CriticalMs:  float64(x.cp) / n / 1e6,
			ExpectedMs:  cpBase / 1e6,
		}
		// A service that begins its own traces (a consumer, a batch job)
		// has no caller to notice it is gone: its silence is the evidence.
		// Only a near-silence counts: fewer traces, when the traffic that
		// feeds them fails upstream, are that failure's doing.
		if expect := rootBase * n; expect >= 6 && float64(x.roots) <= 0.25*expect {
			su.Absent = absentWeight * rootBase * (1 - float64(x.roots)/expect)
		}
		su.Score = su.Latency + su.Errors + su.Unreachable
		direct = max(direct, su.Score)
		su.Score += su.Absent
		if su.Score > 0 || all {
			out = append(out, su)
		}
	}
	// A silence is most often the doing of a failure upstream of it (the
	// producer of a queue failing): when some service shows direct harm,
	// silence alone ranks below it.
	if direct >= silenceExplained {
		for i := range out {
			if out[i].Absent > 0 {
				out[i].Absent *= 0.25
				out[i].Score = out[i].Latency + out[i].Errors + out[i].Unreachable + out[i].Absent
			}
		}
	}
	slices.SortFunc(out, func(a, b Suspect) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Service, b.Service))
	})
	return out
}

// Localize ranks the services by how much of the harm done to the traces
// completed in the LocalizeWindow before now is their own, best first. It
// is empty until the baselines have learned (a few minutes of traffic) and
// when no trace completed in the window.
func (s *Stage) Localize(now time.Time) []Suspect {
	if now.Before(minTime) || now.After(maxTime) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	win := int64(s.cfg.Window)
	to := floorDiv(now.UnixNano(), win)
	from := to - max(1, int64(s.cfg.LocalizeWindow)/win) + 1
	return s.rank(from, to, false)
}
