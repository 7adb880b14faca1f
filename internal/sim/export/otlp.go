package export

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/seerops/seer/internal/signal"
)

// OTLP sends batches to an OTLP endpoint: over HTTP (protobuf) when the
// address is a URL (http://host:4318), else over gRPC (host:4317, plain
// text). It is not safe for concurrent use.
type OTLP struct {
	base   string // HTTP base URL, "" for gRPC
	client *http.Client
	conn   *grpc.ClientConn
	m      pmetricotlp.GRPCClient
	l      plogotlp.GRPCClient
	t      ptraceotlp.GRPCClient
}

// NewOTLP connects to addr.
func NewOTLP(addr string) (*OTLP, error) {
	if addr == "" {
		return nil, errors.New("export: an OTLP address is needed (http://host:4318 or host:4317)")
	}
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return &OTLP{base: strings.TrimSuffix(addr, "/"), client: &http.Client{Timeout: 30 * time.Second}}, nil
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("export: connecting to OTLP gRPC %s: %w", addr, err)
	}
	return &OTLP{conn: conn, m: pmetricotlp.NewGRPCClient(conn), l: plogotlp.NewGRPCClient(conn), t: ptraceotlp.NewGRPCClient(conn)}, nil
}

// Close closes the connection.
func (o *OTLP) Close() error {
	if o.conn != nil {
		return o.conn.Close()
	}
	return nil
}

// Send sends one batch; each kind of signal goes in one request.
func (o *OTLP) Send(ctx context.Context, b signal.Batch) error {
	var errs []error
	if len(b.Samples) > 0 {
		req := pmetricotlp.NewExportRequestFromMetrics(Metrics(b.Samples))
		if o.conn != nil {
			_, err := o.m.Export(ctx, req)
			errs = append(errs, err)
		} else {
			errs = append(errs, o.post(ctx, "/v1/metrics", req.MarshalProto))
		}
	}
	if len(b.Logs) > 0 || len(b.Events) > 0 {
		req := plogotlp.NewExportRequestFromLogs(Logs(b.Logs, b.Events))
		if o.conn != nil {
			_, err := o.l.Export(ctx, req)
			errs = append(errs, err)
		} else {
			errs = append(errs, o.post(ctx, "/v1/logs", req.MarshalProto))
		}
	}
	if len(b.Spans) > 0 {
		req := ptraceotlp.NewExportRequestFromTraces(Traces(b.Spans))
		if o.conn != nil {
			_, err := o.t.Export(ctx, req)
			errs = append(errs, err)
		} else {
			errs = append(errs, o.post(ctx, "/v1/traces", req.MarshalProto))
		}
	}
	return errors.Join(errs...)
}

func (o *OTLP) post(ctx context.Context, path string, marshal func() ([]byte, error)) error {
	body, err := marshal()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("export: OTLP POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("export: OTLP POST %s: %s", path, resp.Status)
	}
	return nil
}

// resourceKey is who a signal is about: an entity, and a replica of it.
type resourceKey struct{ entity, instance string }

func setResource(r pcommon.Resource, k resourceKey) {
	a := r.Attributes()
	if h, ok := strings.CutPrefix(k.entity, "host:"); ok {
		a.PutStr("host.name", h)
		return
	}
	a.PutStr("service.name", k.entity)
	if k.instance != "" {
		a.PutStr("service.instance.id", k.instance)
	}
}

func stamp(t time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t) }

// Metrics turns samples into OTLP gauges, one resource per entity and replica.
func Metrics(samples []signal.Sample) pmetric.Metrics {
	md := pmetric.NewMetrics()
	scopes := make(map[resourceKey]pmetric.MetricSlice)
	for _, s := range samples {
		k := resourceKey{s.Entity, s.Labels["instance"]}
		ms, ok := scopes[k]
		if !ok {
			rm := md.ResourceMetrics().AppendEmpty()
			setResource(rm.Resource(), k)
			sm := rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName("seer/sim")
			ms = sm.Metrics()
			scopes[k] = ms
		}
		m := ms.AppendEmpty()
		m.SetName(s.Name)
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(stamp(s.Time))
		dp.SetDoubleValue(s.Value)
		for lk, lv := range s.Labels {
			if lk != "instance" {
				dp.Attributes().PutStr(lk, lv)
			}
		}
	}
	return md
}

var severityNumbers = map[signal.Severity]plog.SeverityNumber{
	signal.SeverityDebug: plog.SeverityNumberDebug, signal.SeverityInfo: plog.SeverityNumberInfo,
	signal.SeverityWarn: plog.SeverityNumberWarn, signal.SeverityError: plog.SeverityNumberError,
	signal.SeverityFatal: plog.SeverityNumberFatal,
}

// Logs turns log lines, and change events as log records with the event's
// kind in the attribute "event.kind", into OTLP logs.
func Logs(logs []signal.LogRecord, events []signal.Event) plog.Logs {
	ld := plog.NewLogs()
	scopes := make(map[string]plog.LogRecordSlice)
	slice := func(entity string) plog.LogRecordSlice {
		ls, ok := scopes[entity]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			setResource(rl.Resource(), resourceKey{entity: entity})
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("seer/sim")
			ls = sl.LogRecords()
			scopes[entity] = ls
		}
		return ls
	}
	for _, l := range logs {
		r := slice(l.Entity).AppendEmpty()
		r.SetTimestamp(stamp(l.Time))
		r.SetSeverityNumber(severityNumbers[l.Severity])
		r.SetSeverityText(strings.ToUpper(string(l.Severity)))
		r.Body().SetStr(l.Body)
		if id, ok := traceID(l.TraceID); ok {
			r.SetTraceID(id)
		}
	}
	for _, e := range events {
		r := slice(e.Entity).AppendEmpty()
		r.SetTimestamp(stamp(e.Time))
		r.SetSeverityNumber(plog.SeverityNumberInfo)
		r.Body().SetStr(e.Text)
		r.Attributes().PutStr("event.kind", string(e.Kind))
		for k, v := range e.Attrs {
			r.Attributes().PutStr(k, v)
		}
	}
	return ld
}

func traceID(s string) (pcommon.TraceID, bool) {
	var id pcommon.TraceID
	if len(s) != 32 {
		return id, false
	}
	_, err := hex.Decode(id[:], []byte(s))
	return id, err == nil
}

func spanID(s string) (pcommon.SpanID, bool) {
	var id pcommon.SpanID
	if len(s) != 16 {
		return id, false
	}
	_, err := hex.Decode(id[:], []byte(s))
	return id, err == nil
}

var spanKinds = map[signal.SpanKind]ptrace.SpanKind{
	signal.SpanServer: ptrace.SpanKindServer, signal.SpanClient: ptrace.SpanKindClient,
	signal.SpanInternal: ptrace.SpanKindInternal, signal.SpanProducer: ptrace.SpanKindProducer,
	signal.SpanConsumer: ptrace.SpanKindConsumer,
}

// Traces turns spans into OTLP traces, one resource per service.
func Traces(spans []signal.Span) ptrace.Traces {
	td := ptrace.NewTraces()
	scopes := make(map[string]ptrace.SpanSlice)
	for _, s := range spans {
		ss, ok := scopes[s.Service]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			setResource(rs.Resource(), resourceKey{entity: s.Service})
			sc := rs.ScopeSpans().AppendEmpty()
			sc.Scope().SetName("seer/sim")
			ss = sc.Spans()
			scopes[s.Service] = ss
		}
		sp := ss.AppendEmpty()
		if id, ok := traceID(s.TraceID); ok {
			sp.SetTraceID(id)
		}
		if id, ok := spanID(s.SpanID); ok {
			sp.SetSpanID(id)
		}
		if id, ok := spanID(s.ParentID); ok {
			sp.SetParentSpanID(id)
		}
		sp.SetName(s.Operation)
		sp.SetKind(spanKinds[s.Kind])
		sp.SetStartTimestamp(stamp(s.Start))
		sp.SetEndTimestamp(stamp(s.End()))
		if s.Status == signal.StatusError {
			sp.Status().SetCode(ptrace.StatusCodeError)
		} else {
			sp.Status().SetCode(ptrace.StatusCodeOk)
		}
		for k, v := range s.Attrs {
			sp.Attributes().PutStr(k, v)
		}
	}
	return td
}
