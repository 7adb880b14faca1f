package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/ingest/binarytest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestRunRefusesExposedWithoutTokens(t *testing.T) {
	err := run(context.Background(), []string{"run", "--data-dir", t.TempDir(), "--http", "0.0.0.0:0",
		"--otlp-grpc", "off", "--otlp-http", "off", "--log-level", "error"}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "http_addr 0.0.0.0:0 is not loopback") ||
		!strings.Contains(err.Error(), "seer token new --role operate") {
		t.Fatalf("seer run on 0.0.0.0 without tokens: %v; want a refusal saying how to make a token", err)
	}
}

// newToken runs seer token new and returns the token and the config line.
func newToken(t *testing.T, args ...string) (token, line string) {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"token", "new"}, args...), nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)\n  (seer_\S+)\n.*\n  (- \{name: .*\})\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("seer token new printed %q", out.String())
	}
	return m[1], m[2]
}

// TestRunWithTokens runs seer with auth on: reads, events, remote_write and
// OTLP/gRPC each need a token granting them.
func TestRunWithTokens(t *testing.T) {
	if err := run(context.Background(), []string{"token", "new", "--role", "boss"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("a token with role boss was made")
	}
	op, opLine := newToken(t, "--role", "operate", "--name", "alice")
	rd, rdLine := newToken(t, "--role", "read")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "seer.yaml")
	if err := os.WriteFile(cfg, []byte("auth:\n  mode: on\n  tokens:\n    "+opLine+"\n    "+rdLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	grpcAddr, otlpHTTP := binarytest.FreeAddr(t), binarytest.FreeAddr(t)
	base, stop := startSeer(t, dir, "--config", cfg, "--otlp-grpc", grpcAddr, "--otlp-http", otlpHTTP)
	defer stop()

	var crossSite bool // a browser's request from another site
	do := func(method, path, token, ctype string, want int) {
		t.Helper()
		url := base + path
		if strings.HasPrefix(path, "/v1/") {
			url = "http://" + otlpHTTP + path // the OTLP/HTTP receiver's own port
		}
		req, _ := http.NewRequest(method, url, strings.NewReader(""))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if crossSite {
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.Header.Set("Origin", "http://evil.example")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s %s with %q: %d; want %d", method, path, token, resp.StatusCode, want)
		}
	}
	do("GET", "/api/v1/incidents", "", "", 401)
	do("GET", "/api/v1/incidents", rd, "", 200)
	do("POST", "/api/v1/incidents/1/approve", "", "application/json", 401)
	do("POST", "/api/v1/incidents/1/approve", rd, "application/json", 403)
	do("POST", "/api/v1/incidents/1/approve", op, "application/json", 404)
	do("POST", "/api/v1/write", "", "application/x-protobuf", 401)
	do("POST", "/api/v1/write", rd, "application/x-protobuf", 403)
	do("POST", "/api/v1/alerts/alertmanager", "", "application/json", 401)
	do("POST", "/api/v1/alerts/alertmanager", rd, "application/json", 403)
	do("POST", "/v1/metrics", "", "application/x-protobuf", 401)
	do("POST", "/v1/logs", rd, "application/x-protobuf", 403)
	do("POST", "/v1/traces", op, "application/x-protobuf", 200)
	// Cross-site, even with a token (a browser sending a stored one):
	// refused by every receiver and the API.
	crossSite = true
	do("POST", "/v1/traces", op, "application/x-protobuf", 403)
	do("POST", "/api/v1/alerts/alertmanager", op, "application/json", 403)
	do("POST", "/api/v1/write", op, "application/x-protobuf", 403)
	do("POST", "/api/v1/incidents/1/approve", op, "application/json", 403)
	crossSite = false

	ev := []string{"event", "deploy", "--service", "checkout", "--server", base}
	if err := run(context.Background(), ev, nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("seer event without SEER_TOKEN: %v; want 401", err)
	}
	t.Setenv("SEER_TOKEN", op)
	if err := run(context.Background(), ev, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Errorf("seer event with an operator's token: %v", err)
	}

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pmetricotlp.NewGRPCClient(conn)
	md := pmetric.NewMetrics()
	md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(1)
	req := pmetricotlp.NewExportRequestFromMetrics(md)
	if _, err := client.Export(t.Context(), req); status.Code(err) != codes.Unauthenticated {
		t.Errorf("OTLP/gRPC without a token: %v; want Unauthenticated", err)
	}
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+rd)
	if _, err := client.Export(ctx, req); status.Code(err) != codes.PermissionDenied {
		t.Errorf("OTLP/gRPC with a read token: %v; want PermissionDenied", err)
	}
	ctx = metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+op)
	if _, err := client.Export(ctx, req); err != nil {
		t.Errorf("OTLP/gRPC with an operator's token: %v", err)
	}
}

func TestDemoStaysOnLoopback(t *testing.T) {
	err := run(context.Background(), []string{"demo", "--stay", "--http", "0.0.0.0:0"}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("seer demo --stay on 0.0.0.0: %v; want refused", err)
	}
}
