package shop

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// metricsEvery is how often metrics are exported: quantiles of a few
// seconds of requests are mostly noise (OpenTelemetry's default is a
// minute; 10 s is what a team that wants fast alerts sets).
const metricsEvery = 10 * time.Second

// telemetry is one service's OpenTelemetry providers: traces, metrics and
// logs exported over OTLP/HTTP, or no-ops without an endpoint.
type telemetry struct {
	tracer   trace.Tracer
	logger   otellog.Logger
	duration metric.Float64Histogram
	shutdown []func(context.Context) error
}

func newTelemetry(ctx context.Context, service, version, endpoint string, every time.Duration) (*telemetry, error) {
	t := &telemetry{}
	if endpoint == "" {
		t.tracer = tracenoop.NewTracerProvider().Tracer("shop")
		t.logger = lognoop.NewLoggerProvider().Logger("shop")
		t.duration, _ = metricnoop.NewMeterProvider().Meter("shop").Float64Histogram("http.server.request.duration")
		return t, nil
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", service),
		attribute.String("service.instance.id", service+"-1"),
		attribute.String("service.version", version),
	)
	te, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(endpoint), otlptracehttp.WithInsecure())
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithBatcher(te, sdktrace.WithBatchTimeout(every)))
	me, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(endpoint), otlpmetrichttp.WithInsecure())
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(metricsEvery))))
	le, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(endpoint), otlploghttp.WithInsecure())
	if err != nil {
		return nil, err
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(le, sdklog.WithExportInterval(every))))
	t.tracer = tp.Tracer("shop")
	t.logger = lp.Logger("shop")
	t.duration, err = mp.Meter("shop").Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
	if err != nil {
		return nil, err
	}
	t.shutdown = []func(context.Context) error{tp.Shutdown, mp.Shutdown, lp.Shutdown}
	return t, nil
}

// log emits a log record tied to the span in ctx.
func (t *telemetry) log(ctx context.Context, sev otellog.Severity, msg string, attrs ...attribute.KeyValue) {
	var r otellog.Record
	now := time.Now()
	r.SetTimestamp(now)
	r.SetObservedTimestamp(now)
	r.SetSeverity(sev)
	r.SetBody(attribute.StringValue(msg))
	r.AddAttributes(attrs...)
	t.logger.Emit(ctx, r)
}

func (t *telemetry) close(ctx context.Context) error {
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}
