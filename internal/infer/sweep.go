package infer

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/signal"
)

// SweepConfig tunes the change sweep: the recent window scored the way an
// investigation scores it, every minute, so that a fault is seen while the
// streaming detectors are still learning (a restart, a new series, data at
// one point a minute that takes them half an hour to warm).
type SweepConfig struct {
	// Every is how often (in signal time) the window is swept; 0 turns the
	// sweep off.
	Every time.Duration `yaml:"every"`
	// After is the newest stretch of each series judged against what came
	// before it (up to the investigation's lookback).
	After time.Duration `yaml:"after"`
	// MinStrength is the least strength (see rca.Investigate) a change needs
	// to be reported: 0.5 is a robust change score of about 35.
	MinStrength float64 `yaml:"min_strength"`
	// Quiet is how long a series that was reported stays quiet unless its
	// change grows by half again.
	Quiet time.Duration `yaml:"quiet"`
}

// DefaultSweepConfig is the configuration used for zero fields.
func DefaultSweepConfig() SweepConfig {
	return SweepConfig{Every: time.Minute, After: 2 * time.Minute, MinStrength: 0.5, Quiet: 10 * time.Minute}
}

// Validate reports every field out of range.
func (c SweepConfig) Validate() error {
	var errs []error
	if c.Every < 0 || c.After < 0 || c.Quiet < 0 {
		errs = append(errs, errors.New("sweep: every, after and quiet must not be negative"))
	}
	if c.MinStrength < 0 || c.MinStrength > 1 {
		errs = append(errs, fmt.Errorf("sweep.min_strength must be in [0,1], got %g", c.MinStrength))
	}
	return errors.Join(errs...)
}

func (c SweepConfig) withDefaults() SweepConfig {
	d := DefaultSweepConfig()
	c.Every = cmp.Or(c.Every, d.Every)
	c.After = cmp.Or(c.After, d.After)
	c.MinStrength = cmp.Or(c.MinStrength, d.MinStrength)
	c.Quiet = cmp.Or(c.Quiet, d.Quiet)
	return c
}

type swept struct {
	at       time.Time
	strength float64
}

// Sweep scores the newest stretch of every recent series against its own
// past, at most once per SweepConfig.Every of signal time, and returns an
// observation for each change strong enough in the direction the semantics
// table calls bad. A series reported stays quiet for Quiet unless its change
// grows by half again. Quantities whose meaning is unknown are not swept.
func (i *Inferrer) Sweep(now time.Time) []signal.Observation {
	cfg := i.cfg.Sweep.withDefaults()
	if i.cfg.Sweep.Every < 0 {
		return nil
	}
	i.mu.Lock()
	if !i.lastSweep.IsZero() && now.Sub(i.lastSweep) < cfg.Every {
		i.mu.Unlock()
		return nil
	}
	i.lastSweep = now
	i.mu.Unlock()
	inv := i.cfg.Investigate.WithDefaults()
	from, cut := now.Add(-inv.Lookback), now.Add(-cfg.After)
	var out []signal.Observation
	for _, sd := range i.win.Range(from, now) {
		m := i.table.Of(sd.Name, sd.Labels)
		if !m.Judged() {
			continue
		}
		// A series with less history than a cold start's few points over
		// a few minutes opens no incident by itself: its bounds are
		// guesses (a series born at 0 that moves at all).
		if n, span, varied := baselineOf(sd.Points, from, cut); n < sweepMinBaseline || span < sweepMinHistory || !varied && m.Floor() == 0 {
			// A constant baseline (a series that sat at 0) gives no
			// noise to judge a change by, unless its unit sets a floor.
			continue
		}
		z, f, ok := rca.ChangeScore(&sd, m, from, cut, now)
		if !ok {
			continue
		}
		st := rca.Strength(z, inv.Floor)
		if st < cfg.MinStrength {
			continue
		}
		key := sd.Entity + "\x00" + rca.SeriesName(&sd)
		i.mu.Lock()
		last, seen := i.swept[key]
		quiet := seen && now.Sub(last.at) < cfg.Quiet && st < 1.5*last.strength
		if !quiet {
			i.swept[key] = swept{at: now, strength: st}
		}
		i.mu.Unlock()
		if quiet {
			continue
		}
		name := rca.SeriesName(&sd)
		out = append(out, signal.Observation{
			Time: now, Start: f.Time, Entity: sd.Entity, Kind: signal.MetricAnomaly, Name: name, Score: st,
			Actual: f.After, Expected: f.Before,
			Summary:  fmt.Sprintf("%s %s from %.4g to %.4g (robust change score %.1f against the last %s)", name, f.Direction, f.Before, f.After, z, inv.Lookback),
			Evidence: map[string]string{"direction": f.Direction, "source": "change sweep", "quantity": string(m.Quantity)},
		})
	}
	// Forget what went quiet long ago, so the memo stays bounded by the
	// series reported in the last Quiet.
	i.mu.Lock()
	for k, v := range i.swept {
		if now.Sub(v.at) > 2*cfg.Quiet {
			delete(i.swept, k)
		}
	}
	i.mu.Unlock()
	return out
}

// A series is swept once its baseline holds sweepMinBaseline points over
// at least sweepMinHistory: three minutes of data at one point a minute,
// two minutes of a 15-second scrape.
const (
	sweepMinBaseline = 3
	sweepMinHistory  = 2 * time.Minute
)

// baselineOf counts the points in [from, to), the time from the first to
// the last, and tells whether they took more than one value.
func baselineOf(pts []rca.Point, from, to time.Time) (n int, span time.Duration, varied bool) {
	var first rca.Point
	for _, p := range pts {
		if p.Time.Before(from) || !p.Time.Before(to) {
			continue
		}
		if n == 0 {
			first = p
		} else if p.Value != first.Value {
			varied = true
		}
		span = p.Time.Sub(first.Time)
		n++
	}
	return n, span, varied
}
