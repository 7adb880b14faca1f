package metric

import "math"

// calBins spans the log-scale histogram of raw scores: calPerDecade bins a
// decade from calLow up.
const (
	calBins      = 160
	calPerDecade = 20
	calLow       = 1e-3
)

// Calibrator keeps a decayed histogram of a series' (or an entity's) raw
// scores and turns a new score into the improbability of scoring as high:
// a p-value against its own recent past, as a conformal detector does, or
// HTM's anomaly likelihood. Its state is fixed: 160 bins over eight
// decades of positive scores from 1e-3 up.
type Calibrator struct {
	h      [calBins]float64
	total  float64
	weight float64 // the weight of the next score; grows instead of decaying the rest
	grow   float64
	top    float64 // the highest score seen
}

// NewCalibrator returns a calibrator whose past scores count half after
// halfLife more.
func NewCalibrator(halfLife int) Calibrator {
	return Calibrator{weight: 1, grow: math.Exp2(1 / float64(max(halfLife, 1)))}
}

func calBin(x float64) (int, float64) {
	if x <= calLow {
		return 0, 0
	}
	f := math.Log10(x/calLow) * calPerDecade
	if f >= calBins-1 {
		return calBins - 1, 0
	}
	i := int(f)
	return i, f - float64(i)
}

// Add learns the score x.
func (c *Calibrator) Add(x float64) {
	i, _ := calBin(x)
	c.h[i] += c.weight
	c.total += c.weight
	c.top = max(c.top, x)
	c.weight *= c.grow
	if c.weight > 1e100 {
		for j := range c.h {
			c.h[j] /= c.weight
		}
		c.total /= c.weight
		c.weight = 1
	}
}

// Decades is log10(1/p), p the decayed share of past scores at or above x
// (a score within a bin counts by the share of the bin above it), plus one
// past score: no score is less likely than 1/(n+1). Beyond the highest
// score seen, p falls further with the ratio to it.
func (c *Calibrator) Decades(x float64) float64 {
	if c.total == 0 {
		return 0
	}
	i, frac := calBin(x)
	above := c.h[i] * (1 - frac)
	for j := i + 1; j < calBins; j++ {
		above += c.h[j]
	}
	p := (above + c.weight) / (c.total + c.weight)
	if x > c.top && c.top > 0 {
		p *= c.top / x
	}
	return -math.Log10(min(1, p))
}

// Likelihood maps x to [0,1): 1 - 2^(-Decades(x)/half), 0.5 at half
// decades of improbability; every score keeps its rank (nothing saturates).
func (c *Calibrator) Likelihood(x, half float64) float64 {
	return Likelihood(c.Decades(x), half)
}
