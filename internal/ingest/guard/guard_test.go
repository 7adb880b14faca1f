package guard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(10, 2, 2)
	t0 := time.Unix(0, 0)
	f := func(src string, at time.Duration, want bool) {
		t.Helper()
		if got := l.allow(src, t0.Add(at)); got != want {
			t.Errorf("allow(%s, %s) = %v; want %v", src, at, got, want)
		}
	}
	f("a", 0, true)
	f("a", 0, true)
	f("a", 0, false) // burst of 2 spent
	f("a", 100*time.Millisecond, true)
	f("b", 0, true)
	// Two sources fill the table; c shares the overflow bucket.
	f("c", 0, true)
	f("d", 0, true)
	f("d", 0, false)
	// Once a and b are idle long enough, they are forgotten and e fits.
	f("e", time.Second, true)
	if len(l.buckets) > 2 {
		t.Errorf("%d buckets; want at most 2", len(l.buckets))
	}
}

func TestAdmitShed(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxInFlight = 1
	g, err := New("test", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	release, err := g.Admit("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Admit("b"); AsProblem(err).Status != http.StatusServiceUnavailable {
		t.Errorf("second admit: %v; want 503", err)
	}
	release()
	r2, err := g.Admit("b")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	r2()
}

func TestRead(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 1024
	g, _ := New("test", cfg, nil)
	f := func(body string, enc string, status int) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Encoding", enc)
		b, err := g.Read(req, false)
		switch {
		case status == 0 && err != nil:
			t.Errorf("Read: %v", err)
		case status == 0 && string(b.Bytes) != body:
			t.Errorf("Read = %q; want %q", b.Bytes, body)
		case status != 0 && (err == nil || AsProblem(err).Status != status):
			t.Errorf("Read(%d bytes, %q) error %v; want status %d", len(body), enc, err, status)
		}
		if b != nil {
			b.Release()
		}
	}
	f("hello", "", 0)
	f(strings.Repeat("x", 1024), "", 0)
	f(strings.Repeat("x", 1025), "", http.StatusRequestEntityTooLarge)
	f("hello", "gzip", http.StatusBadRequest)
	f("hello", "zstd", http.StatusUnsupportedMediaType)
}

func TestValidate(t *testing.T) {
	err := Config{RatePerSource: -1}.Validate()
	for _, w := range []string{"max_body_bytes", "rate_per_source", "max_in_flight", "max_sources", "sink_timeout"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v; want it to mention %s", err, w)
		}
	}
}

func BenchmarkAdmit(b *testing.B) {
	g, _ := New("bench", DefaultConfig(), nil)
	g.cfg.RatePerSource = 1e12
	g.lim.rate = 1e12
	b.ReportAllocs()
	for b.Loop() {
		release, err := g.Admit("127.0.0.1")
		if err != nil {
			b.Fatal(err)
		}
		release()
	}
}
