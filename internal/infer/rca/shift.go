package rca

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/seerops/seer/internal/semconv"
	"github.com/seerops/seer/internal/signal"
)

// Shift is the robust change score of one metric series of an entity around
// an incident's onset: how far the values after the onset left the series'
// own recent baseline, in robust standard deviations. It is the evidence that
// still names a fault when no detector fired on the entity (a metric-only
// system, a fault slower or smaller than the detector's threshold).
type Shift struct {
	Entity string
	// Name is the series' name with its labels; Metric and Labels the
	// two apart (Metric empty: Name has no labels).
	Name   string
	Metric string
	Labels map[string]string
	// Score is |extreme after - baseline median| / robust scale, >= 0.
	Score float64
	// Dir is "up" or "down".
	Dir string
	// Before is the baseline median, After the extreme value after the onset.
	Before, After float64
	// At is when the extreme value was seen.
	At time.Time
	// Start is when the shift began: the first point after the onset that
	// left the baseline's noise or went halfway to the extreme. A shift
	// that built up minutes after the incident's onset began then, and
	// dating it by the onset would make every shifted entity look as early
	// as the first.
	Start time.Time
}

// Point is one value of a series at a time.
type Point struct {
	Time  time.Time
	Value float64
}

// levelFloor is the least scale of a change score, as a share of the
// series' level: a flat baseline (an availability that sat at 100 %) still
// has one, so that a series that moves off it scores high but finite. A
// thousandth: a fall of availability from 100 % to 97.8 % is a change of
// about 20, not of 2 as with a hundredth, which hid error-returning faults
// behind the noise floor (PetShop; changerca, which did not motivate it,
// gained a case, nezha-ob lost one).
const levelFloor = 1e-3

// ShiftOf scores one series (points in time order) around onset: the
// baseline is every point before the onset but the last one when that one's
// interval covers the onset (a bucket that began before the onset and holds
// it); the rest are after. ok is false when either side is empty.
func ShiftOf(entity, name string, pts []Point, onset time.Time) (Shift, bool) {
	cut, _ := slices.BinarySearchFunc(pts, onset, func(p Point, t time.Time) int { return p.Time.Compare(t) })
	// A point at or before the onset whose sampling interval reaches past
	// the onset is an aggregate that holds the onset's first effects.
	if cut >= 2 && cut < len(pts) {
		step := pts[cut-1].Time.Sub(pts[cut-2].Time)
		if pts[cut-1].Time.Add(step).After(onset) && step > 0 {
			cut--
		}
	}
	if cut < 2 || cut >= len(pts) {
		return Shift{}, false
	}
	base := make([]float64, 0, cut)
	for _, p := range pts[:cut] {
		if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
			base = append(base, p.Value)
		}
	}
	if len(base) < 2 {
		return Shift{}, false
	}
	med := median(base)
	maxDev := 0.0
	for i := range base {
		base[i] = math.Abs(base[i] - med)
		maxDev = max(maxDev, base[i])
	}
	// The scale is the MAD, but never less than a third of the largest
	// deviation the baseline itself showed: a sparse series (an error ratio
	// that is 0 with an occasional blip) has a MAD of 0, and its next blip
	// of the usual size is no change at all. On dense noise the largest
	// deviation is about 3 sigma, so this leaves the MAD in charge.
	scale := max(1.4826*median(base), maxDev/3)
	// A flat baseline still has a scale: levelFloor of its level, or of
	// the values seen, so that a constant series that moves scores high but
	// finite.
	floor := levelFloor * math.Abs(med)
	var best Shift
	found := false
	for _, p := range pts[cut:] {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue
		}
		floor = max(floor, levelFloor*math.Abs(p.Value))
		d := p.Value - med
		if !found || math.Abs(d) > math.Abs(best.After-med) {
			best = Shift{Entity: entity, Name: name, Before: med, After: p.Value, At: p.Time}
			found = true
		}
	}
	if !found {
		return Shift{}, false
	}
	scale = max(scale, floor, 1e-9)
	// The shift began at the first point that left the baseline's noise
	// (six robust scales) or went halfway to the extreme, whichever is
	// nearer: a slow ramp begins where it leaves the noise, not halfway up.
	half := min(0.5*math.Abs(best.After-med), 6*scale)
	for _, p := range pts[cut:] {
		if d := p.Value - med; !math.IsNaN(d) && math.Abs(d) >= half && (d > 0) == (best.After > med) {
			best.Start = p.Time
			break
		}
	}
	best.Score = math.Abs(best.After-med) / scale
	best.Dir = "up"
	if best.After < med {
		best.Dir = "down"
	}
	return best, true
}

// Median is the median of x (0 for none); x is not changed.
func Median(x []float64) float64 { return median(x) }

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// shiftStrength maps a robust change score to [0,1] on a log scale, so that
// a score of ShiftFloor counts a little and one of a thousand counts fully,
// and larger shifts keep ranking above smaller ones.
func shiftStrength(z, floor float64) float64 {
	if z <= floor {
		return 0
	}
	return clamp01(math.Log1p(z-floor) / math.Log1p(1000))
}

// shiftClues turns the shifts into clues on their entities: read by the
// metric's name and direction like a metric anomaly, with the shift's
// strength as the score.
func shiftClues(shifts []Shift, floor float64, onset time.Time, table *semconv.Table) []clue {
	var out []clue
	for i := range shifts {
		sh := &shifts[i]
		st := shiftStrength(sh.Score, floor)
		if st == 0 || Service(sh.Entity) == "" {
			continue
		}
		kind, w, r := metricClue(table.Of(cmp.Or(sh.Metric, sh.Name), sh.Labels), sh.Dir)
		if w == 0 {
			continue
		}
		o := &signal.Observation{
			Time: sh.At, Start: shiftStart(sh, onset), Entity: sh.Entity, Kind: signal.MetricAnomaly, Name: sh.Name, Score: st,
			Actual: sh.After, Expected: sh.Before,
			Summary:  fmt.Sprintf("%s %s from %.4g to %.4g around the onset (robust change score %.1f)", sh.Name, sh.Dir, sh.Before, sh.After, sh.Score),
			Evidence: map[string]string{"direction": sh.Dir, "source": "change score"},
		}
		out = append(out, clue{entity: Service(sh.Entity), kind: kind, weight: w, role: r, obs: o})
	}
	return out
}

// shiftStart dates a shift's clue: by its own start, never before the onset.
func shiftStart(sh *Shift, onset time.Time) time.Time {
	if sh.Start.IsZero() || sh.Start.Before(onset) {
		return onset
	}
	return sh.Start
}
