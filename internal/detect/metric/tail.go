package metric

import "math"

// tailBins is the number of half-octave bins of a tail: 64 octaves above
// the scale floor, from float noise to 1e19 times it.
const tailBins = 128

// tailUnit is the weight of one point; halving keeps four halvings of a
// lone point before it is forgotten.
const tailUnit = 16

// maxTailHalfLife keeps the counts of a bin within uint16: a bin holds at
// most tailUnit * 2 * half-life.
const maxTailHalfLife = 2000

// edges are the bins' edges for a floor of 1: edge b is 2^(b/2).
var edges = func() (e [tailBins + 1]float64) {
	for b := range e {
		e[b] = math.Exp2(float64(b) / 2)
	}
	return e
}()

// tail is a decaying histogram of the magnitudes of a series' past normal
// deviations, in half-octave bins above the scale floor. It tells how large
// a deviation the series has shown a few times recently: its empirical
// high quantile. Gaussian tails call every blip of a sparse or heavy-tailed
// series a one-in-a-billion event; comparing with what the series itself
// does recently lets such a series learn its blips while a jump far beyond
// them still stands out.
//
// Counts are halved once per half-life rather than decayed on every point,
// so that adding is O(1) and the state stays small.
type tail struct {
	bins [tailBins]uint16
	top  int16  // highest non-empty bin, -1 when empty
	age  uint16 // points added since the last halving
}

func (h *tail) reset() {
	*h = tail{top: -1}
}

// bin returns the bin of magnitude x for the floor base: bin b holds
// [base·2^(b/2), base·2^((b+1)/2)), bin 0 everything below as well.
func bin(x, base float64) int {
	if !(x > base) {
		return 0
	}
	f, e := math.Frexp(x / base) // x/base = f·2^e, f in [0.5,1)
	b := 2 * (e - 1)
	if f >= math.Sqrt2/2 {
		b++
	}
	return min(b, tailBins-1)
}

// add records magnitude x, halving the counts every halfLife points.
func (h *tail) add(x, base float64, halfLife int) {
	b := bin(x, base)
	h.bins[b] = min(h.bins[b], math.MaxUint16-tailUnit) + tailUnit
	if int16(b) > h.top {
		h.top = int16(b)
	}
	h.age++
	if int(h.age) < halfLife {
		return
	}
	h.age, h.top = 0, -1
	for i := range h.bins {
		h.bins[i] >>= 1
		if h.bins[i] != 0 {
			h.top = int16(i)
		}
	}
}

// quantile returns the magnitude that about points past deviations reached
// (interpolated log-uniformly within a bin), or 0 when the tail holds less.
// It scans down from the top, so it costs a few bins for a typical series.
func (h *tail) quantile(points, base float64) float64 {
	want := points * tailUnit
	var cum float64
	for b := int(h.top); b >= 0; b-- {
		m := float64(h.bins[b])
		if cum+m < want {
			cum += m
			continue
		}
		// The bin's mass is spread evenly over it; take the share from its
		// upper edge that completes want.
		f := (want - cum) / m
		return base * (edges[b+1] - f*(edges[b+1]-edges[b]))
	}
	return 0
}

// ratio is how many times k times q the magnitude x is; an empty tail
// (q = 0) does not restrain.
func ratio(x, q, k float64) float64 {
	if q == 0 {
		return math.Inf(1)
	}
	return x / (k * q)
}

// beyond maps how far magnitude x exceeds the empirical quantile q to a
// score that equals threshold where x is k times q, capped at 1; an empty
// tail (q = 0) does not restrain.
func beyond(x, q, k, threshold float64) float64 {
	if q == 0 {
		return 1
	}
	return min(1, threshold*x/(k*q))
}
