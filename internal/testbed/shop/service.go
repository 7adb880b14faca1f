package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Options is one service process.
type Options struct {
	// Name is the service, one of Specs.
	Name string
	// Listen is the address it serves on.
	Listen string
	// Dir is the service's own directory: config.json, data/ and
	// NAME.log.
	Dir string
	// OTLP is the OTLP/HTTP receiver's host:port; empty exports nothing.
	OTLP string
	// Export is how often spans and logs are sent (metrics every 10 s).
	Export time.Duration
	// Peers maps each service it calls to the address it reaches it at
	// (the testbed's proxy in front of it).
	Peers map[string]string
	// Build is BuildGood or BuildFaulty.
	Build string
	// MemQuota and DiskQuota are the service's memory limit (its resident
	// set; beyond it the process dies as by the OOM killer) and the size
	// of its data directory beyond which writes fail.
	MemQuota, DiskQuota int64
}

// service is the running process.
type service struct {
	opt    Options
	spec   Spec
	tel    *telemetry
	logf   func(level, format string, args ...any)
	client *http.Client
	prop   propagation.TextMapPropagator

	cfg   atomic.Pointer[Config]
	slots chan struct{} // the in-flight limit of the current config
	slotM sync.Mutex

	faults faults
	store  *store // db only
	cache  *cache // cache only
	queue  *queue // queue only
}

// Serve runs the service until ctx ends.
func Serve(ctx context.Context, opt Options) error {
	spec, ok := Lookup(opt.Name)
	if !ok {
		return fmt.Errorf("no service %q in the shop", opt.Name)
	}
	if opt.Export <= 0 {
		opt.Export = time.Second
	}
	if err := os.MkdirAll(filepath.Join(opt.Dir, "data"), 0o755); err != nil {
		return fmt.Errorf("making the data directory: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(opt.Dir, opt.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the log file: %w", err)
	}
	defer lf.Close()
	var lmu sync.Mutex
	s := &service{opt: opt, spec: spec, prop: propagation.TraceContext{}}
	s.logf = func(level, format string, args ...any) {
		lmu.Lock()
		fmt.Fprintf(lf, "%s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), level, fmt.Sprintf(format, args...))
		lmu.Unlock()
	}
	s.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second}}
	s.faults.svc = s
	if err := s.reload(); err != nil {
		return err
	}
	s.tel, err = newTelemetry(ctx, opt.Name, Version(opt.Build), opt.OTLP, opt.Export)
	if err != nil {
		return fmt.Errorf("starting telemetry: %w", err)
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		s.tel.close(c)
	}()
	mux := http.NewServeMux()
	switch opt.Name {
	case "db":
		if s.store, err = openStore(filepath.Join(opt.Dir, "data", "shop.db")); err != nil {
			return err
		}
		defer s.store.close()
	case "cache":
		s.cache = newCache()
	case "queue":
		if s.queue, err = openQueue(filepath.Join(opt.Dir, "data", "journal")); err != nil {
			return err
		}
		defer s.queue.close()
	}
	s.routes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("GET /metrics", s.metricsHandler())
	s.faults.routes(mux)

	ln, err := net.Listen("tcp", opt.Listen)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.logf("INFO", "%s %s started on %s (build %s, pid %d)", opt.Name, Version(opt.Build), ln.Addr(), opt.Build, os.Getpid())
	if opt.Name == "shipping" {
		go s.ship(ctx)
	}
	go s.faults.watchMemory(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	s.logf("INFO", "%s stopping", opt.Name)
	c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	srv.Shutdown(c)
	s.faults.stopAll()
	return nil
}

// reload reads config.json (the default when there is none).
func (s *service) reload() error {
	cfg := DefaultConfig()
	b, err := os.ReadFile(filepath.Join(s.opt.Dir, "config.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading the config: %w", err)
	default:
		if err := json.Unmarshal(b, &cfg); err != nil {
			return fmt.Errorf("config.json: %w", err)
		}
	}
	if cfg.MaxInFlight < 1 || cfg.QueueTimeoutMS < 1 || cfg.TimeoutMS < 1 {
		return fmt.Errorf("config.json: max_in_flight, queue_timeout_ms and timeout_ms must be positive, got %+v", cfg)
	}
	s.slotM.Lock()
	s.slots = make(chan struct{}, cfg.MaxInFlight)
	s.slotM.Unlock()
	s.cfg.Store(&cfg)
	s.logf("INFO", "config loaded: max_in_flight=%d queue_timeout_ms=%d timeout_ms=%d", cfg.MaxInFlight, cfg.QueueTimeoutMS, cfg.TimeoutMS)
	return nil
}

// httpError is a handler's failure with the status to answer.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// handler is one route's work; it returns the body to answer.
type handler func(ctx context.Context, r *http.Request) ([]byte, error)

// handle wraps a route in what every request goes through: the in-flight
// limit, the server span, the duration metric, the request log, the
// faulty build's failures and the slowdown fault.
func (s *service) handle(mux *http.ServeMux, pattern string, h handler) {
	route := strings.Replace(pattern, "{$}", "", 1) // the span's name and http.route
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := s.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := s.tel.tracer.Start(ctx, route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.route", route), attribute.String("http.request.method", r.Method)))
		body, err := s.serve(ctx, r, h)
		status := http.StatusOK
		if err != nil {
			status = http.StatusInternalServerError
			var he *httpError
			if errors.As(err, &he) {
				status = he.status
			}
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, err.Error())
			s.tel.log(ctx, otellog.SeverityError, fmt.Sprintf("%s failed: %v", route, err), attribute.Int("status", status))
		}
		span.End()
		s.tel.duration.Record(ctx, time.Since(start).Seconds())
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

func (s *service) serve(ctx context.Context, r *http.Request, h handler) ([]byte, error) {
	cfg := s.cfg.Load()
	s.slotM.Lock()
	slots := s.slots
	s.slotM.Unlock()
	wait := time.NewTimer(time.Duration(cfg.QueueTimeoutMS) * time.Millisecond)
	select {
	case slots <- struct{}{}:
		wait.Stop()
	case <-wait.C:
		return nil, fail(http.StatusServiceUnavailable, "rejected: %d requests in flight (max_in_flight %d)", len(slots), cfg.MaxInFlight)
	case <-ctx.Done():
		wait.Stop()
		return nil, fail(http.StatusServiceUnavailable, "client gone while waiting for a slot")
	}
	defer func() { <-slots }()
	if d := s.faults.delay(); d > 0 {
		time.Sleep(d)
	}
	if s.opt.Build == BuildFaulty && rand.Float64() < 0.3 {
		return nil, fail(http.StatusInternalServerError, "panic recovered: runtime error: index out of range [3] with length 3 (v%s)", Version(s.opt.Build))
	}
	return h(ctx, r)
}

// call makes a request to a peer through its address, as a client span.
func (s *service) call(ctx context.Context, peer, method, path, route string, body []byte) ([]byte, int, error) {
	addr, ok := s.opt.Peers[peer]
	if !ok {
		return nil, 0, fmt.Errorf("no address for %s", peer)
	}
	ctx, span := s.tel.tracer.Start(ctx, method+" "+peer+route, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("peer.service", peer), attribute.String("http.request.method", method),
			attribute.String("server.address", addr)))
	defer span.End()
	cfg := s.cfg.Load()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.TimeoutMS)*time.Millisecond)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, rd)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	s.prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := s.client.Do(req)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(attribute.String("error.type", errorType(err)))
		return nil, 0, fmt.Errorf("calling %s: %w", peer, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return nil, resp.StatusCode, fmt.Errorf("reading %s's answer: %w", peer, err)
	}
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, resp.Status)
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(resp.StatusCode)))
		return out, resp.StatusCode, fmt.Errorf("%s answered %s", peer, resp.Status)
	}
	return out, resp.StatusCode, nil
}

func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_closed"
	}
	return "transport"
}

// upstream turns a peer's failure into this service's answer: 502 for a
// failed dependency (its callers then see where it began), the peer's own
// 4xx passed on.
func upstream(status int, err error) error {
	if status >= 400 && status < 500 {
		return fail(status, "%v", err)
	}
	return fail(http.StatusBadGateway, "%v", err)
}
