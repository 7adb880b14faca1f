package engine

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/grpc/credentials"

	"github.com/seerops/seer/internal/auth"
	"github.com/seerops/seer/internal/servertls"
	"github.com/seerops/seer/internal/servertls/tlstest"
)

func tlsConfig(ca *tlstest.CA) servertls.Config {
	var c servertls.Config
	c.TLSCertPath, c.TLSKeyPath = ca.CertFile, ca.KeyFile
	return c
}

// TestListenersServeTLS starts the engine with tls and otlp.tls set: the
// API answers HTTPS to a client trusting the CA and nothing to plain HTTP,
// and OTLP arrives over TLS on both of its listeners (gRPC through the
// OpenTelemetry exporter).
func TestListenersServeTLS(t *testing.T) {
	ca := tlstest.New(t)
	cfg := testConfig(t, t.TempDir())
	cfg.TLS = tlsConfig(ca)
	cfg.OTLP.TLS = tlsConfig(ca)
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	addr := ln.Addr().String()
	trusting := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: ca.ClientConfig()}}
	defer trusting.CloseIdleConnections()

	for _, path := range []string{"/healthz", "/api/v1/incidents"} {
		resp, err := trusting.Get("https://" + addr + path)
		if err != nil {
			t.Fatalf("HTTPS GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTPS GET %s = %d; want 200", path, resp.StatusCode)
		}
	}
	plain := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer plain.CloseIdleConnections()
	if resp, err := plain.Get("http://" + addr + "/api/v1/incidents"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || !strings.Contains(string(body), "HTTPS") {
			t.Fatalf("plain HTTP = %d %q; want it refused", resp.StatusCode, body)
		}
	}
	if _, err := http.Get("https://" + addr + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client that does not trust the CA: %v; want a certificate error", err)
	}

	// OTLP/HTTP over TLS.
	logsJSON := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1767607200000000000","severityText":"ERROR","body":{"stringValue":"connection refused"}}]}]}]}`
	resp, err := trusting.Post("https://"+cfg.OTLP.HTTPAddr+"/v1/logs", "application/json", strings.NewReader(logsJSON))
	if err != nil {
		t.Fatalf("OTLP/HTTP over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OTLP/HTTP over TLS = %d", resp.StatusCode)
	}
	if resp, err := plain.Post("http://"+cfg.OTLP.HTTPAddr+"/v1/logs", "application/json", strings.NewReader(logsJSON)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("OTLP/HTTP took a plain-text request")
		}
	}

	// OTLP/gRPC over TLS, by the OpenTelemetry SDK.
	exp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(cfg.OTLP.GRPCAddr),
		otlploggrpc.WithTLSCredentials(credentials.NewTLS(ca.ClientConfig())))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "cart"))),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	var rec otellog.Record
	rec.SetTimestamp(time.Date(2026, 1, 5, 10, 0, 1, 0, time.UTC))
	rec.SetSeverityText("ERROR")
	rec.SetBody(attribute.StringValue("connection refused"))
	lp.Logger("test").Emit(ctx, rec)
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err = trusting.Get("https://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(text), `seer_ingested_total{signal="log"} 2`) {
		t.Errorf("want the two log records, by OTLP/HTTP and OTLP/gRPC over TLS, ingested:\n%s", grepLines(string(text), "seer_ingested_total"))
	}
}

// TestTLSConfigValidation: a bad certificate file is a configuration error
// naming the key and the file, at load.
func TestTLSConfigValidation(t *testing.T) {
	ca := tlstest.New(t)
	missing := t.TempDir() + "/missing.pem"
	for _, tc := range []struct{ yaml, want string }{
		{"tls: {cert_file: " + missing + ", key_file: " + ca.KeyFile + "}\n", "tls: cert_file: open " + missing},
		{"tls: {cert_file: " + ca.CertFile + ", key_file: " + ca.CAFile + "}\n", "tls: key_file \"" + ca.CAFile + "\" holds no PEM PRIVATE KEY"},
		{"otlp: {tls: {cert_file: " + ca.CertFile + ", key_file: " + ca.ClientKeyFile + "}}\n", "otlp.tls: key_file \"" + ca.ClientKeyFile + "\" does not go with cert_file"},
		{"tls: {cert_file: " + ca.CertFile + ", key_file: " + ca.KeyFile + ", min_version: TLS99}\n", "TLS99"},
		{"tls: {cert_file: " + ca.CertFile + ", key_file: " + ca.KeyFile + ", cert_fil: x}\n", "cert_fil"},
		{"notify: {webhooks: [{url: https://127.0.0.1:9/h, tls_config: {ca_file: " + missing + "}}]}\n", "notify: webhooks[0]: webhook: tls_config: unable to read CA cert"},
		{"notify: {alertmanager: {url: https://127.0.0.1:9, bearer_token_file: " + missing + "}}\n", "notify: alertmanager: bearer_token_file: open " + missing},
		{"notify: {webhooks: [{url: https://127.0.0.1:9/h, tls_config: {ca_fil: x}}]}\n", "ca_fil"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v; want an error containing %q", tc.yaml, err, tc.want)
		}
	}
	if _, err := Parse([]byte("tls: {cert_file: " + ca.CertFile + ", key_file: " + ca.KeyFile + ", client_ca_file: " + ca.CAFile + "}\n")); err != nil {
		t.Errorf("a good tls section: %v", err)
	}
}

// TestTLSDoesNotTurnAuthOff: TLS on a non-loopback address still needs
// tokens, as plain HTTP does.
func TestTLSDoesNotTurnAuthOff(t *testing.T) {
	ca := tlstest.New(t)
	c := Default()
	c.HTTPAddr = "0.0.0.0:7070"
	c.TLS = tlsConfig(ca)
	if _, err := c.authenticator(); err == nil || !strings.Contains(err.Error(), "seer token new") {
		t.Fatalf("exposed with TLS and no tokens: %v; want the refusal naming seer token new", err)
	}
	_, hash := auth.NewToken()
	c.Auth.Tokens = []auth.Token{{Name: "ops", Role: auth.RoleOperate, SHA256: hash}}
	if a, err := c.authenticator(); err != nil || a == nil {
		t.Fatalf("exposed with TLS and a token: %v, %v; want authentication on", a, err)
	}
}
