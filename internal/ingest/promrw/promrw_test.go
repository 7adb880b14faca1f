package promrw

import (
	"bytes"
	"context"
	"fmt"
	"google.golang.org/protobuf/encoding/protowire"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/seerops/seer/internal/ingest/binarytest"
	"github.com/seerops/seer/internal/signal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type recorder struct {
	mu      sync.Mutex
	samples []signal.Sample
	got     chan struct{}
}

func newRecorder() *recorder { return &recorder{got: make(chan struct{}, 1)} }

func (r *recorder) Ingest(_ context.Context, b *signal.Batch) error {
	r.mu.Lock()
	r.samples = append(r.samples, b.Samples...)
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) find(name string) []signal.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []signal.Sample
	for _, s := range r.samples {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func post(t *testing.T, h http.Handler, body []byte, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func write(ss ...Series) []byte { return snappy.Encode(nil, Encode(ss)) }

func TestConvert(t *testing.T) {
	rec := newRecorder()
	r, err := New(DefaultConfig(), rec, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Handler()
	s := func(name string, v float64, ms int64, labels ...string) Series {
		return Series{Labels: append([]string{"__name__", name}, labels...), Samples: []Sample{{v, ms}}}
	}
	// Scrape 1, with the histogram's buckets split over two requests as
	// Prometheus's shards may send them.
	for _, body := range [][]byte{
		write(s("up", 1, 1000, "job", "cart", "instance", "cart:8080"),
			s("http_requests_total", 100, 1000, "service", "checkout", "job", "shop", "code", "200"),
			s("lat_seconds_bucket", 0, 1000, "job", "cart", "le", "0.1")),
		write(s("lat_seconds_bucket", 0, 1000, "job", "cart", "le", "0.5"),
			s("lat_seconds_bucket", 0, 1000, "job", "cart", "le", "+Inf")),
		// Scrape 2, ten seconds later: its first bucket closes scrape 1.
		write(s("http_requests_total", 200, 11000, "service", "checkout", "job", "shop", "code", "200"),
			s("lat_seconds_bucket", 10, 11000, "job", "cart", "le", "0.1"),
			s("lat_seconds_bucket", 100, 11000, "job", "cart", "le", "0.5")),
		write(s("lat_seconds_bucket", 100, 11000, "job", "cart", "le", "+Inf"),
			s("stale", staleNaN(), 11000, "job", "cart")),
	} {
		if w := post(t, h, body); w.Code != http.StatusNoContent {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
	f := func(name string, entity string, want float64, labels map[string]string) {
		t.Helper()
		got := rec.find(name)
		if len(got) != 1 || got[0].Entity != entity || math.Abs(got[0].Value-want) > 1e-12 || fmt.Sprint(got[0].Labels) != fmt.Sprint(labels) {
			t.Errorf("%s: got %+v; want one sample of %s = %g with labels %v", name, got, entity, want, labels)
		}
	}
	f("up", "cart", 1, map[string]string{"instance": "cart:8080"})
	f("http_requests_rate", "checkout", 10, map[string]string{"job": "shop", "code": "200"})
	f("lat_seconds_rate", "cart", 10, nil)
	f("lat_seconds_p50", "cart", 0.1+0.4*40.0/90, nil)
	f("lat_seconds_p99", "cart", 0.1+0.4*89.0/90, nil)
	if got := rec.find("stale"); len(got) != 0 {
		t.Errorf("a staleness marker became %+v", got)
	}
	if got := testutil.ToFloat64(r.guard.Requests("accepted")); got != 4 {
		t.Errorf("accepted %g; want 4", got)
	}
}

func staleNaN() float64 { return math.Float64frombits(0x7ff0000000000002) }

func TestErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.MaxBodyBytes = 4096
	r, err := New(cfg, newRecorder(), quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Handler()
	f := func(w *httptest.ResponseRecorder, code int, msg string) {
		t.Helper()
		if w.Code != code || !strings.Contains(w.Body.String(), msg) {
			t.Errorf("got %d %q; want %d containing %q", w.Code, w.Body.String(), code, msg)
		}
	}
	f(post(t, h, []byte("not snappy")), 400, "snappy")
	f(post(t, h, snappy.Encode(nil, []byte{0x0a, 0xff})), 400, "not a remote_write WriteRequest")
	f(post(t, h, write(Series{Labels: []string{"job", "x"}, Samples: []Sample{{1, 1}}})), 400, "no __name__")
	f(post(t, h, write(), "Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request"), 415, "version 1")
	f(post(t, h, write(), "Content-Encoding", "zstd"), 415, "snappy")
	// Without its Content-Type a browser could post it from any site.
	f(post(t, h, write(), "Content-Type", ""), 415, "send application/x-protobuf")
	f(post(t, h, write(), "Content-Type", "text/plain"), 415, "send application/x-protobuf")
	f(post(t, h, snappy.Encode(nil, make([]byte, 5000))), 413, "over 4096")
	f(post(t, h, write()), 204, "")
}

// TestInvalidEntityDropped sends the injection target of issue 17 as a job
// beside a valid series: the bad series is dropped and counted, the other
// kept.
func TestInvalidEntityDropped(t *testing.T) {
	rec := newRecorder()
	r, err := New(DefaultConfig(), rec, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := post(t, r.Handler(), write(
		Series{Labels: []string{"__name__", "up", "job", "127.0.0.1:9999?$(touch${IFS}pwned)"}, Samples: []Sample{{1, 1}, {2, 1}}},
		Series{Labels: []string{"__name__", "up", "job", "cart"}, Samples: []Sample{{1, 1}}},
	))
	if w.Code != 204 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if got := testutil.ToFloat64(r.guard.DroppedItems("bad_entity")); got != 2 {
		t.Errorf("dropped bad_entity = %g; want 2", got)
	}
	if ss := rec.find("up"); len(ss) != 1 || ss[0].Entity != "cart" {
		t.Errorf("samples %+v; want cart's", ss)
	}
}

// TestPrometheus runs a real Prometheus that scrapes a client_golang
// target and remote-writes to the receiver.
func TestPrometheus(t *testing.T) {
	bin := binarytest.Find(t, "prometheus", "prometheus", "/usr/bin/prometheus")
	rec := newRecorder()
	r, err := New(DefaultConfig(), rec, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	seer := httptest.NewServer(r.Handler())
	defer seer.Close()

	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_requests_total", Help: "requests"}, []string{"code"})
	lat := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "shop_latency_seconds", Help: "latency", Buckets: []float64{0.1, 0.5, 1}})
	reg.MustRegister(reqs, lat)
	var mu sync.Mutex
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	// Every scrape sees more traffic, so rates and quantiles come out.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		reqs.WithLabelValues("200").Add(50)
		for range 50 {
			lat.Observe(0.3)
		}
		mu.Unlock()
		metrics.ServeHTTP(w, req)
	}))
	defer target.Close()

	dir := t.TempDir()
	addr := binarytest.FreeAddr(t)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: [%q]
        labels:
          service: checkout
remote_write:
  - url: %s/api/v1/write
    queue_config:
      batch_send_deadline: 100ms
      min_backoff: 50ms
      max_backoff: 200ms
`, strings.TrimPrefix(target.URL, "http://"), seer.URL)
	conf := binarytest.Write(t, dir, "prometheus.yml", cfg)
	binarytest.Start(t, bin, addr, "/-/ready",
		"--config.file="+conf, "--enable-feature=agent", "--storage.agent.path="+dir+"/data",
		"--web.listen-address="+addr)

	deadline := time.After(40 * time.Second)
	for len(rec.find("shop_latency_seconds_p50")) == 0 || len(rec.find("shop_requests_rate")) == 0 {
		select {
		case <-rec.got:
		case <-deadline:
			t.Fatalf("no rate and quantile from Prometheus in 40s; got %d samples", len(rec.samples))
		}
	}
	up := rec.find("up")
	if len(up) == 0 || up[0].Entity != "checkout" || up[0].Value != 1 || up[0].Labels["job"] != "shop" {
		t.Errorf("up: %+v; want checkout up=1 with job=shop", up)
	}
	if r := rec.find("shop_requests_rate"); r[0].Entity != "checkout" || r[0].Value <= 0 || r[0].Labels["code"] != "200" {
		t.Errorf("rate: %+v", r[0])
	}
	if p := rec.find("shop_latency_seconds_p50"); p[0].Value <= 0.1 || p[0].Value > 0.5 {
		t.Errorf("p50: %+v; want in (0.1, 0.5]", p[0])
	}
}

// A counter without the _total suffix, declared one by the metadata
// Prometheus sends, becomes a non-negative rate; a gauge stays as it is.
func TestMetadataCounter(t *testing.T) {
	rec := newRecorder()
	r, err := New(DefaultConfig(), rec, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Handler()
	s := func(name string, v float64, ms int64) Series {
		return Series{Labels: []string{"__name__", name, "job", "node"}, Samples: []Sample{{v, ms}}}
	}
	for _, body := range [][]byte{
		snappy.Encode(nil, EncodeCounters("node_netstat_Tcp_RetransSegs")),
		write(s("node_netstat_Tcp_RetransSegs", 1000, 1000), s("node_netstat_Tcp_CurrEstab", 7, 1000)),
		write(s("node_netstat_Tcp_RetransSegs", 1150, 16000), s("node_netstat_Tcp_CurrEstab", 9, 16000)),
		// The counter restarts (the host rebooted): no negative rate.
		write(s("node_netstat_Tcp_RetransSegs", 30, 31000)),
	} {
		if w := post(t, h, body); w.Code != http.StatusNoContent {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
	if got := rec.find("node_netstat_Tcp_RetransSegs"); len(got) != 0 {
		t.Errorf("the counter passed as a gauge: %+v", got)
	}
	rates := rec.find("node_netstat_Tcp_RetransSegs_rate")
	if len(rates) != 2 || rates[0].Value != 10 || rates[1].Value != 2 {
		t.Errorf("rates %+v; want 10/s then 2/s after the reset", rates)
	}
	if got := rec.find("node_netstat_Tcp_CurrEstab"); len(got) != 2 || got[1].Value != 9 {
		t.Errorf("the gauge: %+v", got)
	}
}

// An untyped family (node_exporter's netstat counters) is judged by its
// data: whole values that never fall and mostly rise are a counter, and
// become a rate once judged; a family declared a gauge is a gauge however
// it climbs.
func TestMonotonicUntyped(t *testing.T) {
	rec := newRecorder()
	r, err := New(DefaultConfig(), rec, quiet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Handler()
	if w := post(t, h, snappy.Encode(nil, encodeMeta(map[string]uint64{"node_netstat_Udp_InDatagrams": 0, "node_memory_Active_bytes": 2}))); w.Code != http.StatusNoContent {
		t.Fatalf("metadata: %d %s", w.Code, w.Body.String())
	}
	s := func(name string, v float64, ms int64) Series {
		return Series{Labels: []string{"__name__", name, "job", "node"}, Samples: []Sample{{v, ms}}}
	}
	for i := range 12 {
		ms := int64(i) * 15000
		body := write(
			s("node_netstat_Udp_InDatagrams", float64(1000+150*i), ms),
			s("node_memory_Active_bytes", float64(4096*(100+i)), ms),
			s("node_sockstat_TCP_inuse", float64(10+i%3), ms),
		)
		if w := post(t, h, body); w.Code != http.StatusNoContent {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
	if rates := rec.find("node_netstat_Udp_InDatagrams_rate"); len(rates) < 3 || rates[len(rates)-1].Value != 10 {
		t.Errorf("the untyped counter's rates: %+v; want 10/s once judged", rates)
	}
	if g := rec.find("node_memory_Active_bytes"); len(g) != 12 || len(rec.find("node_memory_Active_bytes_rate")) != 0 {
		t.Errorf("a declared gauge became a rate: %d gauge samples", len(g))
	}
	if g := rec.find("node_sockstat_TCP_inuse"); len(g) != 12 {
		t.Errorf("an untyped gauge that falls: %d samples, want all 12 as they are", len(g))
	}
}

func encodeMeta(types map[string]uint64) []byte {
	var out []byte
	for f, typ := range types {
		var sub []byte
		sub = protowire.AppendTag(sub, 1, protowire.VarintType)
		sub = protowire.AppendVarint(sub, typ)
		sub = protowire.AppendTag(sub, 2, protowire.BytesType)
		sub = protowire.AppendString(sub, f)
		out = protowire.AppendTag(out, 3, protowire.BytesType)
		out = protowire.AppendBytes(out, sub)
	}
	return out
}
