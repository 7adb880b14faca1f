package infer

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/signal"
)

// WindowConfig bounds the recent metric window inference keeps for the
// change scores of its ranking.
type WindowConfig struct {
	// Span is how far back from a series' newest point it is kept.
	Span time.Duration `yaml:"span"`
	// MaxPoints caps the points kept per series.
	MaxPoints int `yaml:"max_points"`
	// MaxSeries caps the series kept; samples of new series beyond it are
	// counted and dropped.
	MaxSeries int `yaml:"max_series"`
	// Resolution is the finest step kept: samples of a series that fall in
	// the same Resolution-aligned bucket as its newest point are averaged
	// into it, so that MaxPoints of a dense series (a 1-s scrape) still
	// reach back over the investigation's lookback.
	Resolution time.Duration `yaml:"resolution"`
}

// DefaultWindowConfig keeps two days or 512 points of up to 20000 series
// (about 160 MB at the worst).
func DefaultWindowConfig() WindowConfig {
	return WindowConfig{Span: 48 * time.Hour, MaxPoints: 512, MaxSeries: 20000, Resolution: 5 * time.Second}
}

func (c WindowConfig) withDefaults() WindowConfig {
	d := DefaultWindowConfig()
	if c.Span == 0 {
		c.Span = d.Span
	}
	if c.MaxPoints == 0 {
		c.MaxPoints = d.MaxPoints
	}
	if c.MaxSeries == 0 {
		c.MaxSeries = d.MaxSeries
	}
	if c.Resolution == 0 {
		c.Resolution = d.Resolution
	}
	return c
}

// Validate reports every field that is out of range.
func (c WindowConfig) Validate() error {
	var errs []error
	if c.Span < 0 {
		errs = append(errs, fmt.Errorf("window.span must not be negative, got %s", c.Span))
	}
	if c.Resolution < 0 {
		errs = append(errs, fmt.Errorf("window.resolution must not be negative, got %s", c.Resolution))
	}
	if c.MaxPoints < 0 || c.MaxPoints == 1 {
		errs = append(errs, fmt.Errorf("window.max_points must be 0 (default) or at least 2, got %d", c.MaxPoints))
	}
	if c.MaxSeries < 0 {
		errs = append(errs, fmt.Errorf("window.max_series must not be negative, got %d", c.MaxSeries))
	}
	return errors.Join(errs...)
}

// Window is the recent history of every metric series, kept so that the
// ranking can score how each entity's metrics changed around an incident's
// onset. It is safe for concurrent use.
type Window struct {
	mu      sync.Mutex
	cfg     WindowConfig
	series  map[string]*series
	dropped int
}

type series struct {
	entity, name string
	base         string // the name without labels
	labels       map[string]string
	pts          []rca.Point // by time
	merged       int         // samples averaged into the newest point
	// derived series (from traces and logs) are for investigations; the
	// incident ranking hears of traces and logs through observations.
	derived bool
}

// NewWindow returns an empty window; zero fields of cfg take their defaults.
func NewWindow(cfg WindowConfig) *Window {
	return &Window{cfg: cfg.withDefaults(), series: map[string]*series{}}
}

// Add keeps the samples. Samples older than their series' newest point are
// inserted in order; samples without an entity or name are skipped.
func (w *Window) Add(samples []signal.Sample) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range samples {
		s := &samples[i]
		if s.Entity == "" || s.Name == "" {
			continue
		}
		k := s.SeriesKey()
		sr := w.series[k]
		if sr == nil {
			if len(w.series) >= w.cfg.MaxSeries {
				w.dropped++
				continue
			}
			name := s.Name
			if len(s.Labels) > 0 {
				name = k[len(s.Entity)+1:]
			}
			sr = &series{entity: s.Entity, name: name, base: s.Name, labels: maps.Clone(s.Labels), derived: signal.IsDerived(s.Name)}
			w.series[k] = sr
		}
		p := rca.Point{Time: s.Time, Value: s.Value}
		n := len(sr.pts)
		switch {
		case n > 0 && !s.Time.Before(sr.pts[n-1].Time) && w.bucket(s.Time) == w.bucket(sr.pts[n-1].Time):
			// The newest point's bucket: the mean of its samples, at the
			// first one's time.
			last := &sr.pts[n-1]
			switch {
			case math.IsNaN(s.Value) || math.IsInf(s.Value, 0):
			case math.IsNaN(last.Value) || math.IsInf(last.Value, 0):
				last.Value, sr.merged = s.Value, 1
			default:
				sr.merged++
				last.Value += (s.Value - last.Value) / float64(sr.merged)
			}
			continue
		case n == 0 || !s.Time.Before(sr.pts[n-1].Time):
			sr.pts = append(sr.pts, p)
			sr.merged = 1
		default:
			at, _ := slices.BinarySearchFunc(sr.pts, s.Time, func(p rca.Point, t time.Time) int { return p.Time.Compare(t) })
			sr.pts = slices.Insert(sr.pts, at, p)
		}
		// Trim in halves so that appending stays amortised O(1).
		if len(sr.pts) >= 2*w.cfg.MaxPoints {
			sr.pts = append(sr.pts[:0], sr.pts[len(sr.pts)-w.cfg.MaxPoints:]...)
		}
		horizon := sr.pts[len(sr.pts)-1].Time.Add(-w.cfg.Span)
		if sr.pts[0].Time.Before(horizon) {
			cut, _ := slices.BinarySearchFunc(sr.pts, horizon, func(p rca.Point, t time.Time) int { return p.Time.Compare(t) })
			sr.pts = slices.Delete(sr.pts, 0, cut)
		}
	}
}

// bucket is the Resolution-aligned bucket t falls in.
func (w *Window) bucket(t time.Time) int64 {
	return t.UnixNano() / int64(w.cfg.Resolution)
}

// Shifts scores every series whose entity keep accepts (nil: all) around
// onset, reading the points up to until, the strongest first.
func (w *Window) Shifts(onset, until time.Time, keep func(entity string) bool) []rca.Shift {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []rca.Shift
	for _, k := range slices.Sorted(maps.Keys(w.series)) {
		sr := w.series[k]
		if keep != nil && !keep(sr.entity) || sr.derived {
			continue
		}
		pts := sr.pts
		if len(pts) > w.cfg.MaxPoints {
			pts = pts[len(pts)-w.cfg.MaxPoints:]
		}
		hi, _ := slices.BinarySearchFunc(pts, until.Add(time.Nanosecond), func(p rca.Point, t time.Time) int { return p.Time.Compare(t) })
		if sh, ok := rca.ShiftOf(sr.entity, sr.name, pts[:hi], onset); ok {
			sh.Metric, sh.Labels = sr.base, sr.labels
			out = append(out, sh)
		}
	}
	slices.SortStableFunc(out, func(a, b rca.Shift) int { return cmp.Compare(b.Score, a.Score) })
	return out
}

// Range returns a copy of every series' points in [from, to], each series
// with its entity, name (without labels) and labels.
func (w *Window) Range(from, to time.Time) []rca.SeriesData {
	return w.collect(from, to, nil, false)
}

// Series returns the points in [from, to] of the series of entity whose
// name, with or without its labels, is name: what an evidence plot of a
// finding about that series shows. Only the matching series are copied,
// each named with its labels.
func (w *Window) Series(entity, name string, from, to time.Time) []rca.SeriesData {
	return w.collect(from, to, func(sr *series) bool { return sr.entity == entity && (sr.name == name || sr.base == name) }, true)
}

// collect copies the points in [from, to] of the series keep accepts (nil:
// all), in key order; full names a series with its labels.
func (w *Window) collect(from, to time.Time, keep func(*series) bool, full bool) []rca.SeriesData {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []rca.SeriesData
	for _, k := range slices.Sorted(maps.Keys(w.series)) {
		sr := w.series[k]
		if keep != nil && !keep(sr) {
			continue
		}
		lo, _ := slices.BinarySearchFunc(sr.pts, from, func(p rca.Point, t time.Time) int { return p.Time.Compare(t) })
		hi, _ := slices.BinarySearchFunc(sr.pts, to.Add(time.Nanosecond), func(p rca.Point, t time.Time) int { return p.Time.Compare(t) })
		if hi <= lo {
			continue
		}
		name := sr.base
		if full {
			name = sr.name
		}
		out = append(out, rca.SeriesData{Entity: sr.entity, Name: name, Labels: sr.labels, Points: slices.Clone(sr.pts[lo:hi])})
	}
	return out
}

// Dropped counts the samples left out because MaxSeries was reached.
func (w *Window) Dropped() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}
