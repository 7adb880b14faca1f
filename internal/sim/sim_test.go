package sim

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// rec is what a stretch of simulated time produced.
type rec struct {
	series map[string][]float64 // "entity/name" → values in time order
	logs   []signal.LogRecord
	spans  []signal.Span
	events []signal.Event
}

func record(w *World, d time.Duration) *rec {
	r := &rec{series: make(map[string][]float64)}
	for range int(d / w.cfg.Step) {
		b := w.Step()
		for _, s := range b.Samples {
			k := s.Entity + "/" + s.Name
			if in := s.Labels["instance"]; in != "" {
				k = in + "/" + s.Name
			}
			r.series[k] = append(r.series[k], s.Value)
		}
		r.logs = append(r.logs, b.Logs...)
		r.spans = append(r.spans, b.Spans...)
		r.events = append(r.events, b.Events...)
	}
	return r
}

func (r *rec) mean(entity, name string) float64 {
	xs := r.series[entity+"/"+name]
	if len(xs) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

func (r *rec) max(entity, name string) float64 {
	return slices.Max(append([]float64{math.Inf(-1)}, r.series[entity+"/"+name]...))
}

func (r *rec) logsWith(entity, substr string) int {
	n := 0
	for _, l := range r.logs {
		if (entity == "" || l.Entity == entity) && strings.Contains(l.Body, substr) {
			n++
		}
	}
	return n
}

func newWorld(t testing.TB, mod func(*Config)) *World {
	t.Helper()
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	w, err := NewShop(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestConfigValidate(t *testing.T) {
	f := func(mod func(*Config), want ...string) {
		t.Helper()
		cfg := DefaultConfig()
		mod(&cfg)
		wantErrors(t, cfg.Validate(), want...)
		if len(want) == 0 {
			return
		}
		if _, err := NewShop(cfg); err == nil {
			t.Errorf("NewShop accepted an invalid config")
		}
	}
	f(func(*Config) {})
	f(func(c *Config) { c.TraceSampling, c.LogRate = 1, 0 })
	f(func(c *Config) { c.Step = 0 }, "step must be positive")
	f(func(c *Config) { c.MetricInterval = 1500 * time.Millisecond }, "multiple of step")
	f(func(c *Config) { c.TraceSampling = 1.5 }, "trace_sampling")
	f(func(c *Config) { c.RequestRate = math.NaN() }, "request_rate")
	f(func(c *Config) { c.LogRate = -1 }, "log_rate")
	f(func(c *Config) { *c = Config{} }, "start must be set", "step", "metric_interval", "request_rate")
}

func TestTopology(t *testing.T) {
	w := newWorld(t, nil)
	if got := len(w.Services()); got != 11 {
		t.Fatalf("want 11 services, got %d: %v", got, w.Services())
	}
	if slices.Contains(w.Targets(), "frontend") || len(w.Targets()) != 10 {
		t.Errorf("targets %v: want every service but frontend", w.Targets())
	}
	declared := make(map[[2]string]bool)
	for _, e := range w.Edges() {
		declared[e] = true
	}
	if len(declared) != 14 {
		t.Errorf("want 14 distinct edges, got %d", len(declared))
	}
	used := make(map[[2]string]bool)
	var walk func(n *node)
	walk = func(n *node) {
		for _, c := range n.calls {
			e := [2]string{w.svcs[n.svc].name, w.svcs[c.svc].name}
			if !declared[e] {
				t.Errorf("endpoint calls %v, which is not a declared edge", e)
			}
			used[e] = true
			walk(c)
		}
	}
	for _, ep := range w.endpoints {
		walk(ep.root)
	}
	for e := range declared {
		if !used[e] && e != [2]string{"queue", "notification"} {
			t.Errorf("declared edge %v is never called", e)
		}
	}
}

func TestInjectValidation(t *testing.T) {
	w := newWorld(t, nil)
	record(w, 10*time.Second)
	f := func(fl Fault, want error, substr string) {
		t.Helper()
		err := w.Inject(fl)
		switch {
		case want == nil && substr == "":
			if err != nil {
				t.Errorf("Inject(%+v): want no error, got %v", fl, err)
			}
		case err == nil:
			t.Errorf("Inject(%+v): want an error, got none", fl)
		case want != nil && !errors.Is(err, want):
			t.Errorf("Inject(%+v): want %v, got %v", fl, want, err)
		case !strings.Contains(err.Error(), substr):
			t.Errorf("Inject(%+v): error %q does not mention %q", fl, err, substr)
		}
	}
	f(Fault{Kind: "explode", Target: "db"}, ErrUnknownKind, "explode")
	f(Fault{Kind: FaultLatency, Target: "mainframe"}, ErrUnknownTarget, "mainframe")
	f(Fault{Kind: FaultLatency, Target: "frontend"}, ErrUnknownTarget, "frontend")
	f(Fault{Kind: FaultCrash, Target: "db", Duration: -time.Second}, nil, "negative")
	f(Fault{Kind: FaultCrash, Target: "db", Start: w.Now().Add(-time.Minute)}, nil, "before the world's time")
	f(Fault{Kind: FaultErrors, Target: "db", Magnitude: 2}, nil, "fraction")
	f(Fault{Kind: FaultLatency, Target: "db", Magnitude: math.Inf(1)}, nil, "finite")
	if n := len(w.Truth()); n != 0 {
		t.Fatalf("rejected faults left %d truths", n)
	}
	f(Fault{Kind: FaultLatency, Target: "db", Duration: time.Minute}, nil, "")
	f(Fault{Kind: FaultLeak, Target: "cache", Start: w.Now().Add(time.Hour)}, nil, "")
	got := w.Truth()
	if len(got) != 2 {
		t.Fatalf("want 2 truths, got %d", len(got))
	}
	if !got[0].Start.Equal(w.Now()) || !got[0].End.Equal(w.Now().Add(time.Minute)) {
		t.Errorf("truth window %s..%s, want %s plus a minute", got[0].Start, got[0].End, w.Now())
	}
	if !got[1].End.IsZero() {
		t.Errorf("open-ended fault has end %s", got[1].End)
	}
}

func TestTruthAffected(t *testing.T) {
	w := newWorld(t, nil)
	f := func(target string, want ...string) {
		t.Helper()
		if got := w.affected(w.index[target]); !slices.Equal(got, want) {
			t.Errorf("affected(%s) = %v, want %v", target, got, want)
		}
	}
	f("db", "db", "catalog", "checkout", "frontend", "gateway", "payment", "user")
	f("cache", "cache", "cart", "catalog", "checkout", "frontend", "gateway")
	f("payment", "payment", "checkout", "frontend", "gateway")
	f("notification", "notification", "queue")
	f("queue", "queue", "checkout", "frontend", "gateway")
	f("gateway", "gateway", "frontend")
}

// TestTruthEffect: a change's fault takes effect when the new version or
// setting serves, after its event; every other fault acts from its start.
func TestTruthEffect(t *testing.T) {
	w := newWorld(t, nil)
	start := w.Now().Add(time.Minute)
	for _, f := range []Fault{
		{Kind: FaultDeploy, Target: "cart", Start: start},
		{Kind: FaultConfig, Target: "payment", Start: start},
		{Kind: FaultLeak, Target: "user", Start: start, Magnitude: 4},
	} {
		if err := w.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	want := map[FaultKind]time.Duration{FaultDeploy: 30 * time.Second, FaultConfig: 10 * time.Second, FaultLeak: 0}
	for _, tr := range w.Truth() {
		if got := tr.Effect.Sub(tr.Start); got != want[tr.Kind] || !tr.Start.Equal(start) {
			t.Errorf("%s on %s: effect %v after its start %v, want %v", tr.Kind, tr.Target, got, tr.Start, want[tr.Kind])
		}
	}
}

func batchHashes(t *testing.T, seed int64, steps int) []string {
	w := newWorld(t, func(c *Config) { c.Seed = seed; c.TraceSampling = 0.3 })
	var out []string
	for i := range steps {
		switch i {
		case 30:
			if err := w.Inject(Fault{Kind: FaultLatency, Target: "db", Duration: time.Minute}); err != nil {
				t.Fatal(err)
			}
		case 60:
			if err := w.Inject(Fault{Kind: FaultCrash, Target: "cart", Duration: 30 * time.Second}); err != nil {
				t.Fatal(err)
			}
		}
		b := w.Step()
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%x", sha256.Sum256(js)))
	}
	return out
}

func TestDeterminism(t *testing.T) {
	a, b := batchHashes(t, 7, 150), batchHashes(t, 7, 150)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d differs between two runs of the same seed", i)
		}
	}
	if c := batchHashes(t, 8, 150); slices.Equal(a, c) {
		t.Fatal("a different seed gave the same batches")
	}
}

func TestHealthyIsSteady(t *testing.T) {
	w := newWorld(t, nil)
	first := record(w, 20*time.Minute)
	second := record(w, 20*time.Minute)
	for _, s := range w.Services() {
		for _, r := range []*rec{first, second} {
			if m := r.mean(s, "up"); m != 1 {
				t.Errorf("%s: mean up %v, want 1", s, m)
			}
			if m := r.mean(s, "error_ratio"); m > 0.02 {
				t.Errorf("%s: mean error_ratio %.4f, want < 0.02", s, m)
			}
			if m := r.mean(s, "cpu_utilization"); m < 0.1 || m > 0.7 {
				t.Errorf("%s: mean cpu %.2f, want 0.1..0.7", s, m)
			}
			if m := r.mean(s, "memory_utilization"); m < 0.25 || m > 0.75 {
				t.Errorf("%s: mean memory %.2f, want 0.25..0.75", s, m)
			}
		}
		a, b := first.mean(s, "latency_p50_ms"), second.mean(s, "latency_p50_ms")
		if math.Abs(a-b) > 0.15*a {
			t.Errorf("%s: p50 moved from %.2fms to %.2fms in a healthy run", s, a, b)
		}
		lines := 0
		for _, l := range second.logs {
			if l.Entity == s && l.Severity == signal.SeverityInfo {
				lines++
			}
		}
		if rate := float64(lines) / (20 * 60); rate < 1.6 || rate > 2.4 {
			t.Errorf("%s: %.2f info lines/s, want about 2", s, rate)
		}
	}
	if m := first.mean("frontend", "request_rate"); m < 30 || m > 50 {
		t.Errorf("front-end rate %.1f/s, want about 40", m)
	}
	if m := first.max("queue", "queue_depth"); m > 10 {
		t.Errorf("queue depth reached %v in a healthy run", m)
	}
	for _, bad := range []string{"timeout calling", "connection refused", "OutOfMemoryError", "panic:", "slow query", "slow request", "GC overhead", "saturated", "dead-letter"} {
		if n := second.logsWith("", bad); n > 0 {
			t.Errorf("healthy run logged %d lines with %q", n, bad)
		}
	}
	if len(first.events)+len(second.events) != 0 {
		t.Errorf("healthy run produced events: %v", first.events)
	}
}

// TestFaults injects each fault into a warmed-up shop and checks that it
// moves the signals it should, on the target and its callers, and leaves
// the rest alone.
func TestFaults(t *testing.T) {
	type check func(t *testing.T, before, during *rec, w *World)
	cases := []struct {
		name  string
		fault Fault
		check check
	}{
		{"latency-db", Fault{Kind: FaultLatency, Target: "db"}, func(t *testing.T, before, during *rec, w *World) {
			for _, s := range []string{"db", "catalog", "user", "payment", "gateway", "frontend"} {
				if b, d := before.mean(s, "latency_p99_ms"), during.mean(s, "latency_p99_ms"); d < b+200 {
					t.Errorf("%s p99 %.1fms → %.1fms, want +200ms or more", s, b, d)
				}
			}
			for _, s := range []string{"notification", "cart", "cache", "queue"} {
				if b, d := before.mean(s, "latency_p50_ms"), during.mean(s, "latency_p50_ms"); d > 1.3*b {
					t.Errorf("%s p50 %.1fms → %.1fms, want unchanged", s, b, d)
				}
			}
			for _, s := range w.Services() {
				if b, d := before.mean(s, "error_ratio"), during.mean(s, "error_ratio"); d > b+0.01 {
					t.Errorf("%s error ratio %.4f → %.4f, want unchanged", s, b, d)
				}
			}
			if during.logsWith("db", "slow query took") == 0 {
				t.Error("db logged no slow query")
			}
		}},
		{"latency-db-past-timeout", Fault{Kind: FaultLatency, Target: "db", Magnitude: 1500}, func(t *testing.T, before, during *rec, w *World) {
			if d := during.mean("catalog", "error_ratio"); d < 0.1 {
				t.Errorf("catalog error ratio %.3f, want timeouts", d)
			}
			if during.logsWith("catalog", "timeout calling db after 1000ms") == 0 {
				t.Error("catalog logged no timeout calling db")
			}
		}},
		{"errors-payment", Fault{Kind: FaultErrors, Target: "payment"}, func(t *testing.T, before, during *rec, w *World) {
			for s, lo := range map[string]float64{"payment": 0.3, "checkout": 0.25} {
				if d := during.mean(s, "error_ratio"); d < lo {
					t.Errorf("%s error ratio %.3f, want > %v", s, d, lo)
				}
			}
			if d := during.mean("gateway", "error_ratio"); d < before.mean("gateway", "error_ratio")+0.01 {
				t.Errorf("gateway error ratio %.4f did not rise", d)
			}
			for _, s := range []string{"catalog", "db", "cart", "user", "notification"} {
				if d := during.mean(s, "error_ratio"); d > 0.02 {
					t.Errorf("%s error ratio %.3f, want unchanged", s, d)
				}
			}
			if during.logsWith("payment", "payment provider error") == 0 || during.logsWith("checkout", "payment declined: upstream error") == 0 {
				t.Error("missing the error lines of payment and checkout")
			}
			if before.logsWith("", "payment provider error") != 0 {
				t.Error("the fault's template appeared before the fault")
			}
		}},
		{"crash-cart", Fault{Kind: FaultCrash, Target: "cart", Duration: 5 * time.Minute}, func(t *testing.T, before, during *rec, w *World) {
			up := during.series["cart/up"]
			if up[1] != 0 || up[len(up)/4] != 0 {
				t.Errorf("cart up during the crash: %v...", up[:5])
			}
			if _, ok := during.series["cart/latency_p50_ms"]; !ok {
				t.Error("cart had no latency at all, though it was up after the crash")
			}
			if d := during.mean("gateway", "error_ratio"); d < 0.05 {
				t.Errorf("gateway error ratio %.3f, want > 0.05", d)
			}
			if d := during.mean("catalog", "error_ratio"); d > 0.02 {
				t.Errorf("catalog error ratio %.3f, want unchanged", d)
			}
			if during.logsWith("gateway", "connection refused: dial tcp 10.0.1.13:8080") == 0 {
				t.Error("gateway logged no connection refused")
			}
			if during.logsWith("cart", "panic: runtime error") != 1 {
				t.Error("cart logged no panic when it crashed")
			}
			client := 0
			for _, s := range during.spans {
				if s.Kind == signal.SpanClient && s.Attrs[signal.AttrPeerService] == "cart" && s.Attrs[signal.AttrErrorType] == "connection_refused" {
					client++
				}
			}
			if client == 0 {
				t.Error("no client spans to the crashed cart")
			}
			restarts := 0
			for _, e := range during.events {
				if e.Entity == "cart" && e.Kind == signal.EventRestart {
					restarts++
				}
			}
			if restarts != 1 {
				t.Errorf("want one restart of cart when the crash ended, got %d", restarts)
			}
		}},
		{"cpu-catalog", Fault{Kind: FaultCPU, Target: "catalog"}, func(t *testing.T, before, during *rec, w *World) {
			if d := during.mean("catalog", "cpu_utilization"); d < 0.85 {
				t.Errorf("catalog cpu %.2f, want ~0.95", d)
			}
			if b, d := before.mean("catalog", "latency_p50_ms"), during.mean("catalog", "latency_p50_ms"); d < 2*b {
				t.Errorf("catalog p50 %.1f → %.1f, want ×2 or more", b, d)
			}
			if b, d := before.mean("db", "cpu_utilization"), during.mean("db", "cpu_utilization"); math.Abs(d-b) > 0.05 {
				t.Errorf("db cpu %.2f → %.2f, want unchanged", b, d)
			}
			if during.logsWith("catalog", "worker pool saturated") == 0 {
				t.Error("catalog logged no saturation")
			}
		}},
		{"leak-user", Fault{Kind: FaultLeak, Target: "user"}, func(t *testing.T, before, during *rec, w *World) {
			if m := during.max("user", "memory_utilization"); m < 0.97 {
				t.Errorf("user memory peaked at %.2f, want ~1", m)
			}
			if b, d := before.mean("user", "gc_pause_ms"), during.max("user", "gc_pause_ms"); d < 3*b {
				t.Errorf("user gc pause %.1f → max %.1f, want ×3", b, d)
			}
			oom := 0
			for _, e := range during.events {
				if e.Entity == "user" && e.Attrs["reason"] == "OOMKilled" {
					oom++
				}
			}
			if oom != 1 {
				t.Errorf("want 1 OOM restart in 10 minutes, got %d (%v)", oom, during.events)
			}
			if during.logsWith("user", "OutOfMemoryError") != 1 {
				t.Error("user logged no OutOfMemoryError")
			}
			if slices.Min(during.series["user/up"]) != 0 {
				t.Error("user never went down")
			}
			if b, d := before.mean("catalog", "memory_utilization"), during.mean("catalog", "memory_utilization"); math.Abs(d-b) > 0.02 {
				t.Errorf("catalog memory %.2f → %.2f, want unchanged", b, d)
			}
		}},
		{"crash-notification", Fault{Kind: FaultCrash, Target: "notification"}, func(t *testing.T, before, during *rec, w *World) {
			if d := during.max("queue", "queue_depth"); d < 500 {
				t.Errorf("queue depth reached %v, want a backlog", d)
			}
			if b, d := before.mean("checkout", "error_ratio"), during.mean("checkout", "error_ratio"); d > b+0.01 {
				t.Errorf("checkout error ratio %.4f → %.4f, want unchanged", b, d)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, nil)
			before := record(w, 10*time.Minute)
			if err := w.Inject(c.fault); err != nil {
				t.Fatal(err)
			}
			during := record(w, 10*time.Minute)
			c.check(t, before, during, w)
		})
	}
}

func TestSpansAreConsistent(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.TraceSampling = 1 })
	record(w, time.Minute)
	for _, f := range []Fault{
		{Kind: FaultCrash, Target: "cache", Duration: time.Minute},
		{Kind: FaultErrors, Target: "payment"},
		{Kind: FaultLatency, Target: "user", Magnitude: 2500},
	} {
		if err := w.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	r := record(w, 3*time.Minute)
	byID := make(map[string]signal.Span)
	for _, s := range r.spans {
		byID[s.TraceID+s.SpanID] = s
	}
	kinds := map[signal.SpanKind]int{}
	for _, s := range r.spans {
		kinds[s.Kind]++
		if s.Status == signal.StatusError && s.Attrs[signal.AttrErrorType] == "" {
			t.Fatalf("error span without error.type: %+v", s)
		}
		if s.Kind == signal.SpanClient && s.Attrs[signal.AttrPeerService] == "" {
			t.Fatalf("client span without peer.service: %+v", s)
		}
		if s.ParentID == "" {
			continue
		}
		p, ok := byID[s.TraceID+s.ParentID]
		if !ok {
			t.Fatalf("span %s of %s has no parent in its trace", s.SpanID, s.Service)
		}
		if s.Start.Before(p.Start) || s.End().After(p.End()) {
			t.Fatalf("span %s %s [%s, %s] lies outside its parent %s %s [%s, %s]",
				s.Service, s.Operation, s.Start, s.End(), p.Service, p.Operation, p.Start, p.End())
		}
	}
	for _, k := range []signal.SpanKind{signal.SpanServer, signal.SpanClient, signal.SpanConsumer} {
		if kinds[k] == 0 {
			t.Errorf("no %s spans", k)
		}
	}
	if r.logsWith("user", "deadline exceeded") == 0 && r.logsWith("gateway", "timeout calling user") == 0 {
		t.Error("a 2.5 s latency on user caused no timeout")
	}
	// Logs of a failing sampled request carry its trace id.
	for _, l := range r.logs {
		if l.Severity == signal.SeverityError && strings.HasPrefix(l.Body, "payment declined") && l.TraceID == "" {
			t.Fatalf("error line without trace id: %s", l.Body)
		}
	}
}

// TestBuffersStayBounded runs the shop for an hour with faults that come and
// go and checks that nothing the world keeps grows with the run.
func TestBuffersStayBounded(t *testing.T) {
	w := newWorld(t, nil)
	for i := range 6 {
		kind := FaultKinds()[i%len(FaultKinds())]
		if err := w.Inject(Fault{Kind: kind, Target: w.Targets()[i], Start: w.Now().Add(time.Duration(i)*10*time.Minute + time.Minute), Duration: 5 * time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3600 {
		w.Step()
		if len(w.pendSpans) > 200 || len(w.pendLogs) > 2000 || len(w.queues[0].msgs) > 2000 || len(w.spans) > 0 {
			t.Fatalf("buffers grew: %d spans, %d logs, %d messages pending", len(w.pendSpans), len(w.pendLogs), len(w.queues[0].msgs))
		}
	}
	for i, a := range w.acc {
		if cap(a.lat) > 5000 {
			t.Errorf("%s keeps %d latencies", w.svcs[i].name, cap(a.lat))
		}
	}
}

func BenchmarkShopHour(b *testing.B) {
	b.ReportAllocs()
	var simulated time.Duration
	for b.Loop() {
		w := newWorld(b, nil)
		for range 3600 {
			w.Step()
		}
		simulated += time.Hour
	}
	b.ReportMetric(simulated.Seconds()/b.Elapsed().Seconds(), "sim-s/s")
}

func BenchmarkStep(b *testing.B) {
	b.ReportAllocs()
	w := newWorld(b, nil)
	for b.Loop() {
		w.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sim-s/s")
}

func TestQueueIsCapped(t *testing.T) {
	w := newWorld(t, nil)
	w.queues[0].max = 300
	if err := w.Inject(Fault{Kind: FaultCrash, Target: "notification"}); err != nil {
		t.Fatal(err)
	}
	r := record(w, 10*time.Minute)
	if d := r.max("queue", "queue_depth"); d != 300 {
		t.Errorf("queue depth peaked at %v, want the cap 300", d)
	}
	if cap(w.queues[0].msgs) > 2000 || r.logsWith("queue", "max-length") == 0 {
		t.Errorf("full queue kept %d slots, logged %d drops", cap(w.queues[0].msgs), r.logsWith("queue", "max-length"))
	}
}

// FuzzInject checks that no fault, however odd, makes the world panic or
// stop producing signals.
func FuzzInject(f *testing.F) {
	f.Add("latency", "db", int64(0), int64(0), 0.0)
	f.Add("leak", "user", int64(5), int64(60), 0.5)
	f.Add("crash", "frontend", int64(-3), int64(-1), -1.0)
	f.Fuzz(func(t *testing.T, kind, target string, startS, durS int64, mag float64) {
		w := newWorld(t, func(c *Config) { c.TraceSampling = 1 })
		fl := Fault{Kind: FaultKind(kind), Target: target, Duration: time.Duration(durS) * time.Second, Magnitude: mag}
		if startS != 0 {
			fl.Start = w.Now().Add(time.Duration(startS%3600) * time.Second)
		}
		err := w.Inject(fl)
		if err == nil && len(w.Truth()) != 1 {
			t.Fatal("an accepted fault left no truth")
		}
		for range 30 {
			if b := w.Step(); len(b.Samples) == 0 && (w.now-w.start)%w.interval == 0 {
				t.Fatal("a scrape step produced no samples")
			}
		}
	})
}

// wantErrors checks that err mentions each of want, or is nil when want is
// empty.
func wantErrors(t *testing.T, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("want no error, got %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want errors %q, got none", want)
	}
	for _, s := range want {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}
