package sim

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config sets the shape of the simulated world.
type Config struct {
	// Seed makes the world reproducible: the same seed, the same signals.
	Seed int64 `json:"seed" yaml:"seed"`
	// Start is the simulated time of the first step.
	Start time.Time `json:"start" yaml:"start"`
	// Step is how far one call of World.Step advances simulated time.
	Step time.Duration `json:"step" yaml:"step"`
	// MetricInterval is the scrape interval of the metrics; a multiple of Step.
	MetricInterval time.Duration `json:"metric_interval" yaml:"metric_interval"`
	// TraceSampling is the fraction of requests whose spans are emitted.
	TraceSampling float64 `json:"trace_sampling" yaml:"trace_sampling"`
	// RequestRate is the mean rate of requests at the front end, per second.
	RequestRate float64 `json:"request_rate" yaml:"request_rate"`
	// LogRate is the mean rate of routine info lines per service, per second.
	LogRate float64 `json:"log_rate" yaml:"log_rate"`
	// Traffic shapes the request rate over time; the zero value keeps the
	// demo shop's slow six-hour swing.
	Traffic Traffic `json:"traffic" yaml:"traffic"`
	// Detail adds per-instance, per-host and resource metrics (disk,
	// connection pools, retransmissions, lock waits) to the per-service ones.
	Detail bool `json:"detail" yaml:"detail"`
}

// Traffic is the shape of the request rate: a daily and a weekly cycle,
// slow noise and bursts.
type Traffic struct {
	// Daily is the amplitude of the daily cycle: 0.5 swings between half
	// and one and a half times the mean, busiest mid-afternoon.
	Daily float64 `json:"daily" yaml:"daily"`
	// Weekly is how much quieter Saturdays and Sundays are (0.3 = 30 %).
	Weekly float64 `json:"weekly" yaml:"weekly"`
	// Noise is the spread of a slow random wander of the rate (0.1 = ±10 %).
	Noise float64 `json:"noise" yaml:"noise"`
	// Bursts is how many bursts of traffic arrive per hour, on average,
	// each lasting half a minute to three; BurstSize is how much each adds
	// (1 = double).
	Bursts    float64 `json:"bursts" yaml:"bursts"`
	BurstSize float64 `json:"burst_size" yaml:"burst_size"`
}

// DefaultConfig is a shop of 40 requests a second scraped every 5 s, starting
// at a fixed date so that runs are comparable.
func DefaultConfig() Config {
	return Config{
		Seed:           1,
		Start:          time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC),
		Step:           time.Second,
		MetricInterval: 5 * time.Second,
		TraceSampling:  0.1,
		RequestRate:    40,
		LogRate:        2,
	}
}

// Limits that keep one step cheap enough to simulate far faster than real time.
const (
	maxRequestRate = 5000
	maxLogRate     = 1000
)

// Validate reports every problem of the config at once.
func (c Config) Validate() error {
	var errs []error
	if c.Start.IsZero() {
		errs = append(errs, errors.New("sim: start must be set (a simulated time, e.g. 2025-01-06T09:00:00Z)"))
	} else if y := c.Start.Year(); y < 1970 || y > 2200 {
		errs = append(errs, fmt.Errorf("sim: start %s is outside the years 1970..2200", c.Start.Format(time.RFC3339)))
	}
	if c.Step <= 0 {
		errs = append(errs, fmt.Errorf("sim: step must be positive, got %s", c.Step))
	}
	if c.MetricInterval <= 0 {
		errs = append(errs, fmt.Errorf("sim: metric_interval must be positive, got %s", c.MetricInterval))
	} else if c.Step > 0 && c.MetricInterval%c.Step != 0 {
		errs = append(errs, fmt.Errorf("sim: metric_interval %s must be a multiple of step %s", c.MetricInterval, c.Step))
	}
	if math.IsNaN(c.TraceSampling) || c.TraceSampling < 0 || c.TraceSampling > 1 {
		errs = append(errs, fmt.Errorf("sim: trace_sampling must be within [0,1], got %v", c.TraceSampling))
	}
	if math.IsNaN(c.RequestRate) || c.RequestRate <= 0 || c.RequestRate > maxRequestRate {
		errs = append(errs, fmt.Errorf("sim: request_rate must be within (0,%d], got %v", maxRequestRate, c.RequestRate))
	}
	if math.IsNaN(c.LogRate) || c.LogRate < 0 || c.LogRate > maxLogRate {
		errs = append(errs, fmt.Errorf("sim: log_rate must be within [0,%d], got %v", maxLogRate, c.LogRate))
	}
	tr := c.Traffic
	for _, v := range []struct {
		name   string
		x, max float64
	}{{"daily", tr.Daily, 0.95}, {"weekly", tr.Weekly, 0.95}, {"noise", tr.Noise, 1}, {"bursts", tr.Bursts, 60}, {"burst_size", tr.BurstSize, 10}} {
		if math.IsNaN(v.x) || v.x < 0 || v.x > v.max {
			errs = append(errs, fmt.Errorf("sim: traffic.%s must be within [0,%v], got %v", v.name, v.max, v.x))
		}
	}
	return errors.Join(errs...)
}
