package metric

import (
	"math"
	"math/rand"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// t0 is the start of every synthetic series; step is the simulator's interval.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const step = 5 * time.Second

func at(i int) time.Time { return t0.Add(time.Duration(i) * step) }

// profile is a healthy synthetic metric like the simulator's.
type profile struct {
	name  string
	level float64
	noise float64 // relative sd
	lo    float64 // floor (ratios cannot go below 0)
	hi    float64 // ceiling, 0 for none
}

var profiles = []profile{
	{"request_rate", 100, 0.05, 0, 0},
	{"error_ratio", 0.005, 0.15, 0, 1},
	{"latency_p50_ms", 40, 0.05, 0, 0},
	{"latency_p95_ms", 120, 0.10, 0, 0},
	{"latency_p99_ms", 150, 0.15, 0, 0},
	{"cpu_utilization", 0.3, 0.05, 0, 1},
	{"memory_utilization", 0.5, 0.03, 0, 1},
	{"gc_pause_ms", 5, 0.15, 0, 0},
	{"up", 1, 1e-13, 0, 0},
}

// shape modulates a healthy series: a sine of the given period (in points)
// and amplitude, and a linear trend of the given total rise over n points.
type shape struct {
	period int
	amp    float64
	rise   float64
	n      int
}

func (sh shape) factor(i int) float64 {
	f := 1.0
	if sh.period > 0 {
		f *= 1 + sh.amp*math.Sin(2*math.Pi*float64(i)/float64(sh.period))
	}
	if sh.n > 0 {
		f *= 1 + sh.rise*float64(i)/float64(sh.n)
	}
	return f
}

// healthy returns point i of a profile's series.
func (p profile) healthy(rng *rand.Rand, sh shape, i int) float64 {
	v := p.level * sh.factor(i) * (1 + p.noise*rng.NormFloat64())
	v = max(v, p.lo)
	if p.hi > 0 {
		v = min(v, p.hi)
	}
	return v
}

func sample(entity, name string, i int, v float64) signal.Sample {
	return signal.Sample{Time: at(i), Entity: entity, Name: name, Value: v}
}
