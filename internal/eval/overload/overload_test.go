//go:build linux

package overload

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// TestBodies: every class's bodies are what they claim, decoded by pdata
// (OTLP) or snappy (remote_write): the number of items, and big ones of
// several MiB.
func TestBodies(t *testing.T) {
	for _, c := range classes(500, 100_000, time.Now()) {
		if len(c.bodies) != variants {
			t.Errorf("%s: %d bodies, want %d", c.name, len(c.bodies), variants)
		}
		b := c.bodies[0]
		var items int
		switch {
		case c.proto == remoteWrite:
			raw, err := snappy.Decode(nil, b)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if c.big && len(raw) < 2<<20 {
				t.Errorf("%s: %d bytes decoded, want several MiB", c.name, len(raw))
			}
			continue
		case c.path == "/v1/logs":
			req := plogotlp.NewExportRequest()
			if err := req.UnmarshalProto(b); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			items = req.Logs().LogRecordCount()
		default:
			req := pmetricotlp.NewExportRequest()
			if err := req.UnmarshalProto(b); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			items = req.Metrics().DataPointCount()
		}
		if items != c.items {
			t.Errorf("%s: %d items, want %d", c.name, items, c.items)
		}
		if c.big && len(b) < 2<<20 {
			t.Errorf("%s: %d bytes, want several MiB", c.name, len(b))
		}
	}
}

func TestReadMemory(t *testing.T) {
	m, err := readMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.rss <= 0 || m.hwm < m.rss || m.file <= 0 || m.anon <= 0 || m.anon+m.file > m.rss+1<<20 {
		t.Errorf("readMemory = %+v; want VmRSS > 0, VmHWM ≥ it, RssAnon and RssFile adding up to it", m)
	}
	if s, err := cpuSeconds(os.Getpid()); err != nil || s < 0 {
		t.Errorf("cpuSeconds = %g, %v", s, err)
	}
}

func TestScrapeCounters(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`# HELP seer_ingest_requests_total Ingest requests by outcome.
# TYPE seer_ingest_requests_total counter
seer_ingest_requests_total{outcome="accepted",receiver="otlp"} 3
seer_ingest_requests_total{outcome="accepted",receiver="remote_write"} 2
seer_ingest_requests_total{outcome="memory",receiver="otlp"} 1
seer_ingest_requests_total_other{outcome="memory"} 100
seer_memory_queued_bytes 4096
`))
	}))
	defer srv.Close()
	got, err := scrapeCounters(srv.URL, "seer_ingest_requests_total", "outcome")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["accepted"] != 5 || got["memory"] != 1 {
		t.Errorf("by outcome: %v; want accepted 5, memory 1", got)
	}
	if q, err := scrapeCounters(srv.URL, "seer_memory_queued_bytes", ""); err != nil || q[""] != 4096 {
		t.Errorf("queued: %v, %v; want 4096", q, err)
	}
}

// TestPacer: a class's workers together send at the pacer's rate, and a
// new rate takes effect at once.
func TestPacer(t *testing.T) {
	p := newPacer(10_000, 100) // a request every 10 ms
	start := time.Now()
	for range 11 {
		if err := p.wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("11 requests at 100/s took %s; want at least 100 ms", d)
	}
	p.set(1e9)
	start = time.Now()
	for range 100 {
		_ = p.wait(t.Context())
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("100 requests at 10 M/s took %s", d)
	}
}

func TestSourcesAreDistinctLoopbackClients(t *testing.T) {
	var p sourcePool
	seen := map[string]bool{}
	for range 600 {
		ip := p.next()
		if !ip.IsLoopback() || ip.String() == "127.0.0.1" || seen[ip.String()] {
			t.Fatalf("source %s: want a distinct loopback address other than 127.0.0.1 (the probe's)", ip)
		}
		seen[ip.String()] = true
	}
}
