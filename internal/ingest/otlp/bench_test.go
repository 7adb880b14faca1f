package otlp

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/seerops/seer/internal/signal"
)

// counter is a sink that only counts.
type counter struct{ n atomic.Int64 }

func (c *counter) Ingest(_ context.Context, b *signal.Batch) error {
	c.n.Add(int64(b.Len()))
	return nil
}

// metricsBody is an export request of n points: half gauges, half
// cumulative counters, over 10 services and 10 label values.
func metricsBody(n int, at time.Time) []byte {
	md := pmetric.NewMetrics()
	for s := range 10 {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", s))
		rm.Resource().Attributes().PutStr("service.instance.id", fmt.Sprintf("svc-%d-1", s))
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		g := ms.AppendEmpty()
		g.SetName("queue_depth")
		sum := ms.AppendEmpty()
		sum.SetName("requests_total")
		sum.SetEmptySum().SetIsMonotonic(true)
		sum.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		gd := g.SetEmptyGauge().DataPoints()
		for i := range n / 20 {
			dp := gd.AppendEmpty()
			dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
			dp.SetDoubleValue(float64(i))
			dp.Attributes().PutStr("queue", fmt.Sprint(i))
			dp = sum.Sum().DataPoints().AppendEmpty()
			dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
			dp.SetIntValue(int64(at.Unix()))
			dp.Attributes().PutStr("code", fmt.Sprint(i))
		}
	}
	b, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	return b
}

func logsBody(n int) []byte {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(1_700_000_000, int64(i))))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.Body().SetStr(fmt.Sprintf("request %d served in %d ms by worker 7", i, i%300))
	}
	b, _ := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	return b
}

// benchHTTP posts bodies to path over loopback from parallel clients and
// reports the points sent and the signals the sink received per second
// (cumulative counters yield a rate only when their time advances).
func benchHTTP(b *testing.B, path string, bodies [][]byte, perBody int) {
	cfg := DefaultConfig()
	cfg.Limits.RatePerSource = 0
	sink := &counter{}
	r, err := New(cfg, sink, quiet(), nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var seq, sent atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(2)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[int(seq.Add(1))%len(bodies)]
			resp, err := client.Post(srv.URL+path, "application/x-protobuf", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			sent.Add(int64(perBody))
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(sent.Load())/secs, "points/s")
	b.ReportMetric(float64(sink.n.Load())/secs, "signals/s")
}

func BenchmarkHTTPMetrics(b *testing.B) {
	bodies := make([][]byte, 16)
	for i := range bodies {
		bodies[i] = metricsBody(1000, time.Unix(1_700_000_000+int64(i)*10, 0))
	}
	benchHTTP(b, "/v1/metrics", bodies, 1000)
}

func BenchmarkHTTPLogs(b *testing.B) {
	benchHTTP(b, "/v1/logs", [][]byte{logsBody(1000)}, 1000)
}
