package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/ingest/alertmanager"
	"github.com/seerops/seer/internal/ingest/guard"
	"github.com/seerops/seer/internal/ingest/logfile"
	"github.com/seerops/seer/internal/ingest/otlp"
	"github.com/seerops/seer/internal/ingest/promrw"
	"github.com/seerops/seer/internal/notify"
)

// NotifyConfig says where incidents are sent: an Alertmanager (off while
// its URL is empty) and any number of JSON webhooks.
type NotifyConfig struct {
	Alertmanager notify.AlertmanagerConfig `yaml:"alertmanager"`
	Webhooks     []notify.WebhookConfig    `yaml:"webhooks"`
}

// Validate reports every problem with the outputs that are configured.
func (c NotifyConfig) Validate() error {
	var errs []error
	if c.Alertmanager.URL != "" {
		errs = append(errs, c.Alertmanager.Validate())
	}
	for i, w := range withWebhookDefaults(c.Webhooks) {
		if err := w.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("webhooks[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// withWebhookDefaults fills what a webhook entry in YAML left out.
func withWebhookDefaults(ws []notify.WebhookConfig) []notify.WebhookConfig {
	out := make([]notify.WebhookConfig, len(ws))
	d := notify.DefaultWebhookConfig()
	for i, w := range ws {
		if w.ExternalURL == "" {
			w.ExternalURL = d.ExternalURL
		}
		if w.Delivery == (notify.Delivery{}) {
			w.Delivery = d.Delivery
		}
		out[i] = w
	}
	return out
}

// ingest holds the receivers of standard telemetry and the outputs.
type ingest struct {
	otlp     *otlp.Receiver
	rw       *promrw.Receiver
	am       *alertmanager.Receiver
	tail     *logfile.Tailer // nil without files to tail
	notifier notify.Fanout
	closers  []func(context.Context) error
}

// setupIngest builds the receivers (the engine is their sink) and the
// notifiers, and mounts remote_write and the Alertmanager webhook on the API.
func (e *Engine) setupIngest(logger *slog.Logger) error {
	var err error
	in := &e.in
	if in.otlp, err = otlp.New(e.cfg.OTLP, e, logger, e.reg); err != nil {
		return fmt.Errorf("otlp: %w", err)
	}
	if in.rw, err = promrw.New(e.cfg.RemoteWrite, e, logger, e.reg); err != nil {
		return fmt.Errorf("remote_write: %w", err)
	}
	if in.am, err = alertmanager.New(e.cfg.Alertmanager, e, logger, e.reg); err != nil {
		return fmt.Errorf("alertmanager: %w", err)
	}
	if len(e.cfg.Tail.Files) > 0 {
		if in.tail, err = logfile.New(e.cfg.Tail, e, logger, e.reg); err != nil {
			return fmt.Errorf("tail: %w", err)
		}
	}
	if c := e.cfg.Notify.Alertmanager; c.URL != "" {
		n, err := notify.NewAlertmanager(c, logger, e.reg)
		if err != nil {
			return fmt.Errorf("notify.alertmanager: %w", err)
		}
		in.notifier = append(in.notifier, n)
		in.closers = append(in.closers, n.Close)
	}
	for i, c := range withWebhookDefaults(e.cfg.Notify.Webhooks) {
		n, err := notify.NewWebhook(c, logger, e.reg)
		if err != nil {
			return fmt.Errorf("notify.webhooks[%d]: %w", i, err)
		}
		in.notifier = append(in.notifier, n)
		in.closers = append(in.closers, n.Close)
	}
	return nil
}

// routes puts the receivers that share the API's port in front of it. They
// need a token granting ingest when authentication is on, and refuse a
// browser's cross-site request as the API does.
func (e *Engine) routes(apiHandler http.Handler, limits *guard.Guard) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/write", e.receiver(e.in.rw.Handler()))
	mux.Handle("POST /api/v1/alerts/alertmanager", e.receiver(e.in.am.Handler()))
	mux.Handle("/api/", limited(limits, apiHandler))
	mux.Handle("GET /api/v1/stream", apiHandler) // long-lived: the stream bounds its clients itself
	mux.Handle("/", apiHandler)
	return mux
}

// limited admits an API request through the guard's in-flight and
// per-client limits, answering 503 or 429 (JSON, with Retry-After) past
// them. The body is read before the slot is taken, as the receivers do
// (guard.Spool): a slow client holds no slot.
func limited(g *guard.Guard, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := g.AdmitSpooled(r)
		if err != nil {
			p := guard.AsProblem(err)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(p.Status)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": p.Msg, "reason": p.Reason})
			return
		}
		defer release()
		g.Accept()
		h.ServeHTTP(w, r)
	})
}

// receiver guards a receiver's handler: cross-site requests refused, then
// the ingest permission checked.
func (e *Engine) receiver(h http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(e.auth.Require(auth.Ingest, h))
}

// startIngest starts OTLP (gRPC and HTTP) and the log tailer; the returned
// function stops them.
func (e *Engine) startIngest(ctx context.Context) (stop func(context.Context) error, err error) {
	var stops []func(context.Context) error
	stopAll := func(sctx context.Context) error {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i](sctx))
		}
		return errors.Join(errs...)
	}
	if addr := e.cfg.OTLP.GRPCAddr; addr != "" {
		var opts []grpc.ServerOption
		if e.auth != nil {
			opts = append(opts, grpc.UnaryInterceptor(e.auth.UnaryInterceptor(auth.Ingest)))
		}
		if err := e.in.otlp.Start(ctx, addr, opts...); err != nil {
			return stopAll, fmt.Errorf("starting OTLP/gRPC on %s (set otlp.grpc_addr, or empty to turn it off): %w", addr, err)
		}
		stops = append(stops, e.in.otlp.Shutdown) // the receiver logs where it listens
	}
	if addr := e.cfg.OTLP.HTTPAddr; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return stopAll, fmt.Errorf("starting OTLP/HTTP on %s (set otlp.http_addr, or empty to turn it off): %w", addr, err)
		}
		srv := NewHTTPServer(e.receiver(e.in.otlp.Handler()))
		go serveHTTP(srv, ln, e.otlpTLS)
		stops = append(stops, srv.Shutdown)
		e.logger.Info("OTLP/HTTP listening", "addr", ln.Addr().String(), "tls", e.otlpTLS != nil)
	}
	if e.in.tail != nil {
		tctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := e.in.tail.Run(tctx); err != nil && tctx.Err() == nil {
				e.logger.Error("tailing log files stopped", "err", err)
			}
		})
		stops = append(stops, func(context.Context) error { cancel(); wg.Wait(); return e.in.tail.Close() })
	}
	return stopAll, nil
}

// closeOutputs flushes and stops the notifiers.
func (e *Engine) closeOutputs() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, c := range e.in.closers {
		errs = append(errs, c(ctx))
	}
	return errors.Join(errs...)
}
