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
	metrics := fmt.Sprintf(`{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"metrics-only"}},{"key":"service.instance.id","value":{"stringValue":"m-1"}},{"key":"host.name","value":{"stringValue":"web-1"}}]},
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
	// The resource said where its instance runs.
	if want := (signal.Placement{Service: "metrics-only", Instance: "m-1", Host: "host:web-1"}); !slices.Contains(topo.Placements, want) {
		t.Errorf("placements %v lack %v", topo.Placements, want)
	}
}

// Instances are placed on hosts from what the signals say: an OTLP
// resource's host.name, a Prometheus target's instance host:port. A host's
// own series and signals naming no host place nothing; bad host names are
// not entities.
func TestPlacements(t *testing.T) {
	var s services
	s.observe(&signal.Batch{
		Samples: []signal.Sample{
			{Entity: "node", Name: "node_load1", Labels: map[string]string{"instance": "10.0.0.5:9100"}},
			{Entity: "node", Name: "node_load5", Labels: map[string]string{"instance": "10.0.0.5:9100"}},
			{Entity: "checkout", Name: "up", Labels: map[string]string{"instance": "10.0.0.5:8080"}},
			{Entity: "host:10.0.0.5", Name: "cpu"},
			{Entity: "cart", Name: "x", Labels: map[string]string{"instance": "cart-7f9"}},
			{Entity: "evil", Name: "x", Labels: map[string]string{"instance": "$(reboot):80"}},
		},
		Spans: []signal.Span{{Service: "cart", Attrs: map[string]string{"instance": "cart-7f9", signal.AttrHostName: "node-3"}}},
	})
	got := s.merge(signal.Topology{}).Placements
	want := []signal.Placement{
		{Service: "cart", Instance: "cart-7f9", Host: "host:node-3"},
		{Service: "checkout", Instance: "10.0.0.5:8080", Host: "host:10.0.0.5"},
		{Service: "node", Instance: "10.0.0.5:9100", Host: "host:10.0.0.5"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("placements\n got %v\nwant %v", got, want)
	}
}

// A remote_write batch of one node_exporter target: the placement is read
// once per run of signals from one instance, not per sample.
func BenchmarkServicesObserve(b *testing.B) {
	var s services
	batch := &signal.Batch{}
	for i := range 2000 {
		batch.Samples = append(batch.Samples, signal.Sample{Entity: "node", Name: fmt.Sprintf("node_metric_%d", i%400),
			Labels: map[string]string{"instance": "10.0.0.5:9100", "cpu": fmt.Sprint(i % 8)}})
	}
	b.ReportAllocs()
	for b.Loop() {
		s.observe(batch)
	}
}
