package rca

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestShiftOf(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	onset := t0.Add(300 * 5 * time.Second)
	series := func(before func(i int) float64, after float64) []Point {
		var pts []Point
		for i := range 300 {
			pts = append(pts, Point{t0.Add(time.Duration(i) * 5 * time.Second), before(i)})
		}
		return append(pts, Point{onset.Add(5 * time.Second), after})
	}
	f := func(name string, pts []Point, atLeast, below float64) {
		t.Helper()
		sh, ok := ShiftOf("svc", name, pts, onset)
		if !ok {
			t.Fatalf("%s: no shift computed", name)
		}
		if sh.Score < atLeast || sh.Score >= below {
			t.Errorf("%s: score %.1f, want in [%g, %g)", name, sh.Score, atLeast, below)
		}
	}
	// A sparse error ratio: 0 with a blip every 20 points. Its MAD is 0;
	// another blip of the usual size is no change, a real jump is.
	blips := func(i int) float64 {
		if i%20 == 7 {
			return 0.015
		}
		return 0
	}
	f("sparse, usual blip", series(blips, 0.015), 0, 4)
	f("sparse, real jump", series(blips, 0.4), 50, 1e9)
	// Dense noise: the MAD rules, a 3-sigma point is ~3, a 10-sigma one ~10.
	r := rand.New(rand.NewPCG(1, 2))
	noise := func(int) float64 { return 100 + 5*r.NormFloat64() }
	f("dense, 3 sigma", series(noise, 115), 1.5, 4.5)
	f("dense, 10 sigma", series(noise, 150), 6, 14)
}

// A shift is dated by when its series left the baseline, not by the
// incident's onset nor by its extreme.
func TestShiftStart(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	step := 5 * time.Second
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * step) }
	onset := at(100)
	f := func(name string, after func(i int) float64, want time.Time) {
		t.Helper()
		var pts []Point
		r := rand.New(rand.NewPCG(3, 4))
		for i := range 100 {
			pts = append(pts, Point{at(i), 100 + r.NormFloat64()})
		}
		for i := 100; i < 200; i++ {
			pts = append(pts, Point{at(i), after(i)})
		}
		sh, ok := ShiftOf("svc", "latency", pts, onset)
		if !ok {
			t.Fatalf("%s: no shift computed", name)
		}
		if !sh.Start.Equal(want) {
			t.Errorf("%s: start %s after t0, want %s", name, sh.Start.Sub(t0), want.Sub(t0))
		}
	}
	// Flat for a minute after the onset, then a step: it began at the step.
	f("late step", func(i int) float64 {
		if i < 112 {
			return 100
		}
		return 300
	}, at(112))
	// A ramp from point 120 leaves the noise (scale about 1) at once,
	// some 40 points before it is halfway up: it began at 120.
	f("slow ramp", func(i int) float64 {
		if i < 120 {
			return 100
		}
		return 100 + 10*float64(i-119)
	}, at(120))
}
