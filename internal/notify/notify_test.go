package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/seerops/seer/internal/signal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

var incident = signal.Incident{
	ID: 7, Status: signal.IncidentOpen, Title: "checkout latency up",
	Opened:   time.Unix(1_700_000_000, 0),
	Entities: []string{"checkout", "payment"},
	Causes: []signal.Cause{{Entity: "payment", Kind: "latency", Score: 0.9,
		Evidence: []string{"payment p99 850ms, expected 120ms", "checkout calls payment"}}},
}

func fast() Delivery {
	d := DefaultDelivery()
	d.Backoff = time.Millisecond
	return d
}

func TestWebhookRetriesAndDedupes(t *testing.T) {
	var calls atomic.Int32
	got := make(chan Payload, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			t.Errorf("missing header: %v", r.Header)
		}
		var p Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Error(err)
		}
		got <- p
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	cfg := DefaultWebhookConfig()
	cfg.URL, cfg.ExternalURL, cfg.Delivery = srv.URL, "http://seer.example:7070/", fast()
	cfg.Headers = map[string]string{"Authorization": "Bearer s3cret"}
	h, err := NewWebhook(cfg, quiet(), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for range 3 { // the same state thrice: sent once
		if err := h.Notify(ctx, incident); err != nil {
			t.Fatal(err)
		}
	}
	resolved := incident
	resolved.Status = signal.IncidentResolved
	if err := h.Notify(ctx, resolved); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	close(got)
	var ps []Payload
	for p := range got {
		ps = append(ps, p)
	}
	if len(ps) != 2 || ps[0].Status != signal.IncidentOpen || ps[1].Status != signal.IncidentResolved {
		t.Fatalf("payloads %+v; want open then resolved", ps)
	}
	if ps[0].URL != "http://seer.example:7070/#/incidents/7" || ps[0].RootCause == nil || ps[0].RootCause.Entity != "payment" {
		t.Errorf("payload %+v", ps[0])
	}
	if n := testutil.ToFloat64(h.w.m.sent.WithLabelValues("retried")); n != 2 {
		t.Errorf("retried %g; want 2", n)
	}
	if err := h.Notify(ctx, incident); !errors.Is(err, ErrClosed) {
		t.Errorf("Notify after Close: %v; want ErrClosed", err)
	}
}

func TestWebhookClientErrorNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "bad token", http.StatusUnauthorized)
	}))
	defer srv.Close()
	cfg := DefaultWebhookConfig()
	cfg.URL, cfg.Delivery = srv.URL, fast()
	h, err := NewWebhook(cfg, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = h.Notify(t.Context(), incident)
	if err := h.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || testutil.ToFloat64(h.w.m.sent.WithLabelValues("failed")) != 1 {
		t.Errorf("calls %d; want 1 and one failure", calls.Load())
	}
}

func TestQueueFullNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	cfg := DefaultWebhookConfig()
	cfg.URL, cfg.Delivery = srv.URL, fast()
	cfg.Delivery.QueueSize = 1
	h, err := NewWebhook(cfg, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var full int
	for i := range 10 {
		in := incident
		in.ID = int64(i)
		if errors.Is(h.Notify(t.Context(), in), ErrQueueFull) {
			full++
		}
	}
	if full < 8 {
		t.Errorf("%d of 10 dropped; want at least 8 with a queue of 1 and a stuck server", full)
	}
	close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAlertmanagerPostsAndResends(t *testing.T) {
	got := make(chan []Alert, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/alerts" {
			t.Errorf("path %s", r.URL.Path)
		}
		var as []Alert
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &as); err != nil {
			t.Error(err)
		}
		got <- as
	}))
	defer srv.Close()
	cfg := DefaultAlertmanagerConfig()
	cfg.URL, cfg.Delivery, cfg.Resend = srv.URL+"/", fast(), 20*time.Millisecond
	a, err := NewAlertmanager(cfg, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	if err := a.Notify(t.Context(), incident); err != nil {
		t.Fatal(err)
	}
	first, again := <-got, <-got // the post, then a re-send
	for _, as := range [][]Alert{first, again} {
		if len(as) != 1 || as[0].Labels["alertname"] != "SeerIncident" || as[0].Labels["service"] != "payment" ||
			as[0].Labels["severity"] != "critical" || !strings.Contains(as[0].Annotations["root_cause"], "payment (latency)") ||
			!strings.Contains(as[0].Annotations["evidence"], "850ms") || !as[0].EndsAt.After(time.Now()) {
			t.Fatalf("alerts %+v", as)
		}
	}
	resolved := incident
	resolved.Status = signal.IncidentResolved
	if err := a.Notify(t.Context(), resolved); err != nil {
		t.Fatal(err)
	}
	for as := range got {
		if as[0].Annotations["status"] == "resolved" {
			if as[0].EndsAt.After(time.Now()) {
				t.Errorf("resolved alert ends at %v, in the future", as[0].EndsAt)
			}
			break
		}
	}
}

func TestConfigValidate(t *testing.T) {
	f := func(err error, want ...string) {
		t.Helper()
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("error %v; want it to mention %q", err, w)
			}
		}
	}
	f(AlertmanagerConfig{Delivery: Delivery{QueueSize: 0, Timeout: 0}}.Validate(), "alertmanager.url", "resend", "timeout", "queue_size")
	f(WebhookConfig{URL: "ftp://x", Delivery: DefaultDelivery()}.Validate(), "webhook.url")
	if err := (WebhookConfig{URL: "http://x", Delivery: DefaultDelivery()}).Validate(); err != nil {
		t.Error(err)
	}
}

func BenchmarkToAlert(b *testing.B) {
	now := time.Unix(1_700_000_100, 0)
	b.ReportAllocs()
	for b.Loop() {
		_ = ToAlert(incident, "http://seer:7070", now, 3*time.Minute)
	}
}
