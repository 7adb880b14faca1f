package export

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
)

// TestOTLPHTTP sends a minute of the big shop to a fake OTLP/HTTP receiver
// and checks that every signal arrives.
func TestOTLPHTTP(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/v1/metrics":
			req := pmetricotlp.NewExportRequest()
			if err := req.UnmarshalProto(body); err != nil {
				t.Error(err)
			}
			got["samples"] += req.Metrics().DataPointCount()
		case "/v1/logs":
			req := plogotlp.NewExportRequest()
			if err := req.UnmarshalProto(body); err != nil {
				t.Error(err)
			}
			got["logs"] += req.Logs().LogRecordCount()
		case "/v1/traces":
			req := ptraceotlp.NewExportRequest()
			if err := req.UnmarshalProto(body); err != nil {
				t.Error(err)
			}
			got["spans"] += req.Traces().SpanCount()
		}
	}))
	defer srv.Close()
	o, err := NewOTLP(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	cfg := sim.DefaultConfig()
	cfg.Detail = true
	w, err := sim.New(cfg, sim.Shop())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Inject(sim.Fault{Kind: sim.FaultDeploy, Target: "cart", Start: w.Now().Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for range 60 {
		b := w.Step()
		want["samples"] += len(b.Samples)
		want["logs"] += len(b.Logs) + len(b.Events)
		want["spans"] += len(b.Spans)
		if err := o.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	for k, n := range want {
		if n == 0 || got[k] != n {
			t.Errorf("%s: sent %d, received %d", k, n, got[k])
		}
	}
}

func TestMetricsResources(t *testing.T) {
	at := time.Unix(100, 0)
	md := Metrics([]signal.Sample{
		{Time: at, Entity: "cart", Name: "up", Value: 1},
		{Time: at, Entity: "cart", Name: "up", Labels: map[string]string{"instance": "cart-1", "host": "node-2"}, Value: 0},
		{Time: at, Entity: "host:node-2", Name: "cpu_utilization", Value: 0.5},
	})
	if n := md.ResourceMetrics().Len(); n != 3 {
		t.Fatalf("want 3 resources, got %d", n)
	}
	r := md.ResourceMetrics().At(1).Resource().Attributes()
	if v, _ := r.Get("service.instance.id"); v.Str() != "cart-1" {
		t.Errorf("instance resource %v", r.AsRaw())
	}
	h := md.ResourceMetrics().At(2).Resource().Attributes()
	if v, _ := h.Get("host.name"); v.Str() != "node-2" {
		t.Errorf("host resource %v", h.AsRaw())
	}
}

func BenchmarkCaseWrite(b *testing.B) {
	b.ReportAllocs()
	cfg := sim.DefaultConfig()
	cfg.Detail = true
	w, _ := sim.New(cfg, sim.Shop())
	var batches []signal.Batch
	for range 60 {
		batches = append(batches, w.Step())
	}
	c, err := NewCase(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, bt := range batches {
			c.Write(bt)
		}
	}
	c.Close(w, Truth{})
}
