package scrape

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

const exposition = `# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{code="200"} %d
http_requests_total{code="500"} 7
# TYPE queue_depth gauge
queue_depth 4
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} %d
latency_seconds_bucket{le="1"} %d
latency_seconds_bucket{le="+Inf"} %d
latency_seconds_sum 10
latency_seconds_count %d
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.2
rpc_seconds{quantile="0.99"} 0.9
rpc_seconds_sum 3
rpc_seconds_count %d
plain_untyped 1.5
`

// fakeClock steps by a fixed amount on every reading after the first of a
// scrape, so that rates come out exact.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func index(smp []signal.Sample) map[string]float64 {
	m := map[string]float64{}
	for _, s := range smp {
		k := s.Name
		if c := s.Labels["code"]; c != "" {
			k += "{" + c + "}"
		}
		m[k] = s.Value
	}
	return m
}

func TestScrape(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		// Between the two scrapes 100 requests, 90 of them fast, 10 slow.
		req, fastN, total := 1000+100*(i-1), 50+90*(i-1), 60+100*(i-1)
		fmt.Fprintf(w, exposition, req, fastN, total, total, total, 10*i)
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Targets = []Target{{URL: srv.URL, Entity: "shop/web-1", Labels: map[string]string{"zone": "a"}}}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s.now = clk.now
	first, err := s.Scrape(context.Background(), cfg.Targets[0])
	if err != nil {
		t.Fatal(err)
	}
	got := index(first)
	if got["up"] != 1 || got["queue_depth"] != 4 || got["plain_untyped"] != 1.5 || got["rpc_seconds_p99"] != 0.9 {
		t.Errorf("first scrape %v", got)
	}
	if _, ok := got["http_requests_rate{200}"]; ok {
		t.Error("a rate from a single point")
	}
	clk.set(time.Unix(1010, 0))
	second, err := s.Scrape(context.Background(), cfg.Targets[0])
	if err != nil {
		t.Fatal(err)
	}
	got = index(second)
	f := func(name string, want float64) {
		t.Helper()
		if v, ok := got[name]; !ok || math.Abs(v-want) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	f("http_requests_rate{200}", 10) // 100 in 10 s
	f("http_requests_rate{500}", 0)
	f("latency_seconds_rate", 10)
	f("latency_seconds_p50", 0.1*50/90) // the median of the window is in the fast bucket
	f("rpc_seconds_rate", 1)
	f("up", 1)
	for _, smp := range second {
		if smp.Entity != "shop/web-1" || smp.Labels["zone"] != "a" || !smp.Time.Equal(time.Unix(1010, 0)) {
			t.Errorf("sample %+v lacks the target's entity, labels or the scrape time", smp)
		}
	}
	if st := s.Stats(); st.Scrapes != 2 || st.Failures != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestScrapeFailures(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			select {
			case <-block:
			case <-r.Context().Done():
			}
		case "/500":
			http.Error(w, "no", 500)
		case "/garbage":
			fmt.Fprint(w, "this is { not metrics\n")
		case "/big":
			fmt.Fprint(w, strings.Repeat("# comment line that is long enough\n", 100))
		}
	}))
	defer srv.Close()
	defer close(block)
	cfg := DefaultConfig()
	cfg.Timeout, cfg.MaxBody = 200*time.Millisecond, 1024
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := func(path, wantErr string) {
		t.Helper()
		start := time.Now()
		smp, err := s.Scrape(context.Background(), Target{URL: srv.URL + path, Entity: "svc"})
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: err %v, want %q", path, err, wantErr)
		}
		if got := index(smp); len(smp) != 2 || got["up"] != 0 {
			t.Errorf("%s: samples %v, want up=0 and the duration", path, got)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s took %s with a timeout of %s", path, took, cfg.Timeout)
		}
	}
	f("/hang", "deadline exceeded")
	f("/500", "500")
	f("/garbage", "parsing the metrics")
	f("/big", "max_body")
	if st := s.Stats(); st.Failures != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "g 1") }))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Interval, cfg.Timeout = 10*time.Millisecond, 10*time.Millisecond
	cfg.Targets = []Target{{URL: srv.URL + "/a", Entity: "a"}, {URL: srv.URL + "/b", Entity: "b"}}
	s, _ := New(cfg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	seen := map[string]int{}
	done := make(chan struct{})
	go func() {
		s.Run(ctx, func(_ context.Context, b *signal.Batch) error {
			mu.Lock()
			defer mu.Unlock()
			for _, smp := range b.Samples {
				seen[smp.Entity+"/"+smp.Name]++
			}
			if seen["a/g"] >= 3 && seen["b/g"] >= 3 {
				cancel()
			}
			return nil
		})
		close(done)
	}()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if seen["a/up"] < 3 || seen["b/up"] < 3 {
		t.Errorf("seen %v", seen)
	}
}

func TestConfigValidate(t *testing.T) {
	f := func(mod func(*Config), want ...string) {
		t.Helper()
		c := DefaultConfig()
		mod(&c)
		err := c.Validate()
		if len(want) == 0 {
			if err != nil {
				t.Errorf("unexpected %v", err)
			}
			return
		}
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("err %v, want %q", err, w)
			}
		}
	}
	f(func(c *Config) {})
	f(func(c *Config) { c.Timeout = time.Minute }, "timeout must be positive and at most the interval")
	f(func(c *Config) {
		c.Targets = []Target{{URL: "ftp://x", Entity: "a"}, {URL: "http://h/m"}, {URL: "http://h/m", Entity: "b"}}
	}, `targets[0].url "ftp://x"`, "targets[1].entity is empty", "targets[2].url \"http://h/m\" is already targets[1]")
	f(func(c *Config) { c.Interval, c.MaxSamples = 0, 0 }, "interval must be positive", "max_samples")
	f(func(c *Config) { c.Targets = []Target{{URL: "http://h/m", Entity: "cart; rm -rf /"}} }, "targets[0].entity: the entity")
}

func FuzzConvert(f *testing.F) {
	f.Add(fmt.Sprintf(exposition, 1, 2, 3, 3, 3, 4))
	f.Add("a 1\nb{x=\"y\"} NaN\n")
	f.Add("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_count 1\nh_sum 2\n")
	s, _ := New(DefaultConfig(), nil)
	f.Fuzz(func(t *testing.T, text string) {
		fams, err := Parse(strings.NewReader(text))
		if err != nil {
			return
		}
		tg := Target{URL: "http://x", Entity: "e"}
		for i := range 2 {
			for _, smp := range s.convert(fams, tg, time.Unix(int64(100+i), 0)) {
				if math.IsNaN(smp.Value) || math.IsInf(smp.Value, 0) || smp.Entity != "e" {
					t.Fatalf("bad sample %+v", smp)
				}
			}
		}
	})
}

func BenchmarkConvert(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("# TYPE reqs_total counter\n")
	for i := range 500 {
		fmt.Fprintf(&sb, "reqs_total{path=\"/p%d\"} %d\n", i, i*10)
	}
	sb.WriteString("# TYPE g gauge\n")
	for i := range 500 {
		fmt.Fprintf(&sb, "g{i=\"%d\"} %d\n", i, i)
	}
	text := sb.String()
	s, _ := New(DefaultConfig(), nil)
	tg := Target{URL: "http://x", Entity: "e"}
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	i := 0
	for b.Loop() {
		i++
		fams, err := Parse(strings.NewReader(text))
		if err != nil {
			b.Fatal(err)
		}
		_ = s.convert(fams, tg, time.Unix(int64(i), 0))
	}
}
