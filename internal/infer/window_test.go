package infer

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestWindowSeries(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	w := NewWindow(WindowConfig{})
	var in []signal.Sample
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Minute)
		in = append(in,
			signal.Sample{Time: at, Entity: "cart", Name: "cpu", Value: float64(i)},
			signal.Sample{Time: at, Entity: "cart", Name: "lat", Labels: map[string]string{"op": "get"}, Value: 1},
			signal.Sample{Time: at, Entity: "db", Name: "cpu", Value: 2})
	}
	w.Add(in)
	f := func(entity, name string, from, to time.Duration, want string) {
		t.Helper()
		got := ""
		for _, sd := range w.Series(entity, name, t0.Add(from), t0.Add(to)) {
			got += fmt.Sprintf("%s %s %d;", sd.Entity, sd.Name, len(sd.Points))
		}
		if got != want {
			t.Errorf("Series(%s, %s, %v, %v) = %q, want %q", entity, name, from, to, got, want)
		}
	}
	f("cart", "cpu", 0, 9*time.Minute, "cart cpu 10;")
	f("cart", "cpu", 2*time.Minute, 4*time.Minute, "cart cpu 3;")
	f("cart", "lat", 0, time.Hour, "cart lat|op=get 10;")
	f("cart", "lat|op=get", 0, time.Hour, "cart lat|op=get 10;")
	f("cart", "cpu", time.Hour, 2*time.Hour, "")
	f("web", "cpu", 0, time.Hour, "")
}

func TestWindowSnapshot(t *testing.T) {
	w := NewWindow(WindowConfig{})
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for i := range 40 {
		w.Add([]signal.Sample{
			{Time: t0.Add(time.Duration(i) * time.Minute), Entity: "cart", Name: "latency_seconds", Value: float64(i)},
			{Time: t0.Add(time.Duration(i) * time.Minute), Entity: "cart", Name: "cpu", Labels: map[string]string{"cpu": "1"}, Value: 2 * float64(i)},
			{Time: t0.Add(time.Duration(i) * time.Minute), Entity: "cart", Name: signal.SeriesSelfTime, Value: 3},
		})
	}
	data, err := w.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := NewWindow(WindowConfig{})
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	from, to := t0, t0.Add(time.Hour)
	if a, b := w.Range(from, to), back.Range(from, to); len(a) != 3 || !reflect.DeepEqual(a, b) {
		t.Fatalf("restored %v, want %v", b, a)
	}
	if !slices.ContainsFunc(slices.Collect(maps.Values(back.series)), func(s *series) bool { return s.derived }) {
		t.Error("a derived series lost its kind")
	}
	if err := back.UnmarshalBinary(data[:len(data)-5]); !errors.Is(err, ErrSnapshot) {
		t.Errorf("truncated snapshot: %v", err)
	}
	if len(back.Range(from, to)) != 3 {
		t.Error("a failed restore changed the window")
	}
}

// TestWindowResolution: a series scraped every second keeps, within its
// point cap, the half hour an investigation looks back over, its samples
// averaged per Resolution; NaNs do not spoil a bucket.
func TestWindowResolution(t *testing.T) {
	w := NewWindow(WindowConfig{})
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for i := range 40 * 60 {
		v := float64(i % 5) // 0..4 in each 5-s bucket: mean 2
		if i == 7 {
			v = math.NaN()
		}
		w.Add([]signal.Sample{{Time: t0.Add(time.Duration(i) * time.Second), Entity: "cart", Name: "cpu", Value: v}})
	}
	got := w.Range(t0, t0.Add(time.Hour))
	if len(got) != 1 {
		t.Fatalf("%d series", len(got))
	}
	pts := got[0].Points
	if span := pts[len(pts)-1].Time.Sub(pts[0].Time); span < 35*time.Minute {
		t.Errorf("the window reaches back %s of a 1-s series, want the 35 minutes of an investigation", span)
	}
	for _, p := range pts {
		if p.Value != 2 {
			t.Fatalf("bucket at %s = %g, want the mean of its samples", p.Time.Sub(t0), p.Value)
		}
	}
}
