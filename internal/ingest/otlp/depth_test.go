package otlp

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// nestedValue is an AnyValue holding an array in an array ... depth times,
// written from the outside in without recursion: the sizes of the levels
// are known before any byte is written.
func nestedValue(depth int) []byte {
	inner := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "x")
	any, arr := make([]int, depth+1), make([]int, depth+1) // sizes of AnyValue and ArrayValue at each level
	any[0] = len(inner)
	for i := 1; i <= depth; i++ {
		arr[i] = 1 + protowire.SizeVarint(uint64(any[i-1])) + any[i-1]
		any[i] = 1 + protowire.SizeVarint(uint64(arr[i])) + arr[i]
	}
	b := make([]byte, 0, any[depth])
	for i := depth; i >= 1; i-- {
		b = protowire.AppendTag(b, 5, protowire.BytesType) // AnyValue.array_value
		b = protowire.AppendVarint(b, uint64(arr[i]))
		b = protowire.AppendTag(b, 1, protowire.BytesType) // ArrayValue.values
		b = protowire.AppendVarint(b, uint64(any[i-1]))
	}
	return append(b, inner...)
}

// nestedRequest is an export request (metrics, logs and traces all begin
// with a resource) whose one resource attribute is nested depth levels.
func nestedRequest(depth int) []byte {
	wrap := func(num protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), b)
	}
	kv := append(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "deep"), wrap(2, nestedValue(depth))...)
	return wrap(1, wrap(1, wrap(1, kv))) // request.resource_*, .resource, .attributes
}

func nestedJSON(depth int) string {
	return `{"resourceLogs":[{"resource":{"attributes":[{"key":"deep","value":` +
		strings.Repeat(`{"arrayValue":{"values":[`, depth) + `{"stringValue":"x"}` + strings.Repeat(`]}}`, depth) + `}]}}]}`
}

func TestCheckDepth(t *testing.T) {
	f := func(data []byte, json bool, wantErr string) {
		t.Helper()
		err := checkDepth(data, kindLogs, json, 64)
		if (err == nil) != (wantErr == "") || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("checkDepth = %v; want %q", err, wantErr)
		}
	}
	f(nestedRequest(10), false, "")
	f(nestedRequest(40), false, "deeper than 64 levels")
	f([]byte(nestedJSON(10)), true, "")
	f([]byte(nestedJSON(50)), true, "deeper than 128 levels")
	// Brackets inside strings do not count.
	f([]byte(`{"a":"`+strings.Repeat("[", 1000)+`\"`+strings.Repeat("{", 1000)+`"}`), true, "")
	f([]byte{0x0a, 0xff}, false, "not an OTLP logs export request")
	f([]byte{0x0b}, false, "a group")
	f(nil, false, "")
}

// TestNestedRequestRefused sends attribute values nested far beyond the
// limit (deep enough to overflow the decoder's stack, were it reached) over
// OTLP/HTTP in both encodings and over gRPC: each is a 400 naming the
// limit, and the receiver serves the next request.
func TestNestedRequestRefused(t *testing.T) {
	const depth = 2_000_000
	if testing.Short() {
		t.Skip("builds a 16 MiB request")
	}
	cfg := DefaultConfig()
	cfg.Limits.MaxBodyBytes = 64 << 20
	r, rec, grpcAddr, _ := start(t, cfg)
	h := r.Handler()
	deep := nestedRequest(depth)
	for _, path := range []string{"/v1/metrics", "/v1/logs", "/v1/traces"} {
		w := post(t, h, path, ctProto, "", deep)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "otlp.max_depth") {
			t.Errorf("%s protobuf: %d %q; want 400 naming otlp.max_depth", path, w.Code, w.Body.String())
		}
	}
	w := post(t, h, "/v1/logs", ctJSON, "", []byte(nestedJSON(depth/10)))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "otlp.max_depth") {
		t.Errorf("JSON: %d %q; want 400 naming otlp.max_depth", w.Code, w.Body.String())
	}

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{}), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range []string{"metrics.v1.MetricsService", "logs.v1.LogsService", "trace.v1.TraceService"} {
		var resp rawMessage
		err := conn.Invoke(context.Background(), "/opentelemetry.proto.collector."+m+"/Export", &rawMessage{deep}, &resp)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "otlp.max_depth") {
			t.Errorf("gRPC %s: %v; want InvalidArgument naming otlp.max_depth", m, err)
		}
	}

	// Still serving.
	if w := post(t, h, "/v1/metrics", ctJSON, "", []byte(gaugeJSON)); w.Code != http.StatusOK {
		t.Fatalf("after the nested requests: %d %s", w.Code, w.Body.String())
	}
	if n := len(rec.batch().Samples); n != 1 {
		t.Errorf("samples after the nested requests = %d; want 1", n)
	}
	if n := testutil.ToFloat64(r.guard.Requests("too_deep")); n != 7 {
		t.Errorf("requests too_deep = %g; want 7", n)
	}
}

// TestGRPCShedWhenSaturated: with every slot taken, a gRPC request from
// another connection is refused as it arrives (Unavailable), and the one
// holding the slot completes. (On one connection, requests beyond
// max_in_flight wait for a stream instead.)
func TestGRPCShedWhenSaturated(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.MaxInFlight = 1
	cfg.Limits.SinkTimeout = time.Minute
	sink := blocker{release: make(chan struct{})}
	r, err := New(cfg, sink, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	export := func() error {
		conn, err := grpc.NewClient(r.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var resp rawMessage
		return conn.Invoke(ctx, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
			&rawMessage{metricsBody(20, time.Unix(1_700_000_000, 0))}, &resp)
	}
	first := make(chan error, 1)
	go func() { first <- export() }()
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(r.guard.InFlight()) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first request never took the slot")
		}
		runtime.Gosched()
	}
	err = export()
	close(sink.release)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "requests in flight") {
		t.Errorf("second request: %v; want Unavailable", err)
	}
	if err := <-first; err != nil {
		t.Errorf("first request: %v", err)
	}
}
