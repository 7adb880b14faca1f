package otlp

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"

	"github.com/seerops/seer/internal/servertls/tlstest"
)

// TestGRPCOverTLS: with otlp.tls the gRPC listener speaks TLS only. The
// OpenTelemetry exporter trusting the CA delivers; one in plain text, or
// trusting another CA, does not.
func TestGRPCOverTLS(t *testing.T) {
	ca := tlstest.New(t)
	cfg := DefaultConfig()
	cfg.TLS.TLSCertPath, cfg.TLS.TLSKeyPath = ca.CertFile, ca.KeyFile
	_, rec, grpcAddr, _ := start(t, cfg)

	now := time.Now()
	spans := tracetest.SpanStubs{{
		Name: "GET /cart",
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled}),
		StartTime: now.Add(-time.Millisecond),
		EndTime:   now,
		Resource:  shop,
	}}.Snapshots()
	export := func(opts ...otlptracegrpc.Option) error {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		exp, err := otlptracegrpc.New(ctx, append([]otlptracegrpc.Option{otlptracegrpc.WithEndpoint(grpcAddr),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false})}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		defer exp.Shutdown(context.Background())
		return exp.ExportSpans(ctx, []sdktrace.ReadOnlySpan{spans[0]})
	}

	if err := export(otlptracegrpc.WithInsecure()); err == nil {
		t.Error("a plain-text exporter delivered to the TLS listener")
	}
	if err := export(otlptracegrpc.WithTLSCredentials(credentials.NewTLS(tlstest.New(t).ClientConfig()))); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("an exporter trusting another CA: %v; want a certificate error", err)
	}
	if n := len(rec.batch().Spans); n != 0 {
		t.Fatalf("%d spans arrived from the refused exporters", n)
	}
	if err := export(otlptracegrpc.WithTLSCredentials(credentials.NewTLS(ca.ClientConfig()))); err != nil {
		t.Fatalf("the exporter trusting the CA: %v", err)
	}
	if got := rec.batch().Spans; len(got) != 1 || got[0].Service != "checkout" {
		t.Fatalf("spans received = %+v; want the one of checkout", got)
	}
}

// TestTLSConfigErrors: a bad otlp.tls is refused by Validate and New, naming
// the key.
func TestTLSConfigErrors(t *testing.T) {
	ca := tlstest.New(t)
	cfg := DefaultConfig()
	cfg.TLS.TLSCertPath, cfg.TLS.TLSKeyPath = ca.CertFile, ca.CAFile
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "otlp.tls: key_file") {
		t.Errorf("Validate: %v; want an error naming otlp.tls: key_file", err)
	}
	if _, err := New(cfg, &recorder{}, quiet(), nil); err == nil {
		t.Error("New accepted a key file that holds a certificate")
	}
}
