package otlp

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/seerops/seer/internal/signal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a sink that keeps what it is given.
type recorder struct {
	mu sync.Mutex
	b  signal.Batch
}

func (r *recorder) Ingest(_ context.Context, b *signal.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.b.Samples = append(r.b.Samples, b.Samples...)
	r.b.Logs = append(r.b.Logs, b.Logs...)
	r.b.Spans = append(r.b.Spans, b.Spans...)
	return nil
}

func (r *recorder) batch() signal.Batch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// start runs a receiver with gRPC on a free port and HTTP on an httptest
// server; both stop at the end of the test.
func start(t *testing.T, cfg Config) (*Receiver, *recorder, string, string) {
	t.Helper()
	rec := &recorder{}
	r, err := New(cfg, rec, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := r.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r, rec, r.Addr().String(), strings.TrimPrefix(srv.URL, "http://")
}

var shop = resource.NewSchemaless(
	attribute.String("service.name", "checkout"),
	attribute.String("service.instance.id", "checkout-1"),
)

func TestSDKTraces(t *testing.T) {
	_, rec, grpcAddr, httpAddr := start(t, DefaultConfig())
	ctx := t.Context()
	exporters := map[string]func() (sdktrace.SpanExporter, error){
		"grpc": func() (sdktrace.SpanExporter, error) {
			return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(grpcAddr), otlptracegrpc.WithInsecure(),
				otlptracegrpc.WithCompressor("gzip"))
		},
		"http": func() (sdktrace.SpanExporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(httpAddr), otlptracehttp.WithInsecure(),
				otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		},
	}
	for _, via := range []string{"grpc", "http"} {
		exp, err := exporters[via]()
		if err != nil {
			t.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(shop))
		tr := tp.Tracer("test")
		sctx, parent := tr.Start(ctx, "POST /checkout", trace.WithSpanKind(trace.SpanKindServer))
		_, child := tr.Start(sctx, "charge", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("peer.service", "payment"), attribute.String("error.type", "timeout")))
		child.SetStatus(codes.Error, "deadline exceeded")
		child.End()
		parent.End()
		if err := tp.Shutdown(ctx); err != nil {
			t.Fatalf("%s: %v", via, err)
		}
		spans := rec.batch().Spans
		if len(spans) != 2 {
			t.Fatalf("%s: got %d spans, want 2", via, len(spans))
		}
		c, p := spans[0], spans[1]
		if c.Operation != "charge" || c.Service != "checkout" || c.Kind != signal.SpanClient || c.Status != signal.StatusError ||
			c.Attrs[signal.AttrPeerService] != "payment" || c.Attrs[signal.AttrErrorType] != "timeout" || c.Attrs["instance"] != "checkout-1" {
			t.Errorf("%s: child span %+v", via, c)
		}
		if p.Kind != signal.SpanServer || p.Status != signal.StatusOK || c.ParentID != p.SpanID || c.TraceID != p.TraceID ||
			len(p.TraceID) != 32 || len(p.SpanID) != 16 || p.ParentID != "" || p.Duration <= 0 {
			t.Errorf("%s: parent span %+v, child %+v", via, p, c)
		}
		rec.mu.Lock()
		rec.b = signal.Batch{}
		rec.mu.Unlock()
	}
}

func find(ss []signal.Sample, name string) []signal.Sample {
	var out []signal.Sample
	for _, s := range ss {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func TestSDKMetrics(t *testing.T) {
	_, rec, grpcAddr, httpAddr := start(t, DefaultConfig())
	ctx := t.Context()
	exporters := map[string]func() (sdkmetric.Exporter, error){
		"grpc": func() (sdkmetric.Exporter, error) {
			return otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(grpcAddr), otlpmetricgrpc.WithInsecure())
		},
		"http": func() (sdkmetric.Exporter, error) {
			return otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(httpAddr), otlpmetrichttp.WithInsecure(),
				otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
		},
	}
	for _, via := range []string{"grpc", "http"} {
		exp, err := exporters[via]()
		if err != nil {
			t.Fatal(err)
		}
		// Each exporter is its own instance: a new cumulative series.
		res := resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("service.instance.id", via))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
		m := mp.Meter("test")
		reqs, _ := m.Int64Counter("requests_total")
		lat, _ := m.Float64Histogram("latency_ms", metric.WithExplicitBucketBoundaries(10, 20, 50, 100))
		_, _ = m.Float64ObservableGauge("cpu_utilization", metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error {
			o.Observe(0.42)
			return nil
		}))
		code := metric.WithAttributes(attribute.String("code", "200"))
		reqs.Add(ctx, 5, code)
		lat.Record(ctx, 5)
		if err := mp.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
		reqs.Add(ctx, 100, code)
		for range 100 {
			lat.Record(ctx, 15)
		}
		if err := mp.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := mp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		ss := rec.batch().Samples
		if g := find(ss, "cpu_utilization"); len(g) == 0 || g[0].Value != 0.42 || g[0].Entity != "checkout" || g[0].Labels["instance"] != via {
			t.Errorf("%s: gauge %+v", via, g)
		}
		if r := find(ss, "requests_rate"); len(r) == 0 || r[0].Value <= 0 || r[0].Labels["code"] != "200" {
			t.Errorf("%s: counter rate %+v", via, r)
		}
		if p := find(ss, "latency_ms_p50"); len(p) == 0 || p[0].Value <= 10 || p[0].Value > 20 {
			t.Errorf("%s: p50 %+v, want in (10, 20]", via, p)
		}
		if p := find(ss, "latency_ms_rate"); len(p) == 0 || p[0].Value <= 0 {
			t.Errorf("%s: histogram rate %+v", via, p)
		}
		rec.mu.Lock()
		rec.b = signal.Batch{}
		rec.mu.Unlock()
	}
}

func TestSDKLogs(t *testing.T) {
	_, rec, grpcAddr, httpAddr := start(t, DefaultConfig())
	ctx := t.Context()
	exporters := map[string]func() (sdklog.Exporter, error){
		"grpc": func() (sdklog.Exporter, error) {
			return otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(grpcAddr), otlploggrpc.WithInsecure())
		},
		"http": func() (sdklog.Exporter, error) {
			return otlploghttp.New(ctx, otlploghttp.WithEndpoint(httpAddr), otlploghttp.WithInsecure())
		},
	}
	for _, via := range []string{"grpc", "http"} {
		exp, err := exporters[via]()
		if err != nil {
			t.Fatal(err)
		}
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(shop), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
		tid, _ := trace.TraceIDFromHex("0102030405060708090a0b0c0d0e0f10")
		sid, _ := trace.SpanIDFromHex("0102030405060708")
		lctx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
		var r otellog.Record
		r.SetTimestamp(time.Unix(1_700_000_000, 0))
		r.SetSeverity(otellog.SeverityError)
		r.SetBody(attribute.StringValue("payment declined for order 42"))
		r.AddAttributes(attribute.String("order", "42"))
		lp.Logger("test").Emit(lctx, r)
		var r2 otellog.Record
		r2.SetSeverityText("WARNING")
		r2.SetBody(attribute.StringValue("slow"))
		lp.Logger("test").Emit(ctx, r2)
		if err := lp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		logs := rec.batch().Logs
		if len(logs) != 2 {
			t.Fatalf("%s: got %d logs, want 2", via, len(logs))
		}
		l := logs[0]
		if l.Entity != "checkout" || l.Severity != signal.SeverityError || l.Body != "payment declined for order 42" ||
			l.TraceID != "0102030405060708090a0b0c0d0e0f10" || l.Attrs["order"] != "42" || !l.Time.Equal(time.Unix(1_700_000_000, 0)) {
			t.Errorf("%s: log %+v", via, l)
		}
		if logs[1].Severity != signal.SeverityWarn || logs[1].Time.IsZero() {
			t.Errorf("%s: log %+v, want warn with a time", via, logs[1])
		}
		rec.mu.Lock()
		rec.b = signal.Batch{}
		rec.mu.Unlock()
	}
}

func TestResourceEntity(t *testing.T) {
	f := func(attrs map[string]string, entity, instance string) {
		t.Helper()
		m := pcommonMap(attrs)
		r := resourceOf(m)
		if r.entity != entity || r.instance != instance {
			t.Errorf("resourceOf(%v) = %q/%q; want %q/%q", attrs, r.entity, r.instance, entity, instance)
		}
	}
	f(map[string]string{"service.name": "cart", "k8s.pod.name": "cart-7f9"}, "cart", "cart-7f9")
	f(map[string]string{"service.name": "unknown_service:java", "k8s.deployment.name": "cart", "k8s.pod.name": "cart-7f9"}, "cart", "cart-7f9")
	f(map[string]string{"k8s.pod.name": "cart-7f9"}, "cart-7f9", "")
	f(map[string]string{"host.name": "db1"}, "host:db1", "db1")
	f(map[string]string{"service.name": "unknown_service:java"}, "unknown_service:java", "")
	f(nil, "unknown", "")
}

func post(t *testing.T, h http.Handler, path, ct, enc string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

const gaugeJSON = `{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
"scopeMetrics":[{"metrics":[{"name":"queue_depth","gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asDouble":7}]}}]}]}]}`

func TestHTTPErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.MaxBodyBytes = 4096
	cfg.Limits.RatePerSource, cfg.Limits.Burst = 1e-9, 7
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	r, err := New(cfg, rec, quiet(), reg)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Handler()
	f := func(w *httptest.ResponseRecorder, code int, msg string) {
		t.Helper()
		if w.Code != code || !strings.Contains(w.Body.String(), msg) {
			t.Errorf("got %d %q; want %d containing %q", w.Code, w.Body.String(), code, msg)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, gaugeJSON)
	_ = zw.Close()
	f(post(t, h, "/v1/metrics", "application/json", "gzip", gz.Bytes()), 200, "")
	if ss := rec.batch().Samples; len(ss) != 1 || ss[0].Entity != "cart" || ss[0].Value != 7 {
		t.Fatalf("gzip JSON gauge: %+v", ss)
	}
	f(post(t, h, "/v1/metrics", "text/plain", "", []byte("x")), 415, "is not OTLP")
	f(post(t, h, "/v1/metrics", "application/json", "br", []byte("x")), 415, "Content-Encoding")
	f(post(t, h, "/v1/logs", "application/json", "", []byte(`{"resourceLogs":[{`)), 400, "not an OTLP logs export request")
	f(post(t, h, "/v1/traces", "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}), 400, "not an OTLP traces export request")
	f(post(t, h, "/v1/metrics", "application/json", "", bytes.Repeat([]byte(" "), 5000)), 413, "over 4096 bytes")
	// A gzip bomb is refused on its decoded size.
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	_, _ = zw.Write(bytes.Repeat([]byte(" "), 100_000))
	_ = zw.Close()
	f(post(t, h, "/v1/metrics", "application/json", "gzip", gz.Bytes()), 413, "over 4096 bytes")
	f(post(t, h, "/v1/metrics", "application/json", "", []byte("{}")), 200, "")
	// The burst of 7 is spent: the eighth request of this source is refused.
	f(post(t, h, "/v1/metrics", "application/json", "", []byte("{}")), 429, "requests/s")
	req := httptest.NewRequest(http.MethodGet, "/v1/metrics", nil)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	f(w, 405, "POST")
	for outcome, want := range map[string]float64{"accepted": 2, "malformed": 2, "too_large": 2, "encoding": 1, "rate_limited": 1} {
		got := testutil.ToFloat64(r.guard.Requests(outcome))
		if got != want {
			t.Errorf("requests %s = %g; want %g", outcome, got, want)
		}
	}
}

// blocker is a sink that holds every batch until released.
type blocker struct{ release chan struct{} }

func (b blocker) Ingest(ctx context.Context, _ *signal.Batch) error {
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestShedWhenSaturated(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.MaxInFlight = 1
	cfg.Limits.SinkTimeout = time.Minute
	sink := blocker{release: make(chan struct{})}
	r, err := New(cfg, sink, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	first := make(chan int)
	go func() {
		resp, err := http.Post(srv.URL+"/v1/metrics", "application/json", strings.NewReader(gaugeJSON))
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	// Wait until the first request holds the only slot.
	for testutil.ToFloat64(r.guard.InFlight()) != 1 {
		runtime.Gosched()
	}
	resp, err := http.Post(srv.URL+"/v1/metrics", "application/json", strings.NewReader(gaugeJSON))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second request: %d; want 503 (shed)", resp.StatusCode)
	}
	close(sink.release)
	if code := <-first; code != 200 {
		t.Errorf("first request: %d; want 200", code)
	}
}

func TestExponentialHistogram(t *testing.T) {
	js := `{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
"scopeMetrics":[{"metrics":[{"name":"lat","exponentialHistogram":{"aggregationTemporality":1,"dataPoints":[
{"startTimeUnixNano":"1699999990000000000","timeUnixNano":"1700000000000000000","count":"10","scale":0,
 "positive":{"offset":3,"bucketCounts":["10"]}}]}}]}]}]}`
	rec := &recorder{}
	r, _ := New(DefaultConfig(), rec, quiet(), nil)
	if w := post(t, r.Handler(), "/v1/metrics", "application/json", "", []byte(js)); w.Code != 200 {
		t.Fatal(w.Code, w.Body.String())
	}
	// Bucket 3 at scale 0 covers (8, 16].
	ss := rec.batch().Samples
	if p := find(ss, "lat_p50"); len(p) != 1 || p[0].Value != 12 {
		t.Errorf("p50 %+v; want 12", p)
	}
	if p := find(ss, "lat_rate"); len(p) != 1 || p[0].Value != 1 {
		t.Errorf("rate %+v; want 1/s", p)
	}
}

func pcommonMap(attrs map[string]string) pcommon.Map {
	m := pcommon.NewMap()
	for k, v := range attrs {
		m.PutStr(k, v)
	}
	return m
}

// TestSeverityFromBody: a record with neither a severity number nor a text
// (a log line shipped as written) takes the level word at its start; one
// with a level keeps it whatever its body says.
func TestSeverityFromBody(t *testing.T) {
	for _, c := range []struct {
		num        plog.SeverityNumber
		text, body string
		want       signal.Severity
	}{
		{0, "", "2024-01-01 12:00:00 ERROR [main] payment failed", signal.SeverityError},
		{0, "", "payment failed with error 7", signal.SeverityInfo},
		{0, "INFO", "ERROR in the body of an info record", signal.SeverityInfo},
		{plog.SeverityNumberWarn, "", "ERROR", signal.SeverityWarn},
	} {
		if got := severity(c.num, c.text, c.body); got != c.want {
			t.Errorf("severity(%d, %q, %q) = %s, want %s", c.num, c.text, c.body, got, c.want)
		}
	}
}
