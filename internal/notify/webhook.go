package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"

	"github.com/seerops/seer/internal/signal"
)

// WebhookConfig configures a generic JSON webhook.
type WebhookConfig struct {
	URL string `yaml:"url"`
	// ExternalURL is seer's own base URL, for the link to the incident.
	ExternalURL string `yaml:"external_url"`
	// Headers are added to every request. An Authorization header here
	// and credentials in the client configuration are not both allowed.
	Headers  map[string]string `yaml:"headers"`
	Delivery Delivery          `yaml:"delivery"`
	// HTTPClientConfig is Prometheus' HTTP client configuration, its keys
	// written beside url: tls_config, authorization, basic_auth, oauth2,
	// bearer_token_file, proxy_url, follow_redirects, http_headers…
	HTTPClientConfig config.HTTPClientConfig `yaml:",inline"`
}

// DefaultWebhookConfig has the default delivery and HTTP client; URL must
// be set.
func DefaultWebhookConfig() WebhookConfig {
	return WebhookConfig{ExternalURL: "http://127.0.0.1:7070", Delivery: DefaultDelivery(),
		HTTPClientConfig: defaultHTTPClientConfig()}
}

// UnmarshalYAML reads a webhook over the defaults, so that an entry of a
// list leaves out what it does not change.
func (c *WebhookConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultWebhookConfig()
	type plain WebhookConfig
	return unmarshal((*plain)(c))
}

// Validate reports every problem in c.
func (c WebhookConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("webhook.url %q must be an http(s) URL", c.URL))
	}
	if err := c.Delivery.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("webhook.delivery: %w", err))
	}
	if err := validateClient(c.HTTPClientConfig, c.Headers); err != nil {
		errs = append(errs, fmt.Errorf("webhook: %w", err))
	}
	return errors.Join(errs...)
}

// Payload is the JSON a webhook receives.
type Payload struct {
	// Version is the payload's format, "1".
	Version string `json:"version"`
	// Status is the incident's status: open, mitigating or resolved.
	Status    signal.IncidentStatus `json:"status"`
	URL       string                `json:"url"`
	RootCause *signal.Cause         `json:"root_cause,omitempty"`
	Incident  signal.Incident       `json:"incident"`
}

// Webhook posts incidents as JSON whenever their status or top cause
// changes.
type Webhook struct {
	cfg    WebhookConfig
	w      *worker
	header http.Header
	// last is each incident's last sent state; the worker alone uses it.
	last map[int64]string
}

// NewWebhook starts the notifier; Close stops it.
func NewWebhook(cfg WebhookConfig, logger *slog.Logger, reg prometheus.Registerer) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Webhook{cfg: cfg, header: http.Header{}, last: make(map[int64]string)}
	for k, v := range cfg.Headers {
		h.header.Set(k, v)
	}
	var err error
	if h.w, err = newWorker("webhook", cfg.Delivery, cfg.HTTPClientConfig, logger, reg); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	h.w.handle = h.handle
	h.w.start()
	return h, nil
}

// Notify queues the incident; it never blocks.
func (h *Webhook) Notify(_ context.Context, in signal.Incident) error { return h.w.enqueue(in) }

// Close sends what is queued until ctx ends and stops.
func (h *Webhook) Close(ctx context.Context) error { return h.w.close(ctx) }

func (h *Webhook) handle(ctx context.Context, in signal.Incident) {
	top := in.Top()
	state := fmt.Sprintf("%s|%s|%s", in.Status, top.Entity, top.Kind)
	if h.last[in.ID] == state {
		return
	}
	if in.Status == signal.IncidentResolved {
		delete(h.last, in.ID)
	} else if len(h.last) < maxOpen {
		h.last[in.ID] = state
	}
	p := Payload{Version: "1", Status: in.Status, URL: Link(h.cfg.ExternalURL, in.ID), Incident: in}
	if len(in.Causes) > 0 {
		p.RootCause = &top
	}
	body, err := json.Marshal(p)
	if err != nil {
		h.w.log.Error("encoding the webhook payload", "err", err)
		return
	}
	_ = h.w.post(ctx, h.cfg.URL, body, h.header)
}
