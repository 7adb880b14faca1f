package rca

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes the ranking. The zero value of a field means its default.
type Config struct {
	// TopK is how many causes are returned.
	TopK int `yaml:"top_k"`
	// Slack is how much later a callee's onset may be than its caller's and
	// still explain it: detectors report with a few seconds of jitter.
	Slack time.Duration `yaml:"slack"`
	// OnsetScale is how fast a later onset loses credit: an entity whose
	// anomalies began OnsetScale after the first keeps about 80% of its score.
	OnsetScale time.Duration `yaml:"onset_scale"`
	// ChangeWindow is how long before the onset a change is still suspect.
	ChangeWindow time.Duration `yaml:"change_window"`
	// VictimFactor is what is left of the score of an entity whose anomalies
	// are fully explained by an anomalous callee.
	VictimFactor float64 `yaml:"victim_factor"`
	// LoadLag is how long after a traffic surge began a fault downstream may
	// begin and still be the surge's doing; a slowdown minutes after a rise
	// in traffic has another cause.
	LoadLag time.Duration `yaml:"load_lag"`
	// Propagation is how long before a caller's anomalies a callee's may
	// have begun (or peaked) and still explain them: trouble reaches
	// callers within a minute or two, not a quarter of an hour later.
	Propagation time.Duration `yaml:"propagation"`
	// ShiftFloor is the robust change score below which a metric's shift
	// around the onset is noise, not evidence.
	ShiftFloor float64 `yaml:"shift_floor"`
}

// DefaultConfig is the configuration used for zero fields.
func DefaultConfig() Config {
	return Config{
		TopK:         5,
		Slack:        10 * time.Second,
		OnsetScale:   60 * time.Second,
		ChangeWindow: 30 * time.Minute,
		VictimFactor: 0.4,
		ShiftFloor:   3,
		LoadLag:      90 * time.Second,
		Propagation:  3 * time.Minute,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.TopK == 0 {
		c.TopK = d.TopK
	}
	if c.Slack == 0 {
		c.Slack = d.Slack
	}
	if c.OnsetScale == 0 {
		c.OnsetScale = d.OnsetScale
	}
	if c.ChangeWindow == 0 {
		c.ChangeWindow = d.ChangeWindow
	}
	if c.VictimFactor == 0 {
		c.VictimFactor = d.VictimFactor
	}
	if c.ShiftFloor == 0 {
		c.ShiftFloor = d.ShiftFloor
	}
	if c.LoadLag == 0 {
		c.LoadLag = d.LoadLag
	}
	if c.Propagation == 0 {
		c.Propagation = d.Propagation
	}
	return c
}

// Validate reports every field that is out of range.
func (c Config) Validate() error {
	var errs []error
	if c.TopK < 0 {
		errs = append(errs, fmt.Errorf("rca.top_k must be positive, got %d", c.TopK))
	}
	if c.Slack < 0 {
		errs = append(errs, fmt.Errorf("rca.slack must not be negative, got %s", c.Slack))
	}
	if c.OnsetScale < 0 {
		errs = append(errs, fmt.Errorf("rca.onset_scale must not be negative, got %s", c.OnsetScale))
	}
	if c.ChangeWindow < 0 {
		errs = append(errs, fmt.Errorf("rca.change_window must not be negative, got %s", c.ChangeWindow))
	}
	if c.VictimFactor < 0 || c.VictimFactor > 1 {
		errs = append(errs, fmt.Errorf("rca.victim_factor must be in [0,1], got %g", c.VictimFactor))
	}
	if c.LoadLag < 0 {
		errs = append(errs, fmt.Errorf("rca.load_lag must not be negative, got %s", c.LoadLag))
	}
	if c.Propagation < 0 {
		errs = append(errs, fmt.Errorf("rca.propagation must not be negative, got %s", c.Propagation))
	}
	if c.ShiftFloor < 0 {
		errs = append(errs, fmt.Errorf("rca.shift_floor must not be negative, got %g", c.ShiftFloor))
	}
	return errors.Join(errs...)
}
