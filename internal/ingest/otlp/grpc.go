package otlp

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/seerops/seer/internal/ingest/guard"
)

// OTLP/gRPC is served by seer's own service descriptions rather than
// pdata's: those decode a request inside gRPC, before any handler runs, so
// neither the depth limit nor the in-flight limit could act first. Here
// gRPC hands over the request's bytes (rawCodec), and the handler admits
// the request, checks its nesting and only then decodes it, as OTLP/HTTP
// does.

// rawMessage is a message that gRPC passes through undecoded.
type rawMessage struct{ data []byte }

// rawCodec is the server's only codec: requests and responses are bytes
// that the handlers decode and encode themselves.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("otlp: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(m.data)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("otlp: cannot unmarshal into %T", v)
	}
	m.data = data.Materialize()
	return nil
}

// newGRPCServer builds the OTLP/gRPC server: messages are capped at the
// body limit (after decompression), and a connection may have as many
// requests in flight as the receiver takes at once.
func (r *Receiver) newGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	srv := grpc.NewServer(append([]grpc.ServerOption{
		grpc.ForceServerCodecV2(rawCodec{}),
		grpc.MaxRecvMsgSize(int(r.cfg.Limits.MaxBodyBytes)),
		grpc.MaxConcurrentStreams(uint32(r.cfg.Limits.MaxInFlight)),
		// A saturated receiver refuses a request as it arrives, before
		// gRPC reads its message into memory.
		grpc.InTapHandle(func(ctx context.Context, _ *tap.Info) (context.Context, error) {
			if r.guard.Saturated() {
				return nil, status.Error(codes.Unavailable, r.guard.Shed().Msg)
			}
			if p := r.guard.MemoryFull(); p != nil {
				return nil, status.Error(codes.ResourceExhausted, p.Msg)
			}
			return ctx, nil
		}),
	}, opts...)...)
	for _, s := range []struct {
		service string
		kind    signalKind
	}{
		{"opentelemetry.proto.collector.metrics.v1.MetricsService", kindMetrics},
		{"opentelemetry.proto.collector.logs.v1.LogsService", kindLogs},
		{"opentelemetry.proto.collector.trace.v1.TraceService", kindTraces},
	} {
		srv.RegisterService(&grpc.ServiceDesc{
			ServiceName: s.service,
			HandlerType: (*any)(nil),
			Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: r.grpcHandler(s.service, s.kind)}},
		}, r)
	}
	return srv
}

// grpcHandler serves Export of one signal kind: after the interceptor (if
// any; it sees no request) it admits the request, then checks, decodes and
// delivers it, turning a Problem into its status.
func (r *Receiver) grpcHandler(service string, kind signalKind) grpc.MethodHandler {
	return func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		handle := func(ctx context.Context, _ any) (any, error) { return r.grpcExport(ctx, kind, dec) }
		if interceptor == nil {
			return handle(ctx, nil)
		}
		return interceptor(ctx, nil, &grpc.UnaryServerInfo{Server: r, FullMethod: "/" + service + "/Export"}, handle)
	}
}

// grpcExport is one Export: admit, read, check, decode, deliver.
func (r *Receiver) grpcExport(ctx context.Context, kind signalKind, dec func(any) error) (any, error) {
	source := "unknown"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		source = p.Addr.String()
		if host, _, err := net.SplitHostPort(source); err == nil {
			source = host
		}
	}
	release, err := r.guard.Admit(source)
	if err != nil {
		p := guard.AsProblem(err)
		return nil, status.Error(grpcCode(p.Status), p.Msg)
	}
	defer release()
	var req rawMessage
	if err := dec(&req); err != nil {
		return nil, err
	}
	resp, err := r.export(ctx, kind, req.data, false, 0)
	if err == nil {
		var out []byte
		if out, err = resp.MarshalProto(); err == nil {
			return &rawMessage{out}, nil
		}
	}
	p := guard.AsProblem(err)
	r.guard.Reject(p)
	return nil, status.Error(grpcCode(p.Status), p.Msg)
}
