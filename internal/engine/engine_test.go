package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/seerops/seer/internal/ingest/binarytest"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// modernc.org/sqlite and net/http keep helper goroutines that are not ours.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	f := func(yaml string, wantErr string) {
		t.Helper()
		p := filepath.Join(dir, "seer.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		switch {
		case wantErr == "" && err != nil:
			t.Fatalf("Load(%q): %v", yaml, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Fatalf("Load(%q) = %v, want an error containing %q", yaml, err, wantErr)
		}
	}
	f("", "")
	f("data_dir: /tmp/x\nhttp_addr: 127.0.0.1:0\ntick: 2s\n", "")
	f("tick: -1s\n", "tick must be positive")
	f("rule_mining: -1h\n", "rule_mining")
	f("topology:\n  edges:\n    - {caller: frontend, callee: cart}\n", "")
	f("http_adr: 1.2.3.4:5\n", "http_adr") // a typo is an error, not a silent default
	f("bus: {partitions: 0}\n", "bus.partitions")
	f("tick: [\n", "seer.yaml")
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("a missing config file was accepted")
	}
}

// testConfig is the default configuration with every listener on a port of
// its own, so that tests of several packages can run at once.
func testConfig(t *testing.T, dir string) Config {
	t.Helper()
	cfg := Default()
	cfg.DataDir = dir
	cfg.OTLP.GRPCAddr = binarytest.FreeAddr(t)
	cfg.OTLP.HTTPAddr = binarytest.FreeAddr(t)
	// The tests' data is dated in the past: retention would delete it.
	cfg.Retention = 0
	return cfg
}

func startEngine(t *testing.T, dir string) (*Engine, string, func()) {
	t.Helper()
	cfg := testConfig(t, dir)
	cfg.Tick = 50 * time.Millisecond
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	return e, "http://" + ln.Addr().String(), func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

func get(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: decoding: %v", url, err)
		}
	}
	return resp.StatusCode
}

func TestEngineServesAPIAndKeepsKnowledgeAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	e, base, stop := startEngine(t, dir)

	if code := get(t, base+"/healthz", nil); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	if code := get(t, base+"/readyz", nil); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	body := `{"entity":"checkout","kind":"deploy","text":"v1.4.2","time":"2026-01-05T10:00:00Z"}`
	resp, err := http.Post(base+"/api/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/v1/events = %d, want 202", resp.StatusCode)
	}
	resp, err = http.Post(base+"/api/v1/events", "application/json", strings.NewReader(`{"entity":`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed event = %d, want 400", resp.StatusCode)
	}
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var obs struct{ Observations []signal.Observation }
	if code := get(t, base+"/api/v1/observations?entity=checkout", &obs); code != 200 || len(obs.Observations) != 1 || obs.Observations[0].Kind != signal.Change {
		t.Fatalf("observations of checkout = %d %+v, want the deploy as one change observation", code, obs)
	}
	metrics, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	for _, want := range []string{`seer_ingested_total{signal="event"} 1`, `seer_bus_queue_depth{group="detect",topic="signals"}`, "seer_detector_seconds", `seer_api_rejected_total`, `seer_detector_rejected_total{detector="metric",reason="non_finite"} 0`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Standard telemetry arrives through the receivers the engine serves:
	// an Alertmanager webhook on the API's port and OTLP/HTTP on its own.
	// A fresh alert: one firing since long before seer started is a heartbeat.
	alert := `{"version":"4","status":"firing","receiver":"seer","alerts":[{"status":"firing","labels":{"alertname":"HighErrorRate","service":"payment"},"annotations":{"summary":"5xx above 5%"},"startsAt":"` +
		time.Now().UTC().Format(time.RFC3339) + `","fingerprint":"abc"}]}`
	resp, err = http.Post(base+"/api/v1/alerts/alertmanager", "application/json", strings.NewReader(alert))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("Alertmanager webhook = %d", resp.StatusCode)
	}
	logsJSON := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1767607200000000000","severityText":"ERROR","body":{"stringValue":"connection refused: dial tcp 10.0.3.7:5432"}}]}]}]}`
	resp, err = http.Post("http://"+e.cfg.OTLP.HTTPAddr+"/v1/logs", "application/json", strings.NewReader(logsJSON))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("OTLP/HTTP logs = %d", resp.StatusCode)
	}
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := get(t, base+"/api/v1/observations?entity=payment", &obs); code != 200 || len(obs.Observations) != 1 || obs.Observations[0].Kind != signal.Alarm {
		t.Fatalf("observations of payment = %d %+v, want the alert as one alarm", code, obs)
	}
	metrics, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ = io.ReadAll(metrics.Body)
	metrics.Body.Close()
	if !strings.Contains(string(text), `seer_ingested_total{signal="log"} 1`) {
		t.Errorf("/metrics does not count the OTLP log record:\n%s", grepLines(string(text), "seer_ingested_total"))
	}
	stop()

	// A restart finds the knowledge where it was left.
	e2, _, stop2 := startEngine(t, dir)
	defer stop2()
	evs, err := e2.Store().Events(context.Background(), knowledge.EventQuery{Entity: "checkout"})
	if err != nil || len(evs) != 1 || evs[0].Text != "v1.4.2" {
		t.Fatalf("after restart, events of checkout = %+v, %v", evs, err)
	}
}

func grepLines(text, sub string) string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestLogTemplatesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Bus.Sync = true
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var recs []signal.LogRecord
	for i := range 50 {
		recs = append(recs,
			signal.LogRecord{Time: at.Add(time.Duration(i) * time.Second), Entity: "cart", Severity: signal.SeverityInfo, Body: fmt.Sprintf("added item %d to cart %d", i, i*7)},
			signal.LogRecord{Time: at.Add(time.Duration(i) * time.Second), Entity: "cart", Severity: signal.SeverityInfo, Body: fmt.Sprintf("cache hit ratio %d%%", i)})
	}
	if err := e.Ingest(context.Background(), &signal.Batch{Logs: recs}); err != nil {
		t.Fatal(err)
	}
	want := len(e.logs.Templates())
	if want == 0 {
		t.Fatal("no templates mined")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	got := len(e2.logs.Templates())
	if err := e2.Close(); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("after a restart %d templates, want the %d mined before", got, want)
	}

	// A corrupt state file is reported and the engine starts afresh.
	os.WriteFile(filepath.Join(dir, logsStateFile), []byte("garbage"), 0o600)
	e3, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatalf("a corrupt state file stopped the engine: %v", err)
	}
	defer e3.Close()
	if got := len(e3.logs.Templates()); got != 0 {
		t.Fatalf("corrupt state restored %d templates", got)
	}
}

func TestDeclaredTopologyIsServed(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Topology = signal.Topology{Edges: []signal.Edge{{Caller: "frontend", Callee: "cart"}, {Caller: "cart", Callee: "redis"}}}
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got := e.Topology()
	for _, want := range [][2]string{{"frontend", "cart"}, {"cart", "redis"}} {
		if !slices.ContainsFunc(got.Edges, func(x signal.Edge) bool { return x.Caller == want[0] && x.Callee == want[1] }) {
			t.Errorf("declared edge %s → %s missing from %+v", want[0], want[1], got.Edges)
		}
	}
}

// TestWarmRestart: the metric and trace baselines and the recent window
// survive a restart, so a step right after it is caught at once; an engine
// that starts afresh at the same moment has not warmed up and misses it.
func TestWarmRestart(t *testing.T) {
	t.Run("metrics", testWarmRestartMetrics)
	t.Run("traces", testWarmRestartTraces)
}

// warmRestart runs one warm-restart check. An engine on dir is fed steps
// [0, learn) of healthy data (feed, faulty false), which must make no
// finding (found), and closed; an engine restarted on dir is fed steps
// [learn, learn+within) of the fault and must find it; a fresh engine fed
// the same must not, or the check proves nothing. It returns dir.
func warmRestart(t *testing.T, learn, within int, what string, feed func(e *Engine, i int, faulty bool), found func(signal.Observation) bool) string {
	t.Helper()
	run := func(dir string, from, to int, faulty bool) (seen bool) {
		t.Helper()
		cfg := testConfig(t, dir)
		cfg.Bus.Sync = true
		var mu sync.Mutex
		e, err := New(context.Background(), cfg, quiet, Hooks{Observation: func(o signal.Observation) {
			mu.Lock()
			defer mu.Unlock()
			seen = seen || found(o)
		}})
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < to; i++ {
			feed(e, i, faulty)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
	dir := t.TempDir()
	if run(dir, 0, learn, false) {
		t.Fatalf("a finding on the healthy data before %s", what)
	}
	if !run(dir, learn, learn+within, true) {
		t.Errorf("after a restart, %s went unseen", what)
	}
	if run(t.TempDir(), learn, learn+within, true) {
		t.Errorf("a fresh engine caught %s with no history: the test proves nothing", what)
	}
	return dir
}

// testWarmRestartMetrics: an hour of a healthy CPU at 15 s; after a
// restart, a step from 30 % to 95 % is seen within three points.
func testWarmRestartMetrics(t *testing.T) {
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	dir := warmRestart(t, 240, 3, "a step of the CPU from 30 % to 95 % for three points",
		func(e *Engine, i int, step bool) {
			v := 0.3 * (1 + 0.1*rng.NormFloat64())
			if step {
				v = 0.95
			}
			b := &signal.Batch{Samples: []signal.Sample{{Time: at.Add(time.Duration(i) * 15 * time.Second), Entity: "cart", Name: "process_cpu_utilization", Value: v}}}
			if err := e.Ingest(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		},
		func(o signal.Observation) bool { return o.Entity == "cart" && o.Kind == signal.MetricAnomaly })
	for _, f := range []string{metricStateFile, windowStateFile, logsStateFile, traceStateFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("state file: %v", err)
		}
	}
}

// testWarmRestartTraces: five healthy minutes of frontend → cart traces
// warm the operations' latency baselines; after a restart, cart's self
// time growing fivefold is judged within half a minute, which an engine
// without the saved baselines cannot do (it needs three minutes of
// windows to warm up).
func testWarmRestartTraces(t *testing.T) {
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 4))
	warmRestart(t, 300, 30, "cart's self time growing from 10 ms to 50 ms for 30 s",
		func(e *Engine, i int, slow bool) {
			ctx := context.Background()
			sec := at.Add(time.Duration(i) * time.Second)
			var b signal.Batch
			for k := range 3 {
				start := sec.Add(time.Duration(k) * 300 * time.Millisecond)
				self := time.Duration(float64(10*time.Millisecond) * (1 + 0.1*rng.NormFloat64()))
				if slow {
					self *= 5
				}
				id := fmt.Sprintf("t%d-%d", i, k)
				b.Spans = append(b.Spans,
					signal.Span{TraceID: id, SpanID: "a", Service: "frontend", Operation: "GET /cart", Kind: signal.SpanServer,
						Start: start, Duration: self + 4*time.Millisecond},
					signal.Span{TraceID: id, SpanID: "b", ParentID: "a", Service: "cart", Operation: "GetCart", Kind: signal.SpanServer,
						Start: start.Add(2 * time.Millisecond), Duration: self})
			}
			if err := e.Ingest(ctx, &b); err != nil {
				t.Fatal(err)
			}
			if err := e.Tick(ctx, sec.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		},
		func(o signal.Observation) bool { return o.Entity == "cart" && o.Kind == signal.TraceLatency })
}
