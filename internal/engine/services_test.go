package engine

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// telemetrygen-style OTLP sources, one sending only metrics and one only
// logs, appear in /api/v1/services beside the services of traces.
func TestMetricAndLogOnlyServices(t *testing.T) {
	e, base, stop := startEngine(t, t.TempDir())
	defer stop()
	ns := time.Now().UnixNano()
	metrics := fmt.Sprintf(`{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"metrics-only"}}]},
"scopeMetrics":[{"metrics":[{"name":"gen","gauge":{"dataPoints":[{"timeUnixNano":"%d","asDouble":1}]}}]}]}]}`, ns)
	logs := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"logs-only"}}]},
"scopeLogs":[{"logRecords":[{"timeUnixNano":"%d","severityText":"INFO","body":{"stringValue":"hello"}}]}]}]}`, ns)
	for path, body := range map[string]string{"/v1/metrics": metrics, "/v1/logs": logs} {
		// The OTLP listener starts with Serve, a moment after it is called.
		var resp *http.Response
		var err error
		for range 100 {
			if resp, err = http.Post("http://"+e.cfg.OTLP.HTTPAddr+path, "application/json", strings.NewReader(body)); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("OTLP %s = %d", path, resp.StatusCode)
		}
	}
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var topo signal.Topology
	if code := get(t, base+"/api/v1/services", &topo); code != 200 {
		t.Fatalf("/api/v1/services = %d", code)
	}
	for _, want := range []string{"metrics-only", "logs-only"} {
		if !slices.Contains(topo.Services, want) {
			t.Errorf("services %v lack %s", topo.Services, want)
		}
	}
}
