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
