package trace

import (
	"github.com/DataDog/sketches-go/ddsketch"
)

const (
	// sketchAccuracy is the relative error of every quantile read.
	sketchAccuracy = 0.02
	// sketchBins bounds a sketch's memory (~8 bytes a bin); at 2% accuracy
	// 512 bins span nine decades, from microseconds to minutes, and only the
	// lowest values are merged when a sketch spans more.
	sketchBins = 512
)

// qsketch is a DDSketch of durations in milliseconds whose weight decays by
// half whenever it has seen memory values, so that it follows a slowly
// changing service while a burst of minutes moves it little.
type qsketch struct {
	s      *ddsketch.DDSketch
	memory float64
}

func newQsketch(memory float64) qsketch {
	// The constructor fails only for an accuracy outside (0,1) or a
	// non-positive bin count, which are constants here.
	s, _ := ddsketch.LogCollapsingLowestDenseDDSketch(sketchAccuracy, sketchBins)
	return qsketch{s: s, memory: memory}
}

// add records one duration in nanoseconds.
func (q *qsketch) add(ns int64) {
	if q.s == nil {
		return
	}
	_ = q.s.Add(max(float64(ns), 0) / 1e6) // only negative and NaN values fail
	if q.memory > 0 && q.s.GetCount() >= 2*q.memory {
		_ = q.s.Reweight(0.5)
	}
}

// count is the decayed number of values seen.
func (q *qsketch) count() float64 {
	if q.s == nil {
		return 0
	}
	return q.s.GetCount()
}

// quantile is the q-quantile in milliseconds, 0 when empty.
func (q *qsketch) quantile(p float64) float64 {
	if q.s == nil || q.s.IsEmpty() {
		return 0
	}
	v, err := q.s.GetValueAtQuantile(p)
	if err != nil {
		return 0
	}
	return v
}
