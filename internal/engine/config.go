package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/bus"
	"github.com/seerops/seer/internal/detect/logs"
	"github.com/seerops/seer/internal/detect/metric"
	"github.com/seerops/seer/internal/detect/trace"
	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/ingest/alertmanager"
	"github.com/seerops/seer/internal/ingest/guard"
	"github.com/seerops/seer/internal/ingest/logfile"
	"github.com/seerops/seer/internal/ingest/otlp"
	"github.com/seerops/seer/internal/ingest/probe"
	"github.com/seerops/seer/internal/ingest/promrw"
	"github.com/seerops/seer/internal/ingest/scrape"
	"github.com/seerops/seer/internal/memlimit"
	"github.com/seerops/seer/internal/notify"
	"github.com/seerops/seer/internal/remedy"
	"github.com/seerops/seer/internal/servertls"
	"github.com/seerops/seer/internal/signal"
)

// Config is the whole engine's configuration. The zero value of a section
// is never used: Default fills every section and a YAML file overrides what
// it names.
type Config struct {
	// DataDir holds the knowledge store (seer.db).
	DataDir string `yaml:"data_dir"`
	// HTTPAddr is where the API, /metrics and the health checks listen.
	HTTPAddr string `yaml:"http_addr"`
	// TLS, when it names a certificate, is served on HTTPAddr (the API,
	// the UI and the receivers that share its port).
	TLS servertls.Config `yaml:"tls"`
	// Tick is how often a live engine advances its time-driven stages.
	Tick time.Duration `yaml:"tick"`
	// RuleMining is how often a live engine mines association rules from
	// the incidents whose cause is known; 0 turns mining off.
	RuleMining time.Duration `yaml:"rule_mining"`
	// Checkpoint is how often a live engine saves what its stages learned
	// (log templates and baselines) to the data directory, besides on a
	// clean stop; 0 saves only on a clean stop.
	Checkpoint time.Duration `yaml:"checkpoint"`
	// Retention is how long observations, events and resolved incidents
	// are kept; older ones are deleted in the background, a bounded batch
	// at a time. 0 keeps everything.
	Retention time.Duration `yaml:"retention"`
	// Topology declares services and calls that traces may not show (yet);
	// the discovered graph is merged with it.
	Topology signal.Topology `yaml:"topology"`
	// RunbookDir, when set, holds runbooks that add to the built-in ones.
	RunbookDir string `yaml:"runbook_dir"`

	// Receivers of standard telemetry and the outputs of incidents.
	OTLP         otlp.Config         `yaml:"otlp"`
	RemoteWrite  promrw.Config       `yaml:"remote_write"`
	Alertmanager alertmanager.Config `yaml:"alertmanager"`
	// APILimits are the API routes' limits: requests in flight and per
	// client address, as the receivers have (the body cap and the memory
	// budget stay the routes' own).
	APILimits guard.Config   `yaml:"api_limits"`
	Tail      logfile.Config `yaml:"tail"`
	Notify    NotifyConfig   `yaml:"notify"`

	Bus    bus.MemoryConfig `yaml:"bus"`
	Metric metric.Config    `yaml:"metric"`
	Logs   logs.Config      `yaml:"logs"`
	Trace  trace.Config     `yaml:"trace"`
	Infer  infer.Config     `yaml:"infer"`

	// Scrape pulls Prometheus metrics from targets; Probe checks their
	// health from outside. Both are off until targets are listed.
	Scrape scrape.Config `yaml:"scrape"`
	Probe  probe.Config  `yaml:"probe"`
	// Memory bounds, in bytes, what the receivers and the bus hold.
	Memory memlimit.Config `yaml:"memory"`
	// Remedy is the policy that guards runbook runs.
	Remedy remedy.Config `yaml:"remedy"`
	// Auth is who may use the API and the receivers: on by itself when any
	// listener is off loopback.
	Auth auth.Config `yaml:"auth"`
}

// Default is the embedded configuration: everything in one process, the
// store under ./data, the API on loopback.
func Default() Config {
	return Config{
		DataDir:      "data",
		HTTPAddr:     "127.0.0.1:7070",
		Tick:         time.Second,
		RuleMining:   time.Hour,
		Checkpoint:   time.Minute,
		Retention:    30 * 24 * time.Hour,
		Bus:          bus.DefaultMemoryConfig(),
		OTLP:         otlp.DefaultConfig(),
		RemoteWrite:  promrw.DefaultConfig(),
		Alertmanager: alertmanager.DefaultConfig(),
		APILimits:    DefaultAPILimits(),
		Tail:         logfile.DefaultConfig(),
		Notify:       NotifyConfig{Alertmanager: notify.DefaultAlertmanagerConfig()},
		Metric:       metric.DefaultConfig(),
		Logs:         logs.DefaultConfig(),
		Trace:        trace.DefaultConfig(),
		Infer:        infer.DefaultConfig(),
		Scrape:       scrape.DefaultConfig(),
		Probe:        probe.DefaultConfig(),
		Remedy:       remedy.DefaultConfig(),
		Memory:       memlimit.DefaultConfig(),
		Auth:         auth.DefaultConfig(),
	}
}

// Load reads a YAML configuration file over the defaults. Unknown keys are
// errors, so that a typo does not silently keep a default.
func Load(path string) (Config, error) {
	cfg := Default()
	if path == "" {
		return cfg, cfg.Validate()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("reading the config: %w", err)
	}
	cfg, err = Parse(data)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse reads a YAML configuration over the defaults and validates it; an
// empty document stands for all defaults.
func Parse(data []byte) (Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// Validate reports every problem in the configuration, each naming its key.
func (c Config) Validate() error {
	var errs []error
	if c.HTTPAddr == "" {
		errs = append(errs, errors.New("http_addr is empty: give host:port, e.g. 127.0.0.1:7070"))
	}
	if c.Tick <= 0 {
		errs = append(errs, fmt.Errorf("tick must be positive, got %v", c.Tick))
	}
	if c.Checkpoint < 0 {
		errs = append(errs, fmt.Errorf("checkpoint must be 0 (only on a clean stop) or positive, got %v", c.Checkpoint))
	}
	if c.Retention < 0 {
		errs = append(errs, fmt.Errorf("retention must be 0 (keep everything) or positive, got %v", c.Retention))
	}
	if c.RuleMining < 0 {
		errs = append(errs, fmt.Errorf("rule_mining must be 0 (off) or positive, got %v", c.RuleMining))
	}
	for _, sec := range []struct {
		name string
		err  error
	}{
		{"bus", c.Bus.Validate()},
		{"otlp", c.OTLP.Validate()},
		{"remote_write", c.RemoteWrite.Validate()},
		{"alertmanager", c.Alertmanager.Validate()},
		{"api_limits", c.APILimits.Validate()},
		{"tail", c.Tail.Validate()},
		{"notify", c.Notify.Validate()},
		{"metric", c.Metric.Validate()},
		{"logs", c.Logs.Validate()},
		{"trace", c.Trace.Validate()},
		{"infer", c.Infer.Validate()},
		{"scrape", c.Scrape.Validate()},
		{"probe", c.Probe.Validate()},
		{"remedy", c.Remedy.Validate()},
		{"memory", c.Memory.Validate()},
		{"auth", c.Auth.Validate()},
		{"tls", c.TLS.Validate()},
	} {
		if sec.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", sec.name, sec.err))
		}
	}
	return errors.Join(errs...)
}

// exposed names the first listener that is not on loopback only, or ""
// when every one is.
func (c Config) exposed() string {
	for _, l := range []struct{ key, addr string }{
		{"http_addr", c.HTTPAddr}, {"otlp.grpc_addr", c.OTLP.GRPCAddr}, {"otlp.http_addr", c.OTLP.HTTPAddr},
	} {
		if l.addr != "" && !auth.Loopback(l.addr) {
			return fmt.Sprintf("%s %s", l.key, l.addr)
		}
	}
	return ""
}

// authenticator builds the token check, or nil when authentication is off:
// in auto mode with every listener on loopback. It refuses to run exposed
// without tokens.
func (c Config) authenticator() (*auth.Authenticator, error) {
	// The tokens file is read even when authentication stays off, so that
	// a mistake in it shows at once rather than on the day seer is exposed.
	tokens, err := c.Auth.Load()
	if err != nil {
		return nil, err
	}
	exposed := c.exposed()
	if c.Auth.Mode != auth.ModeOn && exposed == "" {
		return nil, nil
	}
	if len(tokens) == 0 {
		why := "auth.mode is on"
		if exposed != "" {
			why = exposed + " is not loopback, so authentication is on"
		}
		return nil, fmt.Errorf("%s and no tokens are configured: make one with `seer token new --role operate` "+
			"and put the line it prints under auth.tokens in the config (or in auth.tokens_file)", why)
	}
	return auth.New(tokens), nil
}

// DefaultAPILimits are the receivers' limits (1000 requests a second per
// client address, burst 2000) with 64 requests at once (a page of the UI
// asks for several).
func DefaultAPILimits() guard.Config {
	c := guard.DefaultConfig()
	c.MaxInFlight = 64
	return c
}
