package scrape

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// Target is one endpoint to scrape and the entity its metrics are about.
type Target struct {
	// URL is the full address of the metrics, e.g. http://10.0.0.5:8080/metrics.
	URL string `yaml:"url"`
	// Entity is the service ("checkout") or instance ("checkout/checkout-1")
	// the samples are attributed to.
	Entity string `yaml:"entity"`
	// Labels are added to every sample of the target.
	Labels map[string]string `yaml:"labels"`
}

// Config lists the targets and how they are scraped.
type Config struct {
	// Interval is how often every target is scraped.
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one scrape; a target that does not answer within it
	// is down. It must not exceed Interval.
	Timeout time.Duration `yaml:"timeout"`
	// MaxBody bounds the bytes read from one scrape.
	MaxBody int64 `yaml:"max_body"`
	// MaxSamples bounds the samples taken from one scrape; the rest are
	// dropped and counted.
	MaxSamples int `yaml:"max_samples"`
	// MaxSeries bounds the counters and histograms whose previous value is
	// remembered for rates.
	MaxSeries int      `yaml:"max_series"`
	Targets   []Target `yaml:"targets"`
}

// DefaultConfig scrapes every 15 seconds with a 10-second timeout, the
// usual Prometheus setting; no targets.
func DefaultConfig() Config {
	return Config{Interval: 15 * time.Second, Timeout: 10 * time.Second, MaxBody: 16 << 20, MaxSamples: 50000, MaxSeries: 200000}
}

// Validate reports every problem, naming the key and the target.
func (c Config) Validate() error {
	var errs []error
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("interval must be positive, got %s", c.Interval))
	}
	if c.Timeout <= 0 || c.Timeout > c.Interval {
		errs = append(errs, fmt.Errorf("timeout must be positive and at most the interval (%s), got %s", c.Interval, c.Timeout))
	}
	if c.MaxBody < 1024 {
		errs = append(errs, fmt.Errorf("max_body must be at least 1024 bytes, got %d", c.MaxBody))
	}
	if c.MaxSamples < 1 {
		errs = append(errs, fmt.Errorf("max_samples must be at least 1, got %d", c.MaxSamples))
	}
	if c.MaxSeries < 1 {
		errs = append(errs, fmt.Errorf("max_series must be at least 1, got %d", c.MaxSeries))
	}
	errs = append(errs, checkTargets(c.Targets, func(t Target) (string, string) { return t.URL, t.Entity })...)
	return errors.Join(errs...)
}

// checkTargets validates the URL and entity of each target and rejects a
// URL given twice.
func checkTargets[T any](ts []T, get func(T) (string, string)) []error {
	var errs []error
	seen := map[string]int{}
	for i, t := range ts {
		raw, entity := get(t)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("targets[%d].url %q is not an absolute http or https URL", i, raw))
		}
		if entity == "" {
			errs = append(errs, fmt.Errorf("targets[%d].entity is empty: name the service or service/instance it is about", i))
		} else if err := signal.CheckEntity(entity); err != nil {
			errs = append(errs, fmt.Errorf("targets[%d].entity: %w", i, err))
		}
		if j, ok := seen[raw]; ok {
			errs = append(errs, fmt.Errorf("targets[%d].url %q is already targets[%d]", i, raw, j))
		}
		seen[raw] = i
	}
	return errs
}
