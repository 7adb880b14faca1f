package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func values(smp []signal.Sample) map[string]float64 {
	m := map[string]float64{}
	for _, s := range smp {
		m[s.Name] = s.Value
	}
	return m
}

func TestProbe(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("ok"))
		case "/hang":
			select {
			case <-block:
			case <-r.Context().Done():
			}
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		default:
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	defer close(block)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()

	cfg := DefaultConfig()
	cfg.Timeout = 300 * time.Millisecond
	p, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := func(tg Target, ok float64, code float64, slow bool, wantErr string) {
		t.Helper()
		tg.Entity = "svc"
		start := time.Now()
		smp, err := p.Probe(context.Background(), tg)
		v := values(smp)
		if v[NameSuccess] != ok || v[NameStatus] != code {
			t.Errorf("%s: %v, want success %v code %v", tg.URL, v, ok, code)
		}
		if lat := v[NameLatency]; slow != (lat >= 300) {
			t.Errorf("%s: latency %vms", tg.URL, lat)
		}
		if (err == nil) != (wantErr == "") || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: err %v, want %q", tg.URL, err, wantErr)
		}
		if time.Since(start) > 3*time.Second {
			t.Errorf("%s: took %s", tg.URL, time.Since(start))
		}
		for _, s := range smp {
			if s.Entity != "svc" || !s.Time.Equal(smp[0].Time) {
				t.Errorf("sample %+v", s)
			}
		}
	}
	f(Target{URL: srv.URL + "/ok"}, 1, 200, false, "")
	f(Target{URL: srv.URL + "/down"}, 0, 503, false, "answered 503")
	f(Target{URL: srv.URL + "/teapot", Status: []int{418}}, 1, 418, false, "")
	f(Target{URL: srv.URL + "/hang"}, 0, 0, true, "deadline exceeded")
	f(Target{URL: closed}, 0, 0, true, "refused")
	if n, fails := p.Counts(); n != 5 || fails != 3 {
		t.Errorf("counts %d %d", n, fails)
	}
}

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	cfg := Config{Interval: 10 * time.Millisecond, Timeout: 10 * time.Millisecond, Targets: []Target{{URL: srv.URL, Entity: "a"}}}
	p, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	n := 0
	p.Run(ctx, func(_ context.Context, b *signal.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if n != 3 {
		t.Errorf("%d rounds", n)
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{Interval: time.Second, Timeout: 2 * time.Second, Targets: []Target{{URL: "x"}, {URL: "http://a/", Entity: "a", Method: "PUT", Status: []int{42}}, {URL: "http://b/", Entity: "$(id)"}}}
	err := c.Validate()
	for _, want := range []string{"timeout must be positive", `targets[0].url "x"`, "targets[0].entity is empty", `targets[1].method "PUT"`, "targets[1].status 42", "targets[2].entity: the entity"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v, want %q", err, want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}

func BenchmarkProbe(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p, _ := New(DefaultConfig(), nil)
	tg := Target{URL: srv.URL, Entity: "a"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Probe(context.Background(), tg); err != nil {
			b.Fatal(err)
		}
	}
}
