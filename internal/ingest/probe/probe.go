package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/seerops/seer/internal/ingest/poll"
	"github.com/seerops/seer/internal/signal"
)

// The series a probe yields.
const (
	// NameSuccess is 1 when the target answered with an expected status
	// within the timeout, else 0.
	NameSuccess = "probe_success"
	// NameLatency is how long the answer took, in milliseconds (the timeout
	// when there was none).
	NameLatency = "probe_latency_ms"
	// NameStatus is the HTTP status code, 0 when there was no answer.
	NameStatus = "probe_status_code"
)

// Target is one endpoint to probe and the entity its health is about.
type Target struct {
	// URL is the health endpoint, e.g. http://10.0.0.5:8080/healthz.
	URL string `yaml:"url"`
	// Entity is the service or service/instance the samples are about.
	Entity string `yaml:"entity"`
	// Method is GET unless given.
	Method string `yaml:"method"`
	// Status lists the answers that count as healthy; any 2xx when empty.
	Status []int `yaml:"status"`
}

// Config lists the targets and how they are probed.
type Config struct {
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds a probe; no answer within it is a failure. It must
	// not exceed Interval.
	Timeout time.Duration `yaml:"timeout"`
	Targets []Target      `yaml:"targets"`
}

// DefaultConfig probes every 10 seconds with a 5-second timeout; no
// targets.
func DefaultConfig() Config {
	return Config{Interval: 10 * time.Second, Timeout: 5 * time.Second}
}

var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodOptions}

// Validate reports every problem, naming the key and the target.
func (c Config) Validate() error {
	var errs []error
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("interval must be positive, got %s", c.Interval))
	}
	if c.Timeout <= 0 || c.Timeout > c.Interval {
		errs = append(errs, fmt.Errorf("timeout must be positive and at most the interval (%s), got %s", c.Interval, c.Timeout))
	}
	for i, t := range c.Targets {
		if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("targets[%d].url %q is not an absolute http or https URL", i, t.URL))
		}
		if t.Entity == "" {
			errs = append(errs, fmt.Errorf("targets[%d].entity is empty: name the service or service/instance it is about", i))
		} else if err := signal.CheckEntity(t.Entity); err != nil {
			errs = append(errs, fmt.Errorf("targets[%d].entity: %w", i, err))
		}
		if t.Method != "" && !slices.Contains(methods, t.Method) {
			errs = append(errs, fmt.Errorf("targets[%d].method %q is not one of GET, HEAD, POST, OPTIONS", i, t.Method))
		}
		for _, s := range t.Status {
			if s < 100 || s > 599 {
				errs = append(errs, fmt.Errorf("targets[%d].status %d is not an HTTP status", i, s))
			}
		}
	}
	return errors.Join(errs...)
}

// Sink takes the samples of one probe; the engine's Ingest is one.
type Sink func(ctx context.Context, b *signal.Batch) error

// Prober probes the configured targets. It is safe for concurrent use.
type Prober struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	probes, failures atomic.Uint64
}

// New returns a Prober for a valid cfg.
func New(cfg Config, logger *slog.Logger) (*Prober, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// A fresh connection per probe: a pooled one would hide a service that
	// no longer accepts new connections.
	tr := &http.Transport{DisableKeepAlives: true, Proxy: http.ProxyFromEnvironment}
	return &Prober{
		cfg:    cfg,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		log:    logger.With("component", "ingest.probe"),
		now:    time.Now,
	}, nil
}

// Counts returns how many probes were sent and how many failed.
func (p *Prober) Counts() (probes, failures uint64) { return p.probes.Load(), p.failures.Load() }

// Run probes every target each Interval, starting at once, and hands the
// samples to sink, until ctx ends.
func (p *Prober) Run(ctx context.Context, sink Sink) {
	poll.Run(ctx, p.cfg.Interval, p.cfg.Targets, p.Probe, sink, func(tg Target, read bool, err error) {
		if read {
			p.log.Debug("probe failed", "url", tg.URL, "entity", tg.Entity, "err", err)
			return
		}
		p.log.Warn("handing probe samples on", "entity", tg.Entity, "err", err)
	})
}

// Probe probes one target now and returns its samples; the error says why
// a failed probe failed.
func (p *Prober) Probe(ctx context.Context, tg Target) ([]signal.Sample, error) {
	start := p.now()
	p.probes.Add(1)
	code, err := p.do(ctx, tg)
	latency := p.now().Sub(start)
	if err == nil && !healthy(tg.Status, code) {
		err = fmt.Errorf("%s answered %d", tg.URL, code)
	}
	ok := 1.0
	if err != nil {
		ok = 0
		p.failures.Add(1)
		if latency < p.cfg.Timeout && code == 0 {
			// Refused at once or timed out: either way no answer, and a
			// refused connection is no faster a service.
			latency = p.cfg.Timeout
		}
	}
	base := signal.Sample{Time: start, Entity: tg.Entity}
	out := make([]signal.Sample, 0, 3)
	for _, s := range []struct {
		name string
		v    float64
	}{{NameSuccess, ok}, {NameLatency, float64(latency) / float64(time.Millisecond)}, {NameStatus, float64(code)}} {
		base.Name, base.Value = s.name, s.v
		out = append(out, base)
	}
	return out, err
}

func (p *Prober) do(ctx context.Context, tg Target) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	method := tg.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, tg.URL, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "seer-probe")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Read a little of the body: a service that sends headers and then
	// hangs is not healthy.
	if _, err := io.CopyN(io.Discard, resp.Body, 64<<10); err != nil && !errors.Is(err, io.EOF) {
		return resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, nil
}

func healthy(want []int, code int) bool {
	if len(want) == 0 {
		return code >= 200 && code < 300
	}
	return slices.Contains(want, code)
}
