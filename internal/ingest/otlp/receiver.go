package otlp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP exporters may gzip their requests.
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/seerops/seer/internal/ingest/delta"
	"github.com/seerops/seer/internal/ingest/guard"
	"github.com/seerops/seer/internal/servertls"
	"github.com/seerops/seer/internal/signal"
)

// Sink takes the signals a receiver decoded; (*engine.Engine).Ingest is one.
type Sink interface {
	Ingest(ctx context.Context, b *signal.Batch) error
}

// Config configures the OTLP receiver.
type Config struct {
	// GRPCAddr is where OTLP/gRPC listens; empty turns it off.
	GRPCAddr string `yaml:"grpc_addr"`
	// HTTPAddr is where OTLP/HTTP is meant to listen; the caller serves
	// Handler there. Empty turns it off.
	HTTPAddr string `yaml:"http_addr"`
	// MaxDepth is how deeply the messages of a request may nest (a JSON
	// request's objects and arrays twice as deep). It is checked before the
	// request is decoded: the decoder recurses once per level, and attribute
	// values nested without bound would exhaust its stack.
	MaxDepth int          `yaml:"max_depth"`
	Limits   guard.Config `yaml:"limits"`
	Series   delta.Config `yaml:"series"`
	// TLS, when it names a certificate, is served on both listeners.
	TLS servertls.Config `yaml:"tls"`
}

// DefaultConfig listens on the standard OTLP ports of loopback and lets
// messages nest 64 levels deep (attribute values nested some 18 levels).
func DefaultConfig() Config {
	return Config{GRPCAddr: "127.0.0.1:4317", HTTPAddr: "127.0.0.1:4318", MaxDepth: 64,
		Limits: guard.DefaultConfig(), Series: delta.DefaultConfig()}
}

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	for _, a := range []struct{ key, addr string }{{"grpc_addr", c.GRPCAddr}, {"http_addr", c.HTTPAddr}} {
		if a.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("otlp.%s %q is not host:port: %w", a.key, a.addr, err))
		}
	}
	if c.MaxDepth < 16 || c.MaxDepth > 1024 {
		errs = append(errs, fmt.Errorf("otlp.max_depth must be between 16 and 1024, got %d", c.MaxDepth))
	}
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("otlp.limits: %w", err))
	}
	if err := c.Series.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("otlp.series: %w", err))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("otlp.tls: %w", err))
	}
	return errors.Join(errs...)
}

// Receiver decodes OTLP requests and hands them to its sink. It is safe
// for concurrent use.
type Receiver struct {
	cfg   Config
	sink  Sink
	log   *slog.Logger
	guard *guard.Guard
	conv  converter
	now   func() time.Time
	tls   *tls.Config // nil: gRPC in plain text

	mu   sync.Mutex
	srv  *grpc.Server
	addr net.Addr
	done chan struct{}
}

// New builds a receiver; its counters are registered with reg (may be nil).
func New(cfg Config, sink Sink, logger *slog.Logger, reg prometheus.Registerer) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g, err := guard.New("otlp", cfg.Limits, reg)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := cfg.TLS.Build()
	if err != nil {
		return nil, fmt.Errorf("otlp.tls: %w", err)
	}
	return &Receiver{cfg: cfg, sink: sink, log: logger.With("component", "ingest.otlp"), guard: g,
		conv: converter{series: delta.New(cfg.Series)}, now: time.Now, tls: tlsCfg}, nil
}

// signalKind is one of the three OTLP services.
type signalKind int

const (
	kindMetrics signalKind = iota
	kindLogs
	kindTraces
)

// Handler serves OTLP/HTTP at /v1/metrics, /v1/logs and /v1/traces.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/metrics", func(w http.ResponseWriter, req *http.Request) { r.serveHTTP(w, req, kindMetrics) })
	mux.HandleFunc("/v1/logs", func(w http.ResponseWriter, req *http.Request) { r.serveHTTP(w, req, kindLogs) })
	mux.HandleFunc("/v1/traces", func(w http.ResponseWriter, req *http.Request) { r.serveHTTP(w, req, kindTraces) })
	return mux
}

const (
	ctProto = "application/x-protobuf"
	ctJSON  = "application/json"
)

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request, kind signalKind) {
	ct := ctProto
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err == nil && mt == ctJSON {
		ct = ctJSON
	} else if err != nil || mt != ctProto {
		r.fail(w, ct, guard.Errorf(http.StatusUnsupportedMediaType, "content_type",
			"Content-Type %q is not OTLP; send %s or %s", req.Header.Get("Content-Type"), ctProto, ctJSON))
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		r.fail(w, ct, guard.Errorf(http.StatusMethodNotAllowed, "method", "OTLP/HTTP takes POST, not %s", req.Method))
		return
	}
	release, err := r.guard.AdmitSpooled(req)
	if err != nil {
		r.fail(w, ct, err) // already counted
		return
	}
	defer release()
	body, err := r.guard.Read(req, false)
	if err != nil {
		r.reject(w, ct, err)
		return
	}
	resp, err := r.export(req.Context(), kind, body.Bytes, ct == ctJSON, body.Held())
	body.Release()
	if err != nil {
		r.reject(w, ct, err)
		return
	}
	var out []byte
	if ct == ctJSON {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	if err != nil {
		r.reject(w, ct, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(out)
}

// response is the part of the three export responses the handler needs.
type response interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// decodeFactor is how many times its encoded size a request of a kind
// takes in memory while it is decoded and converted: pdata's objects and
// seer's batch, both live until the batch is queued. Measured on the
// benchmark's requests (bench_test.go): 50,000 points of one attribute in
// 1.8 MB of protobuf, pdata 5.9× and the batch 6.9×; 50,000 log records in
// 3.1 MB, 3.0× and 2.3×. Spans, which carry attributes as points do, are
// given the metrics' factor, and JSON, larger for what it holds, half;
// neither is measured.
func decodeFactor(kind signalKind, json bool) int64 {
	f := int64(13)
	if kind == kindLogs {
		f = 6
	}
	if json {
		f /= 2
	}
	return f
}

// export checks the nesting of one request, decodes it and delivers it,
// holding what decoding it takes against the memory limit (a 429 when
// that is above the soft limit). counted is the bytes of data the memory
// limit counts already (an HTTP body); the rest is held with the decoding.
func (r *Receiver) export(ctx context.Context, kind signalKind, data []byte, json bool, counted int64) (response, error) {
	if err := checkDepth(data, kind, json, r.cfg.MaxDepth); err != nil {
		return nil, err
	}
	n := int64(len(data))
	release, err := r.guard.Reserve(n*decodeFactor(kind, json)+max(n-counted, 0), counted)
	if err != nil {
		return nil, err
	}
	defer release()
	switch kind {
	case kindMetrics:
		req := pmetricotlp.NewExportRequest()
		if err := unmarshal(req, data, json); err != nil {
			return nil, guard.Malformed("the body is not an OTLP metrics export request: %v", err)
		}
		return r.metrics(ctx, req)
	case kindLogs:
		req := plogotlp.NewExportRequest()
		if err := unmarshal(req, data, json); err != nil {
			return nil, guard.Malformed("the body is not an OTLP logs export request: %v", err)
		}
		return r.logs(ctx, req)
	default:
		req := ptraceotlp.NewExportRequest()
		if err := unmarshal(req, data, json); err != nil {
			return nil, guard.Malformed("the body is not an OTLP traces export request: %v", err)
		}
		return r.traces(ctx, req)
	}
}

func (r *Receiver) metrics(ctx context.Context, req pmetricotlp.ExportRequest) (response, error) {
	var b signal.Batch
	var n counts
	b.Samples, n = r.conv.metrics(req.Metrics(), r.now(), make([]signal.Sample, 0, req.Metrics().DataPointCount()))
	return r.deliver(ctx, kindMetrics, &b, n, "samples")
}

func (r *Receiver) logs(ctx context.Context, req plogotlp.ExportRequest) (response, error) {
	var b signal.Batch
	var n counts
	b.Logs, n = r.conv.logs(req.Logs(), r.now(), make([]signal.LogRecord, 0, req.Logs().LogRecordCount()))
	return r.deliver(ctx, kindLogs, &b, n, "logs")
}

func (r *Receiver) traces(ctx context.Context, req ptraceotlp.ExportRequest) (response, error) {
	var b signal.Batch
	var n counts
	b.Spans, n = r.conv.traces(req.Traces(), make([]signal.Span, 0, req.Traces().SpanCount()))
	return r.deliver(ctx, kindTraces, &b, n, "spans")
}

// deliver hands a converted batch to the sink and counts the outcome,
// except for the guard's own errors.
func (r *Receiver) deliver(ctx context.Context, kind signalKind, b *signal.Batch, n counts, what string) (response, error) {
	r.guard.Dropped(n.reason, n.dropped)
	if b.Len() > 0 {
		sctx, cancel := r.guard.SinkContext(ctx)
		err := r.sink.Ingest(sctx, b)
		cancel()
		if err != nil {
			return nil, r.guard.SinkFailed(err, b.Len())
		}
	}
	r.guard.Received(what, n.items)
	r.guard.Accept()
	return partial(kind, n), nil
}

type unmarshaler interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

func unmarshal(u unmarshaler, data []byte, json bool) error {
	if json {
		return u.UnmarshalJSON(data)
	}
	return u.UnmarshalProto(data)
}

// partial is the export response, telling the client what was skipped.
func partial(kind signalKind, n counts) response {
	msg := ""
	if n.dropped > 0 {
		msg = fmt.Sprintf("%d items skipped (first reason: %s)", n.dropped, n.reason)
		if n.detail != "" {
			msg = fmt.Sprintf("%d items skipped (first reason: %s: %s)", n.dropped, n.reason, n.detail)
		}
	}
	switch kind {
	case kindMetrics:
		resp := pmetricotlp.NewExportResponse()
		if n.dropped > 0 {
			resp.PartialSuccess().SetRejectedDataPoints(int64(n.dropped))
			resp.PartialSuccess().SetErrorMessage(msg)
		}
		return resp
	case kindLogs:
		resp := plogotlp.NewExportResponse()
		if n.dropped > 0 {
			resp.PartialSuccess().SetRejectedLogRecords(int64(n.dropped))
			resp.PartialSuccess().SetErrorMessage(msg)
		}
		return resp
	default:
		resp := ptraceotlp.NewExportResponse()
		if n.dropped > 0 {
			resp.PartialSuccess().SetRejectedSpans(int64(n.dropped))
			resp.PartialSuccess().SetErrorMessage(msg)
		}
		return resp
	}
}

// reject counts err and answers it.
func (r *Receiver) reject(w http.ResponseWriter, ct string, err error) {
	r.guard.Reject(guard.AsProblem(err))
	r.fail(w, ct, err)
}

// fail answers err as OTLP/HTTP wants: a google.rpc.Status in the request's
// encoding.
func (r *Receiver) fail(w http.ResponseWriter, ct string, err error) {
	p := guard.AsProblem(err)
	if p.Status >= 500 && p.Reason == "internal" {
		r.log.Error("otlp request failed", "err", err)
	}
	st := status.New(grpcCode(p.Status), p.Msg).Proto()
	var out []byte
	if ct == ctJSON {
		out, _ = protojson.Marshal(st)
	} else {
		out, _ = proto.Marshal(st)
	}
	w.Header().Set("Content-Type", ct)
	if p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(p.Status)
	_, _ = w.Write(out)
}

func grpcCode(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusUnsupportedMediaType, http.StatusMethodNotAllowed:
		return codes.Unimplemented
	default:
		return codes.Internal
	}
}

// Start serves OTLP/gRPC on addr (":0" picks a free port; see Addr) until
// Shutdown, over TLS when the configuration names a certificate. opts add
// to the server's options (an authenticating interceptor, say); a unary
// interceptor runs before the request is read.
func (r *Receiver) Start(ctx context.Context, addr string, opts ...grpc.ServerOption) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		return errors.New("otlp: gRPC server already started")
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening for OTLP/gRPC on %s (set otlp.grpc_addr to a free address): %w", addr, err)
	}
	if r.tls != nil {
		opts = append([]grpc.ServerOption{grpc.Creds(credentials.NewTLS(r.tls))}, opts...)
	}
	srv := r.newGRPCServer(opts...)
	r.srv, r.addr, r.done = srv, ln.Addr(), make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil {
			r.log.Error("OTLP/gRPC server stopped", "err", err)
		}
	}(r.done)
	r.log.Info("serving OTLP/gRPC", "addr", ln.Addr().String(), "tls", r.tls != nil)
	return nil
}

// Addr is the gRPC server's address once started, else nil.
func (r *Receiver) Addr() net.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Shutdown stops the gRPC server, letting requests in flight finish until
// ctx ends.
func (r *Receiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	srv, done := r.srv, r.done
	r.srv = nil
	r.mu.Unlock()
	if srv == nil {
		return nil
	}
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
		srv.Stop()
		<-stopped
	}
	<-done
	return nil
}
