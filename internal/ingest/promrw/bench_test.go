package promrw

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"

	"github.com/seerops/seer/internal/signal"
)

type counter struct{ n atomic.Int64 }

func (c *counter) Ingest(_ context.Context, b *signal.Batch) error {
	c.n.Add(int64(b.Len()))
	return nil
}

// scrape is a request of n series as Prometheus sends them (one sample
// each, five labels): 40% gauges, 40% counters, 20% histogram buckets.
func scrape(n int, ms int64) []byte {
	ss := make([]Series, 0, n)
	les := []string{"0.05", "0.1", "0.5", "1", "+Inf"}
	for i := range n {
		svc := fmt.Sprintf("svc-%d", i%10)
		lbl := []string{"__name__", "", "instance", svc + ":9090", "job", svc, "pod", fmt.Sprintf("%s-%d", svc, i%3), "code", fmt.Sprint(200 + i%5)}
		switch i % 5 {
		case 0, 1:
			lbl[1] = fmt.Sprintf("gauge_%d", i%7)
		case 2, 3:
			lbl[1] = fmt.Sprintf("requests_%d_total", i%7)
		default:
			lbl[1] = "latency_seconds_bucket"
			lbl = append(lbl, "le", les[(i/5)%len(les)])
		}
		ss = append(ss, Series{Labels: lbl, Samples: []Sample{{float64(ms / 1000), ms}}})
	}
	return snappy.Encode(nil, Encode(ss))
}

func BenchmarkWrite(b *testing.B) {
	const perBody = 2000
	cfg := DefaultConfig()
	cfg.Limits.RatePerSource = 0
	sink := &counter{}
	r, err := New(cfg, sink, quiet(), nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	bodies := make([][]byte, 32)
	for i := range bodies {
		bodies[i] = scrape(perBody, int64(i)*15000)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var seq, sent atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(2)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/write", bytes.NewReader(bodies[int(seq.Add(1))%len(bodies)]))
			req.Header.Set("Content-Type", "application/x-protobuf")
			req.Header.Set("Content-Encoding", "snappy")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			sent.Add(perBody)
			if resp.StatusCode != http.StatusNoContent {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(sent.Load())/secs, "samples/s")
	b.ReportMetric(float64(sink.n.Load())/secs, "signals/s")
}

// FuzzDecode feeds arbitrary WriteRequest bytes (uncompressed) to the
// decoder and converter: they must fail cleanly, never panic.
func FuzzDecode(f *testing.F) {
	f.Add(Encode([]Series{{Labels: []string{"__name__", "x_bucket", "le", "+Inf", "job", "a"}, Samples: []Sample{{1, 1}}}}))
	f.Add(Encode([]Series{{Labels: []string{"__name__", "x_total", "service", "a"}, Samples: []Sample{{1, 1}, {2, 1000}}}}))
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	cfg := DefaultConfig()
	cfg.Series.MaxSeries = 1000
	r, err := New(cfg, &counter{}, quiet(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = r.ingest(context.Background(), data)
	})
}
