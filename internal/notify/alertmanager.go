package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"

	"github.com/seerops/seer/internal/signal"
)

// AlertmanagerConfig configures the Alertmanager notifier.
type AlertmanagerConfig struct {
	// URL is Alertmanager's base URL, e.g. http://127.0.0.1:9093.
	URL string `yaml:"url"`
	// ExternalURL is seer's own base URL, for the link to the incident.
	ExternalURL string `yaml:"external_url"`
	// Resend is how often open incidents are sent again, as Alertmanager
	// expects of its clients; an alert not re-sent resolves after 3×Resend.
	Resend   time.Duration `yaml:"resend"`
	Delivery Delivery      `yaml:"delivery"`
	// HTTPClientConfig is Prometheus' HTTP client configuration, its keys
	// written beside url, as in Prometheus' own alertmanagers section:
	// tls_config, authorization, basic_auth, oauth2, proxy_url…
	HTTPClientConfig config.HTTPClientConfig `yaml:",inline"`
}

// DefaultAlertmanagerConfig re-sends every minute with Prometheus' default
// HTTP client; URL must be set.
func DefaultAlertmanagerConfig() AlertmanagerConfig {
	return AlertmanagerConfig{ExternalURL: "http://127.0.0.1:7070", Resend: time.Minute, Delivery: DefaultDelivery(),
		HTTPClientConfig: defaultHTTPClientConfig()}
}

// Validate reports every problem in c.
func (c AlertmanagerConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("alertmanager.url %q must be an http(s) URL such as http://127.0.0.1:9093", c.URL))
	}
	if c.Resend <= 0 {
		errs = append(errs, fmt.Errorf("alertmanager.resend must be positive, got %s", c.Resend))
	}
	if err := c.Delivery.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("alertmanager.delivery: %w", err))
	}
	if err := validateClient(c.HTTPClientConfig, nil); err != nil {
		errs = append(errs, fmt.Errorf("alertmanager: %w", err))
	}
	return errors.Join(errs...)
}

// Alertmanager posts incidents to Alertmanager's v2 API as alerts named
// SeerIncident, re-sent while open and ended when resolved.
type Alertmanager struct {
	cfg AlertmanagerConfig
	w   *worker
	now func() time.Time
	// open is touched only by the worker goroutine.
	open map[int64]signal.Incident
}

// maxOpen bounds the incidents re-sent; the oldest beyond it are dropped
// (Alertmanager resolves them after 3×Resend).
const maxOpen = 10000

// NewAlertmanager starts the notifier; Close stops it.
func NewAlertmanager(cfg AlertmanagerConfig, logger *slog.Logger, reg prometheus.Registerer) (*Alertmanager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Alertmanager{cfg: cfg, now: time.Now, open: make(map[int64]signal.Incident)}
	var err error
	if a.w, err = newWorker("alertmanager", cfg.Delivery, cfg.HTTPClientConfig, logger, reg); err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	a.w.handle = a.handle
	a.w.tick = cfg.Resend
	a.w.onTick = a.resend
	a.w.start()
	return a, nil
}

// Notify queues the incident; it never blocks.
func (a *Alertmanager) Notify(_ context.Context, in signal.Incident) error { return a.w.enqueue(in) }

// Close sends what is queued until ctx ends and stops.
func (a *Alertmanager) Close(ctx context.Context) error { return a.w.close(ctx) }

func (a *Alertmanager) handle(ctx context.Context, in signal.Incident) {
	if in.Status == signal.IncidentResolved {
		delete(a.open, in.ID)
	} else {
		if _, ok := a.open[in.ID]; !ok && len(a.open) >= maxOpen {
			var oldest int64 = -1
			for id := range a.open {
				if oldest < 0 || id < oldest {
					oldest = id
				}
			}
			delete(a.open, oldest)
		}
		a.open[in.ID] = in
	}
	_ = a.send(ctx, []signal.Incident{in})
}

func (a *Alertmanager) resend(ctx context.Context) {
	if len(a.open) == 0 {
		return
	}
	ins := make([]signal.Incident, 0, len(a.open))
	for _, in := range a.open {
		ins = append(ins, in)
	}
	_ = a.send(ctx, ins)
}

// Alert is an alert as Alertmanager's v2 API takes it.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func (a *Alertmanager) send(ctx context.Context, ins []signal.Incident) error {
	now := a.now()
	alerts := make([]Alert, len(ins))
	for i, in := range ins {
		alerts[i] = ToAlert(in, a.cfg.ExternalURL, now, 3*a.cfg.Resend)
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	return a.w.post(ctx, strings.TrimRight(a.cfg.URL, "/")+"/api/v2/alerts", body, nil)
}

// ToAlert is the alert for an incident at wall-clock time now: an open one
// ends at now+ttl unless re-sent, a resolved one ends now. The incident's
// own times may be simulated, so they only set startsAt when in the past.
func ToAlert(in signal.Incident, externalURL string, now time.Time, ttl time.Duration) Alert {
	top := in.Top()
	svc := top.Entity
	if svc == "" && len(in.Entities) > 0 {
		svc = in.Entities[0]
	}
	sev := in.Labels["severity"]
	if sev == "" {
		sev = "warning"
		if top.Score >= 0.7 {
			sev = "critical"
		}
	}
	link := Link(externalURL, in.ID)
	al := Alert{
		Labels: map[string]string{
			"alertname":   "SeerIncident",
			"service":     svc,
			"severity":    sev,
			"incident_id": fmt.Sprint(in.ID),
		},
		Annotations: map[string]string{
			"summary":      in.Title,
			"incident_url": link,
			"status":       string(in.Status),
		},
		StartsAt:     now,
		EndsAt:       now.Add(ttl),
		GeneratorURL: link,
	}
	if !in.Opened.IsZero() && in.Opened.Before(now) {
		al.StartsAt = in.Opened
	}
	if top.Entity != "" {
		rc := top.Entity
		if top.Kind != "" {
			rc += " (" + top.Kind + ")"
		}
		al.Annotations["root_cause"] = fmt.Sprintf("%s, score %.2f", rc, top.Score)
		al.Annotations["evidence"] = strings.Join(top.Evidence, "\n")
	}
	if in.Runbook != nil {
		al.Annotations["runbook"] = in.Runbook.Name
		if in.Runbook.Mode == signal.ModeUnavailable {
			al.Annotations["runbook"] += " (cannot run here: needs " + strings.Join(in.Runbook.Needs, ", ") + ")"
		}
	}
	if in.Status == signal.IncidentResolved {
		al.EndsAt = now
	}
	return al
}
