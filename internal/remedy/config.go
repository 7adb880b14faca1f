package remedy

import (
	"errors"
	"fmt"
	"time"
)

// Config is the policy that guards every runbook run: what may run, how
// often, how much at once, and how long its effect may take to show.
type Config struct {
	// DryRun forces every runbook to dry-run, whatever its mode says: the
	// switch that stops all automation at once.
	DryRun bool `yaml:"dry_run"`
	// Environments are what the hosts seer acts on offer a runbook's steps:
	// kubernetes, systemd, docker. Empty: what this machine has (a
	// Kubernetes service account or kubeconfig, a running systemd, a
	// docker socket). A runbook that needs another is not nominated.
	Environments []string `yaml:"environments"`
	// Cooldown is the least time between the end of one run on a target
	// and the start of the next.
	Cooldown time.Duration `yaml:"cooldown"`
	// MaxActions runs may start on one target within RateWindow.
	MaxActions int           `yaml:"max_actions"`
	RateWindow time.Duration `yaml:"rate_window"`
	// MaxInstances and MaxPercent bound the blast radius: at most this many,
	// and at most this share (0..1], of a service's instances are acted on
	// at once. At least one is always allowed, so that a small service can
	// still be healed one instance at a time. 0 disables a bound.
	MaxInstances int     `yaml:"max_instances"`
	MaxPercent   float64 `yaml:"max_percent"`
	// Settle is how long a target must be free of symptoms after the
	// actions to count as recovered. It must cover the detectors' repeat
	// interval, or a lasting fault would look cleared between reports.
	Settle time.Duration `yaml:"settle"`
	// Stable is how long, in the signals' time, an incident's top cause
	// must have held before an auto runbook acts on it: a diagnosis still
	// being re-ranked must not restart one service after another. 0 acts
	// at once.
	Stable time.Duration `yaml:"stable"`
	// Retry is how soon an incident whose run the policy refused may try
	// again (a cooldown's end is waited for anyway).
	Retry time.Duration `yaml:"retry"`
	// MaxOutput bounds the output kept of one step, in bytes.
	MaxOutput int `yaml:"max_output"`
	// CollectTimeout bounds a collect step, which has no timeout of its own.
	CollectTimeout time.Duration `yaml:"collect_timeout"`
	// Reload is how often the runbook directory is checked for changes.
	Reload time.Duration `yaml:"reload"`
}

// DefaultConfig is cautious: one action per target per 15 minutes, at
// most 3 an hour, one instance (or a quarter of a service) at a time.
func DefaultConfig() Config {
	return Config{
		Cooldown:       15 * time.Minute,
		MaxActions:     3,
		RateWindow:     time.Hour,
		MaxInstances:   1,
		MaxPercent:     0.25,
		Settle:         2 * time.Minute,
		Stable:         30 * time.Second,
		Retry:          30 * time.Second,
		MaxOutput:      16 << 10,
		CollectTimeout: 10 * time.Second,
		Reload:         10 * time.Second,
	}
}

// Validate reports every problem, each naming its key.
func (c Config) Validate() error {
	var errs []error
	for _, e := range c.Environments {
		if e != "kubernetes" && e != "systemd" && e != "docker" {
			errs = append(errs, fmt.Errorf("environments: %q is not kubernetes, systemd or docker", e))
		}
	}
	nonNeg := func(name string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %s", name, d))
		}
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", name, d))
		}
	}
	nonNeg("cooldown", c.Cooldown)
	nonNeg("retry", c.Retry)
	nonNeg("stable", c.Stable)
	positive("rate_window", c.RateWindow)
	positive("settle", c.Settle)
	positive("collect_timeout", c.CollectTimeout)
	positive("reload", c.Reload)
	if c.MaxActions < 1 {
		errs = append(errs, fmt.Errorf("max_actions must be at least 1, got %d", c.MaxActions))
	}
	if c.MaxInstances < 0 {
		errs = append(errs, fmt.Errorf("max_instances must not be negative (0 means no count bound), got %d", c.MaxInstances))
	}
	if !(c.MaxPercent >= 0 && c.MaxPercent <= 1) {
		errs = append(errs, fmt.Errorf("max_percent must be in [0,1] (0 means no share bound), got %g", c.MaxPercent))
	}
	if c.MaxOutput < 256 {
		errs = append(errs, fmt.Errorf("max_output must be at least 256 bytes, got %d", c.MaxOutput))
	}
	return errors.Join(errs...)
}
