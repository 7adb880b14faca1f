package delta

import (
	"fmt"
	"math"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestRate(t *testing.T) {
	tr := New(DefaultConfig())
	f := func(sec int, v float64, want float64, wantOK bool) {
		t.Helper()
		got, ok := tr.Rate("a", t0.Add(time.Duration(sec)*time.Second), v, time.Time{})
		if ok != wantOK || (ok && math.Abs(got-want) > 1e-9) {
			t.Fatalf("Rate(t=%d, %g) = %g, %v; want %g, %v", sec, v, got, ok, want, wantOK)
		}
	}
	f(0, 100, 0, false) // first point: no rate yet
	f(10, 200, 10, true)
	f(10, 250, 0, false) // same time
	f(20, 300, 10, true)
	f(30, 50, 5, true) // reset: counted from zero
	f(40, math.NaN(), 0, false)
	f(40, 150, 10, true)
}

func TestRateStartTimeReset(t *testing.T) {
	tr := New(DefaultConfig())
	tr.Rate("a", t0.Add(10*time.Second), 100, t0)
	// A later start time means the counter restarted even though it rose.
	got, ok := tr.Rate("a", t0.Add(20*time.Second), 120, t0.Add(15*time.Second))
	if !ok || got != 12 {
		t.Fatalf("got %g, %v; want 12 (restart counted from zero)", got, ok)
	}
}

func TestMaxSeries(t *testing.T) {
	tr := New(Config{MaxSeries: 2, StaleAfter: time.Minute})
	tr.Rate("a", t0, 1, time.Time{})
	tr.Rate("b", t0, 1, time.Time{})
	tr.Rate("c", t0, 1, time.Time{})
	if tr.Dropped() != 1 || tr.Len() != 2 {
		t.Fatalf("dropped %d, len %d; want 1, 2", tr.Dropped(), tr.Len())
	}
	// Once a and b are stale, c finds room.
	tr.Rate("c", t0.Add(2*time.Minute), 1, time.Time{})
	if tr.Len() != 1 || tr.Dropped() != 1 {
		t.Fatalf("after staleness: len %d dropped %d; want 1, 1", tr.Len(), tr.Dropped())
	}
}

func TestQuantile(t *testing.T) {
	f := func(q float64, bounds, counts []float64, want float64) {
		t.Helper()
		got := Quantile(q, bounds, counts)
		if !(math.IsNaN(want) && math.IsNaN(got)) && math.Abs(got-want) > 1e-9 {
			t.Fatalf("Quantile(%g, %v, %v) = %g; want %g", q, bounds, counts, got, want)
		}
	}
	b := []float64{10, 20, 40}
	f(0.5, b, []float64{0, 10, 0, 0}, 15)
	f(0.5, b, []float64{10, 0, 0, 0}, 5)
	f(0.99, b, []float64{50, 0, 0, 50}, 40) // top bucket: highest bound
	f(0.95, b, []float64{0, 0, 100, 0}, 39)
	f(0.5, b, []float64{0, 0, 0, 0}, math.NaN())
	f(0.5, nil, []float64{3}, math.NaN())
	f(0.5, b, []float64{1, 2}, math.NaN())
}

func TestHistogram(t *testing.T) {
	tr := New(DefaultConfig())
	b := []float64{10, 20, 40}
	if _, ok := tr.Histogram("h", t0, time.Time{}, b, []float64{1, 1, 1, 0}, 30); ok {
		t.Fatal("first point yielded a window")
	}
	w, ok := tr.Histogram("h", t0.Add(10*time.Second), time.Time{}, b, []float64{1, 11, 1, 0}, 180)
	if !ok || w.Count != 10 || w.Rate() != 1 || w.Sum != 150 || w.Quantile(0.5) != 15 {
		t.Fatalf("window %+v ok=%v; want 10 observations in (10,20], rate 1, sum 150", w, ok)
	}
	// A reset: the counts fell, so they are what was observed since zero.
	w, ok = tr.Histogram("h", t0.Add(20*time.Second), time.Time{}, b, []float64{0, 0, 5, 0}, 150)
	if !ok || w.Count != 5 || w.Quantile(0.5) != 30 {
		t.Fatalf("after reset %+v ok=%v; want 5 in (20,40]", w, ok)
	}
}

func BenchmarkRate(b *testing.B) {
	tr := New(DefaultConfig())
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("svc|requests_total|code=%d", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tr.Rate(keys[i%len(keys)], t0.Add(time.Duration(i/len(keys))*time.Second), float64(i), time.Time{})
	}
}
