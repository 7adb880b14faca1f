package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seerops/seer/internal/ingest/guard"
	"github.com/seerops/seer/internal/signal"
)

// Sink takes the signals a receiver decoded; (*engine.Engine).Ingest is one.
type Sink interface {
	Ingest(ctx context.Context, b *signal.Batch) error
}

// Config configures the webhook receiver.
type Config struct {
	// Path is where the lead mounts Handler; it answers on any path.
	Path   string       `yaml:"path"`
	Limits guard.Config `yaml:"limits"`
	// Heartbeats are the names of alerts that fire all the time to show
	// the alerting pipeline works (Watchdog): kept as history, never a
	// symptom. An alert of severity "none" is one too.
	Heartbeats []string `yaml:"heartbeats"`
	// HeartbeatAge makes a heartbeat of any alert that has fired without
	// a break since at least this long before seer started: whatever it
	// says, it is not the news of an incident now.
	HeartbeatAge time.Duration `yaml:"heartbeat_age"`
}

// DefaultConfig takes webhooks at /api/v1/alerts/alertmanager, 1 MiB each.
func DefaultConfig() Config {
	l := guard.DefaultConfig()
	l.MaxBodyBytes = 1 << 20
	l.RatePerSource, l.Burst = 100, 200
	return Config{Path: "/api/v1/alerts/alertmanager", Limits: l,
		Heartbeats: []string{"Watchdog", "DeadMansSwitch", "DeadMansSnitch", "InfoInhibitor"}, HeartbeatAge: time.Hour}
}

// AttrHeartbeat is set ("true") on the alarm events of heartbeat alerts.
const AttrHeartbeat = "heartbeat"

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	if len(c.Path) == 0 || c.Path[0] != '/' {
		errs = append(errs, fmt.Errorf("alertmanager.path must start with /, got %q", c.Path))
	}
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("alertmanager.limits: %w", err))
	}
	if c.HeartbeatAge < 0 {
		errs = append(errs, fmt.Errorf("alertmanager.heartbeat_age must be 0 (off) or positive, got %v", c.HeartbeatAge))
	}
	return errors.Join(errs...)
}

// Message is Alertmanager's webhook payload (version 4).
type Message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a webhook message.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Receiver turns webhook messages into alarm events. It is safe for
// concurrent use.
type Receiver struct {
	cfg   Config
	sink  Sink
	log   *slog.Logger
	guard *guard.Guard
	now   func() time.Time
	// started is when the receiver was built: alerts firing since well
	// before it are heartbeats (Config.HeartbeatAge).
	started time.Time
}

// New builds a receiver; its counters are registered with reg (may be nil).
func New(cfg Config, sink Sink, logger *slog.Logger, reg prometheus.Registerer) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g, err := guard.New("alertmanager", cfg.Limits, reg)
	if err != nil {
		return nil, err
	}
	return &Receiver{cfg: cfg, sink: sink, log: logger.With("component", "ingest.alertmanager"), guard: g, now: time.Now,
		started: time.Now()}, nil
}

// Handler serves the webhook on any path: POST, JSON; 200 on success.
func (r *Receiver) Handler() http.Handler { return http.HandlerFunc(r.serveHTTP) }

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		guard.WriteText(w, guard.Errorf(http.StatusMethodNotAllowed, "method", "the Alertmanager webhook takes POST, not %s", req.Method))
		return
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		p := guard.Errorf(http.StatusUnsupportedMediaType, "content_type",
			"Content-Type %q is not JSON; Alertmanager's webhook sends application/json", req.Header.Get("Content-Type"))
		r.guard.Reject(p)
		guard.WriteText(w, p)
		return
	}
	r.guard.Serve(w, req, func() error {
		if err := r.receive(req); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	})
}

func (r *Receiver) receive(req *http.Request) error {
	body, err := r.guard.Read(req, false)
	if err != nil {
		return err
	}
	defer body.Release()
	evs, err := Decode(body.Bytes, r.now())
	if err != nil {
		return err
	}
	for i := range evs {
		if r.heartbeat(&evs[i]) {
			evs[i].Attrs[AttrHeartbeat] = "true"
		}
	}
	if len(evs) > 0 {
		sctx, cancel := r.guard.SinkContext(req.Context())
		err := r.sink.Ingest(sctx, &signal.Batch{Events: evs})
		cancel()
		if err != nil {
			return r.guard.SinkFailed(err, len(evs))
		}
	}
	r.guard.Received("events", len(evs))
	r.guard.Accept()
	return nil
}

// Decode parses a webhook message into one alarm event per alert; now
// stamps alerts without a time. The error is a *guard.Problem (400) that
// names what is wrong.
func Decode(body []byte, now time.Time) ([]signal.Event, error) {
	var m Message
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, guard.Malformed("the body is not an Alertmanager webhook message: invalid JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return nil, guard.Malformed("the body is not an Alertmanager webhook message: field %q should be %s, got %s", te.Field, te.Type, te.Value)
		default:
			return nil, guard.Malformed("the body is not an Alertmanager webhook message: %v", err)
		}
	}
	if m.Alerts == nil {
		return nil, guard.Malformed(`the message has no "alerts" array; is this an Alertmanager webhook?`)
	}
	evs := make([]signal.Event, 0, len(m.Alerts))
	for i, a := range m.Alerts {
		status := a.Status
		if status == "" {
			status = m.Status
		}
		if status != "firing" && status != "resolved" {
			return nil, guard.Malformed("alert %d: status %q is neither firing nor resolved", i, status)
		}
		ev := signal.Event{
			Time:   a.StartsAt,
			Entity: entity(a.Labels),
			Kind:   signal.EventAlarm,
			Source: "alertmanager",
			Attrs:  make(map[string]string, len(a.Labels)+len(a.Annotations)+3),
		}
		if status == "resolved" && !a.EndsAt.IsZero() {
			ev.Time = a.EndsAt
		}
		if ev.Time.IsZero() {
			ev.Time = now
		}
		for k, v := range a.Labels {
			ev.Attrs[k] = v
		}
		for k, v := range a.Annotations {
			ev.Attrs["annotation."+k] = v
		}
		ev.Attrs["status"] = status
		if a.Fingerprint != "" {
			ev.Attrs["fingerprint"] = a.Fingerprint
		}
		if a.GeneratorURL != "" {
			ev.Attrs["generator_url"] = a.GeneratorURL
		}
		ev.Text = text(a, status)
		evs = append(evs, ev)
	}
	return evs, nil
}

// heartbeat tells whether a firing alarm is a heartbeat: named one, of
// severity none, or firing since HeartbeatAge before the receiver started.
func (r *Receiver) heartbeat(ev *signal.Event) bool {
	if ev.Attrs["status"] != "firing" {
		return false
	}
	if slices.Contains(r.cfg.Heartbeats, ev.Attrs["alertname"]) || ev.Attrs["severity"] == "none" {
		return true
	}
	return r.cfg.HeartbeatAge > 0 && ev.Time.Before(r.started.Add(-r.cfg.HeartbeatAge))
}

// entity picks the alert's entity from its labels as remote_write picks a
// series' (service, job, instance): the first that is a valid entity name
// (signal.CheckEntity). An alert with none of them is about "unknown", not
// about an entity named after the alert.
func entity(labels map[string]string) string {
	for _, k := range []string{"service", "job", "instance"} {
		if v := labels[k]; v != "" && signal.CheckEntity(v) == nil {
			return v
		}
	}
	return "unknown"
}

// text is one line for an operator: name, status and what it says.
func text(a Alert, status string) string {
	s := a.Labels["alertname"]
	if s == "" {
		s = "alert"
	}
	s += " " + status
	for _, k := range []string{"summary", "description", "message"} {
		if v := a.Annotations[k]; v != "" {
			return s + ": " + v
		}
	}
	return s
}
