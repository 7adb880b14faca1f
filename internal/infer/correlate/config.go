package correlate

import (
	"errors"
	"fmt"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Config tunes grouping. The zero value of a field means its default.
type Config struct {
	// Window is how far from an incident's newest observation another one
	// may be and still join it.
	Window time.Duration `yaml:"window"`
	// ResolveAfter is how long an incident stays open with nothing new.
	ResolveAfter time.Duration `yaml:"resolve_after"`
	// Reopen is how long after resolving an incident reopens on related
	// observations instead of a new incident being opened.
	Reopen time.Duration `yaml:"reopen"`
	// MaxHops is how far apart on the call graph two entities may be and
	// still be one problem.
	MaxHops int `yaml:"max_hops"`
	// MinScore is the score at least one observation must reach to open an
	// incident.
	MinScore float64 `yaml:"min_score"`
	// MinObservations is how many distinct observations (entity, kind, name)
	// open an incident, unless one reaches StrongScore alone.
	MinObservations int `yaml:"min_observations"`
	// StrongScore is the score at which one observation opens an incident.
	StrongScore float64 `yaml:"strong_score"`
	// MaxObservations caps the distinct observations kept per incident;
	// later ones still keep the incident alive and are counted.
	MaxObservations int `yaml:"max_observations"`
	// MaxPending caps the observations waiting for company.
	MaxPending int `yaml:"max_pending"`
	// Topology returns the current call graph; nil or an empty graph means
	// observations are grouped by time alone.
	Topology func() signal.Topology `yaml:"-"`
}

// DefaultConfig is the configuration used for zero fields.
func DefaultConfig() Config {
	return Config{
		Window:          2 * time.Minute,
		ResolveAfter:    5 * time.Minute,
		Reopen:          10 * time.Minute,
		MaxHops:         3,
		MinScore:        0.5,
		MinObservations: 2,
		StrongScore:     0.9,
		MaxObservations: 256,
		MaxPending:      4096,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(v *time.Duration, dv time.Duration) {
		if *v == 0 {
			*v = dv
		}
	}
	set(&c.Window, d.Window)
	set(&c.ResolveAfter, d.ResolveAfter)
	set(&c.Reopen, d.Reopen)
	for _, p := range []struct {
		v *int
		d int
	}{{&c.MaxHops, d.MaxHops}, {&c.MinObservations, d.MinObservations}, {&c.MaxObservations, d.MaxObservations}, {&c.MaxPending, d.MaxPending}} {
		if *p.v == 0 {
			*p.v = p.d
		}
	}
	if c.MinScore == 0 {
		c.MinScore = d.MinScore
	}
	if c.StrongScore == 0 {
		c.StrongScore = d.StrongScore
	}
	return c
}

// Validate reports every field that is out of range.
func (c Config) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"window", c.Window}, {"resolve_after", c.ResolveAfter}, {"reopen", c.Reopen}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("correlate.%s must not be negative, got %s", d.name, d.v))
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"max_hops", c.MaxHops}, {"min_observations", c.MinObservations}, {"max_observations", c.MaxObservations}, {"max_pending", c.MaxPending}} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("correlate.%s must not be negative, got %d", n.name, n.v))
		}
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"min_score", c.MinScore}, {"strong_score", c.StrongScore}} {
		if s.v < 0 || s.v > 1 {
			errs = append(errs, fmt.Errorf("correlate.%s must be in [0,1], got %g", s.name, s.v))
		}
	}
	return errors.Join(errs...)
}
