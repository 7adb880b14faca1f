package otlp

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/seerops/seer/internal/memlimit"
)

// TestDecodeMemoryIsReserved: a request admitted below the soft limit
// still reserves what decoding it takes (a multiple of its size) before it
// decodes, and is refused with 429 (gRPC RESOURCE_EXHAUSTED) when that
// would take seer above the soft limit while other data is held; alone it
// is taken, and nothing stays counted after it.
func TestDecodeMemoryIsReserved(t *testing.T) {
	mem, err := memlimit.New(memlimit.Config{LimitBytes: 24 << 20, SpikeBytes: 8 << 20, CheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mem.SetHeap(func() int64 { return 0 }) // the bytes counted, not this test process's heap
	cfg := DefaultConfig()
	cfg.Limits.Memory = mem
	r, rec, grpcAddr, _ := start(t, cfg)
	h := r.Handler()
	body := metricsBody(40000, time.Now()) // ~1.4 MB: 13 times that is above the 16 MiB soft limit
	if n := int64(len(body)) * decodeFactor(kindMetrics, false); n <= 16<<20 {
		t.Fatalf("the body reserves %d bytes; the test wants more than the soft limit", n)
	}

	mem.Add(1 << 20) // another request's body
	w := post(t, h, "/v1/metrics", ctProto, "", body)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("HTTP with 1 MiB held: %d (Retry-After %q); want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const method = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
	var resp rawMessage
	err = conn.Invoke(context.Background(), method, &rawMessage{body}, &resp)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "soft limit") {
		t.Errorf("gRPC with 1 MiB held: %v; want RESOURCE_EXHAUSTED naming the soft limit", err)
	}
	if n := len(rec.batch().Samples); n != 0 {
		t.Errorf("%d samples delivered from refused requests", n)
	}
	if got := mem.Queued(); got != 1<<20 {
		t.Errorf("queued %d after the refusals, want the 1 MiB held before", got)
	}
	if n := testutil.ToFloat64(r.guard.Requests("memory")); n != 2 {
		t.Errorf("requests refused for memory = %g, want 2", n)
	}

	mem.Done(1 << 20)
	if w := post(t, h, "/v1/metrics", ctProto, "", body); w.Code != http.StatusOK {
		t.Errorf("HTTP alone: %d %s; want 200", w.Code, w.Body.String())
	}
	if err := conn.Invoke(context.Background(), method, &rawMessage{body}, &resp); err != nil {
		t.Errorf("gRPC alone: %v", err)
	}
	if n := len(rec.batch().Samples); n < 20000 {
		t.Errorf("%d samples delivered, want at least the 20000 gauge points", n)
	}
	if got := mem.Queued(); got != 0 {
		t.Errorf("queued %d after the requests, want 0", got)
	}
}
