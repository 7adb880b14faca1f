package delta

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Config bounds a Tracker.
type Config struct {
	// MaxSeries caps the series remembered; new series beyond it are
	// dropped (and counted) until stale ones are forgotten.
	MaxSeries int `yaml:"max_series"`
	// StaleAfter is how long, in the series' own time, a series may go
	// without a point before it may be forgotten.
	StaleAfter time.Duration `yaml:"stale_after"`
}

// DefaultConfig remembers up to 200,000 series, forgotten after 15 minutes
// without a point.
func DefaultConfig() Config {
	return Config{MaxSeries: 200_000, StaleAfter: 15 * time.Minute}
}

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	if c.MaxSeries < 1 {
		errs = append(errs, fmt.Errorf("max_series must be at least 1, got %d", c.MaxSeries))
	}
	if c.StaleAfter <= 0 {
		errs = append(errs, fmt.Errorf("stale_after must be positive, got %s", c.StaleAfter))
	}
	return errors.Join(errs...)
}

// Tracker remembers the last point of every cumulative series. It is safe
// for concurrent use.
type Tracker struct {
	cfg     Config
	mu      sync.Mutex
	series  map[string]*point
	newest  time.Time
	dropped uint64
}

type point struct {
	ts     time.Time
	start  time.Time
	v      float64
	sum    float64
	counts []float64
	bounds []float64
}

// New builds a Tracker; cfg must be valid.
func New(cfg Config) *Tracker {
	return &Tracker{cfg: cfg, series: make(map[string]*point)}
}

// Dropped is how many points were dropped because MaxSeries was reached.
func (t *Tracker) Dropped() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dropped
}

// Refused reports whether a point of key that Rate or Histogram just
// declined was refused for want of room (MaxSeries reached), rather than
// being the first of its series or out of order: the one case a client
// should hear about, as its data is lost.
func (t *Tracker) Refused(key []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.series[string(key)] == nil && len(t.series) >= t.cfg.MaxSeries
}

// MaxSeries is the cap on series remembered.
func (t *Tracker) MaxSeries() int { return t.cfg.MaxSeries }

// Len is the number of series remembered.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.series)
}

// get finds or makes the state of key; nil means the tracker is full.
// The caller holds mu.
func (t *Tracker) get(key string, ts time.Time) (p *point, fresh bool) {
	if ts.After(t.newest) {
		t.newest = ts
	}
	if p = t.series[key]; p != nil {
		return p, false
	}
	if len(t.series) >= t.cfg.MaxSeries {
		cutoff := t.newest.Add(-t.cfg.StaleAfter)
		for k, q := range t.series {
			if q.ts.Before(cutoff) {
				delete(t.series, k)
			}
		}
		if len(t.series) >= t.cfg.MaxSeries {
			t.dropped++
			return nil, false
		}
	}
	p = &point{}
	t.series[key] = p
	return p, true
}

// restarted reports whether a series restarted between its last point and
// one with the given start time and value.
func restarted(p *point, start time.Time, v float64) bool {
	return v < p.v || (!start.IsZero() && !p.start.IsZero() && start.After(p.start))
}

// Rate is the per-second increase of the counter key from its previous
// point to v at ts; start is when the counter began counting, if known. It
// is false for the first point of a series, for a point not after the
// previous one, and when the tracker is full.
func (t *Tracker) Rate(key string, ts time.Time, v float64, start time.Time) (float64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p, fresh := t.get(key, ts)
	switch {
	case p == nil:
		return 0, false
	case fresh:
		*p = point{ts: ts, start: start, v: v}
		return 0, false
	case !ts.After(p.ts):
		return 0, false
	}
	inc := v - p.v
	if restarted(p, start, v) {
		inc = v
	}
	dt := ts.Sub(p.ts).Seconds()
	p.ts, p.start, p.v = ts, start, v
	return inc / dt, true
}

// Window is what a histogram observed between two of its points.
type Window struct {
	// Seconds is the length of the window.
	Seconds float64
	// Count is the number of observations in it.
	Count float64
	// Sum is their sum.
	Sum float64
	// Bounds are the buckets' upper bounds; Counts has one more entry, the
	// bucket above the last bound.
	Bounds []float64
	Counts []float64
}

// Rate is the observations per second.
func (w Window) Rate() float64 { return w.Count / w.Seconds }

// Quantile is the q-quantile of the window's observations, interpolated
// within its bucket as Prometheus's histogram_quantile does; NaN when the
// window saw nothing.
func (w Window) Quantile(q float64) float64 { return Quantile(q, w.Bounds, w.Counts) }

// Histogram takes the cumulative histogram key at ts (per-bucket counts,
// len(bounds)+1 of them, each a running total) and returns what it observed
// since its previous point. It is false for the first point, for a point
// not after the previous one, and when the tracker is full. A change of
// bounds restarts the series.
func (t *Tracker) Histogram(key string, ts, start time.Time, bounds, counts []float64, sum float64) (Window, bool) {
	if len(counts) != len(bounds)+1 {
		return Window{}, false
	}
	var total float64
	for _, c := range counts {
		if math.IsNaN(c) || c < 0 {
			return Window{}, false
		}
		total += c
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p, fresh := t.get(key, ts)
	if p == nil {
		return Window{}, false
	}
	if fresh || !slices.Equal(p.bounds, bounds) {
		// p.v keeps the running count, so that a reset shows as a drop.
		*p = point{ts: ts, start: start, v: total, sum: sum, bounds: slices.Clone(bounds), counts: slices.Clone(counts)}
		return Window{}, false
	}
	if !ts.After(p.ts) {
		return Window{}, false
	}
	w := Window{Seconds: ts.Sub(p.ts).Seconds(), Bounds: p.bounds, Counts: make([]float64, len(counts))}
	reset := restarted(p, start, total)
	for i, c := range counts {
		if reset {
			w.Counts[i] = c
		} else {
			w.Counts[i] = max(0, c-p.counts[i])
		}
		w.Count += w.Counts[i]
	}
	w.Sum = sum
	if !reset {
		w.Sum = sum - p.sum
	}
	copy(p.counts, counts)
	p.ts, p.start, p.v, p.sum = ts, start, total, sum
	return w, true
}

// Quantile is the q-quantile of observations counted in buckets (counts[i]
// below bounds[i], the last count above every bound), interpolated linearly
// within the bucket; the lowest bucket starts at 0 (or at its bound when
// that is negative), and a rank in the top bucket yields the highest
// bound. NaN when there is no observation.
func Quantile(q float64, bounds, counts []float64) float64 {
	var total float64
	for _, c := range counts {
		total += c
	}
	if total <= 0 || len(counts) == 0 || len(counts) != len(bounds)+1 {
		return math.NaN()
	}
	if len(bounds) == 0 {
		return math.NaN()
	}
	rank := q * total
	var cum float64
	for i, c := range counts {
		if cum+c >= rank && c > 0 {
			if i == len(bounds) {
				return bounds[len(bounds)-1]
			}
			lo := 0.0
			if i > 0 {
				lo = bounds[i-1]
			} else if bounds[0] < 0 {
				lo = bounds[0]
			}
			return lo + (bounds[i]-lo)*(rank-cum)/c
		}
		cum += c
	}
	return bounds[len(bounds)-1]
}
