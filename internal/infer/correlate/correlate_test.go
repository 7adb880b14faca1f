package correlate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func shop() signal.Topology {
	var t signal.Topology
	for _, e := range strings.Fields("frontend>gateway gateway>catalog gateway>cart gateway>checkout gateway>user catalog>db catalog>cache cart>cache user>db checkout>payment checkout>cart checkout>queue payment>db queue>notification") {
		a, b, _ := strings.Cut(e, ">")
		t.Edges = append(t.Edges, signal.Edge{Caller: a, Callee: b})
	}
	return t
}

var nextID int64

func ob(at time.Duration, entity string, kind signal.ObsKind, name string, score float64) signal.Observation {
	nextID++
	return signal.Observation{ID: nextID, Time: t0.Add(at + 10*time.Second), Start: t0.Add(at), Entity: entity, Kind: kind, Name: name, Score: score}
}

func newShop(cfg Config) *Correlator {
	cfg.Topology = shop
	return New(cfg, nil)
}

func TestOpening(t *testing.T) {
	f := func(name string, obs []signal.Observation, want int) {
		t.Helper()
		c := newShop(Config{})
		n := len(c.Add(obs))
		if got := len(c.Open()); got != want || n != want {
			t.Errorf("%s: %d open (%d returned), want %d", name, got, n, want)
		}
	}
	lat := signal.MetricAnomaly
	f("single weak anomaly", []signal.Observation{ob(0, "db", lat, "latency_p99_ms", 0.6)}, 0)
	f("weak anomaly repeating", []signal.Observation{ob(0, "db", lat, "cpu", 0.6), ob(time.Minute, "db", lat, "cpu", 0.7), ob(2*time.Minute, "db", lat, "cpu", 0.6)}, 0)
	f("two faint anomalies", []signal.Observation{ob(0, "db", lat, "a", 0.4), ob(0, "db", lat, "b", 0.45)}, 0)
	f("a change alone", []signal.Observation{ob(0, "db", signal.Change, "deploy", 1), ob(0, "db", lat, "a", 0.6)}, 0)
	f("one strong anomaly", []signal.Observation{ob(0, "db", signal.TraceLatency, "q", 0.95)}, 1)
	f("two related anomalies", []signal.Observation{ob(0, "db", lat, "a", 0.6), ob(5*time.Second, "catalog", lat, "b", 0.3)}, 1)
	f("two anomalies too far apart in time", []signal.Observation{ob(0, "db", lat, "a", 0.6), ob(5*time.Minute, "catalog", lat, "b", 0.6)}, 0)
	f("two weak log patterns", []signal.Observation{ob(0, "payment", signal.LogRare, "33", 0.6), ob(90*time.Second, "checkout", signal.LogNewTemplate, "55", 0.75)}, 0)
	f("a log pattern and a metric anomaly", []signal.Observation{ob(0, "payment", signal.LogNewTemplate, "33", 0.75), ob(5*time.Second, "payment", lat, "error_ratio", 0.6)}, 1)
	f("a strong log burst alone", []signal.Observation{ob(0, "payment", signal.LogErrorBurst, "", 0.95)}, 1)
	f("two anomalies too far apart on the graph", []signal.Observation{ob(0, "db", lat, "a", 0.6), ob(0, "notification", lat, "b", 0.6)}, 0)
}

// dbFault is a latency fault of db rippling up through its callers.
func dbFault(at time.Duration) []signal.Observation {
	obs := []signal.Observation{ob(at, "db", signal.TraceLatency, "query", 0.95)}
	for i, e := range []string{"db", "catalog", "user", "payment", "gateway", "frontend"} {
		obs = append(obs, ob(at+time.Duration(i)*time.Second, e, signal.MetricAnomaly, "latency_p99_ms", 0.8))
	}
	return obs
}

func TestTwoFaultsTwoIncidents(t *testing.T) {
	c := newShop(Config{})
	obs := dbFault(0)
	obs = append(obs,
		ob(time.Second, "notification", signal.TraceErrors, "send", 0.95),
		ob(2*time.Second, "notification", signal.LogErrorBurst, "T1", 0.7),
		ob(3*time.Second, "queue", signal.MetricAnomaly, "queue_depth", 0.8),
	)
	got := c.Add(obs)
	if len(got) != 2 {
		t.Fatalf("%d incidents, want 2: %v", len(got), titles(got))
	}
	where := map[string]int{}
	for i, in := range got {
		for _, e := range in.Entities {
			where[e] = i
		}
	}
	if where["db"] == where["notification"] || where["queue"] != where["notification"] || where["frontend"] != where["db"] {
		t.Fatalf("wrong split: %v", titles(got))
	}
}

func TestStormIsOneIncident(t *testing.T) {
	// 50 services all calling a shared store, through two layers.
	var topo signal.Topology
	var obs []signal.Observation
	obs = append(obs, ob(0, "store", signal.TraceLatency, "get", 0.95))
	for i := range 49 {
		svc := fmt.Sprintf("svc%02d", i)
		callee := "store"
		if i >= 10 {
			callee = fmt.Sprintf("svc%02d", i%10)
		}
		topo.Edges = append(topo.Edges, signal.Edge{Caller: svc, Callee: callee})
		obs = append(obs, ob(time.Duration(i)*time.Second, svc, signal.MetricAnomaly, "latency_p99_ms", 0.8))
	}
	slices.Reverse(obs) // arrival order must not matter
	c := New(Config{Topology: func() signal.Topology { return topo }}, nil)
	if got := c.Add(obs); len(got) != 1 || len(got[0].Entities) != 50 {
		t.Fatalf("storm made %v", titles(got))
	}

	// On the shop graph: a fault repeating many times is one incident whose
	// observation list does not grow with the repeats.
	c = newShop(Config{})
	var storm []signal.Observation
	for r := range 10 {
		storm = append(storm, dbFault(time.Duration(r)*20*time.Second)...)
	}
	var returned []*signal.Incident
	for i := 0; i < len(storm); i += 7 {
		returned = append(returned, c.Add(storm[i:min(i+7, len(storm))])...)
	}
	if open := c.Open(); len(open) != 1 {
		t.Fatalf("%d incidents: %v", len(open), titles(open))
	}
	in := c.Open()[0]
	for _, r := range returned {
		if r != in {
			t.Fatalf("Add returned another incident %p than the open one %p", r, in)
		}
	}
	if len(in.ObservationIDs) != 7 {
		t.Errorf("%d observation IDs, want 7 distinct", len(in.ObservationIDs))
	}
	merged := c.Observations(in)
	if len(merged) != 7 || merged[0].Evidence["count"] != "10" {
		t.Fatalf("merged = %d, first count %q", len(merged), merged[0].Evidence["count"])
	}
	if !merged[0].Start.Equal(t0) || !merged[0].Time.Equal(t0.Add(190*time.Second)) {
		t.Errorf("merged span %s..%s", merged[0].Start, merged[0].Time)
	}
	if !in.Onset.Equal(t0) || !in.Updated.Equal(t0.Add(195*time.Second)) || !in.Opened.Equal(t0.Add(10*time.Second)) {
		t.Errorf("onset %s opened %s updated %s", in.Onset, in.Opened, in.Updated)
	}
}

func TestCap(t *testing.T) {
	c := newShop(Config{MaxObservations: 10})
	var obs []signal.Observation
	for i := range 100 {
		obs = append(obs, ob(0, "db", signal.MetricAnomaly, fmt.Sprint("m", i), 0.9))
	}
	got := c.Add(obs)
	if len(got) != 1 || len(got[0].ObservationIDs) != 10 || c.Dropped() != 90 {
		t.Fatalf("incidents %d, ids %d, dropped %d", len(got), len(got[0].ObservationIDs), c.Dropped())
	}
}

func TestWithoutTopology(t *testing.T) {
	c := New(Config{}, nil)
	got := c.Add([]signal.Observation{ob(0, "a", signal.MetricAnomaly, "x", 0.6), ob(time.Second, "b", signal.MetricAnomaly, "y", 0.6)})
	if len(got) != 1 || len(got[0].Entities) != 2 {
		t.Fatalf("got %v", titles(got))
	}
}

func TestResolveReopen(t *testing.T) {
	c := newShop(Config{})
	in := c.Add(dbFault(0))[0] // newest observation at 0:15
	last := t0.Add(15 * time.Second)
	if got := c.Tick(last.Add(4 * time.Minute)); len(got) != 0 {
		t.Fatalf("resolved too early: %v", titles(got))
	}
	got := c.Tick(last.Add(5 * time.Minute))
	if len(got) != 1 || got[0] != in || in.Status != signal.IncidentResolved || !in.Resolved.Equal(last.Add(5*time.Minute)) {
		t.Fatalf("not resolved: %v status %s", titles(got), in.Status)
	}
	if len(c.Tick(last.Add(6*time.Minute))) != 0 {
		t.Fatal("resolved twice")
	}
	// The problem comes back 3 minutes after resolving: same incident.
	in.ID = 42 // as the store would
	back := c.Add([]signal.Observation{ob(8*time.Minute, "catalog", signal.MetricAnomaly, "latency_p99_ms", 0.8)})
	if len(back) != 1 || back[0] != in || in.Status != signal.IncidentOpen || !in.Resolved.IsZero() || in.ID != 42 {
		t.Fatalf("not reopened: %v status %s", titles(back), in.Status)
	}
	// Resolved again and forgotten after Reopen: a new incident is new.
	c.Tick(t0.Add(20 * time.Minute))
	c.Tick(t0.Add(31 * time.Minute))
	again := c.Add(dbFault(32 * time.Minute))
	if len(again) != 1 || again[0] == in || c.Observations(in) != nil {
		t.Fatalf("forgotten incident came back: %v", titles(again))
	}
}

// A different problem near a resolved incident is a new incident: only the
// same symptom returning reopens.
func TestOnlyTheSameSymptomReopens(t *testing.T) {
	c := newShop(Config{})
	in := c.Add(dbFault(0))[0]
	in.ID = 7
	c.Tick(t0.Add(6 * time.Minute))
	if in.Status != signal.IncidentResolved {
		t.Fatalf("status %s, want resolved", in.Status)
	}
	// user calls db: related on the graph, but its errors are a new symptom.
	got := c.Add([]signal.Observation{
		ob(8*time.Minute, "user", signal.TraceErrors, "GET /session", 0.95),
		ob(8*time.Minute, "user", signal.MetricAnomaly, "error_ratio", 0.9),
	})
	if in.Status != signal.IncidentResolved {
		t.Fatalf("a different symptom reopened incident %d", in.ID)
	}
	if len(got) != 1 || got[0] == in {
		t.Fatalf("want one new incident for user's errors, got %v", titles(got))
	}
}

// Another resource of the same host going wrong after its incident resolved
// is a new problem: only the same series returning reopens.
func TestAnotherSeriesOfTheEntityDoesNotReopen(t *testing.T) {
	c := New(Config{}, nil) // no graph: a host off any call graph
	load := c.Add([]signal.Observation{ob(0, "node", signal.MetricAnomaly, "node_load1", 0.9)})
	if len(load) != 1 {
		t.Fatalf("want the load incident, got %v", titles(load))
	}
	in := load[0]
	c.Tick(t0.Add(6 * time.Minute))
	if in.Status != signal.IncidentResolved {
		t.Fatalf("status %s, want resolved", in.Status)
	}
	disk := c.Add([]signal.Observation{ob(8*time.Minute, "node", signal.MetricAnomaly, "node_filesystem_avail_bytes", 0.9)})
	if in.Status != signal.IncidentResolved || len(disk) != 1 || disk[0] == in {
		t.Fatalf("the disk reopened the load incident (%s), got %v", in.Status, titles(disk))
	}
}

// An operator's resolve stands: the same trouble returning opens a new
// incident rather than reopening the one they closed.
func TestOperatorResolveStands(t *testing.T) {
	c := newShop(Config{})
	in := c.Add(dbFault(0))[0]
	if !c.Resolve(in, t0.Add(time.Minute)) {
		t.Fatal("Resolve refused an open incident")
	}
	back := c.Add([]signal.Observation{ob(3*time.Minute, "catalog", signal.MetricAnomaly, "latency_p99_ms", 0.95)})
	if in.Status != signal.IncidentResolved || len(back) != 1 || back[0] == in {
		t.Fatalf("a resolved-by-operator incident reopened (%s): %v", in.Status, titles(back))
	}
	// The operator may still reopen it, and then it behaves as any open one.
	if !c.Reopen(in, t0.Add(4*time.Minute)) || in.Status != signal.IncidentOpen {
		t.Fatalf("operator reopen failed: %s", in.Status)
	}
}

// One log template that is both new and rare is one piece of evidence.
func TestOnePatternDoesNotCorroborateItself(t *testing.T) {
	c := newShop(Config{})
	got := c.Add([]signal.Observation{
		ob(0, "payment", signal.LogNewTemplate, "23", 0.75),
		ob(time.Second, "payment", signal.LogRare, "23", 0.6),
	})
	if len(got) != 0 {
		t.Fatalf("a template that is new and rare opened %v", titles(got))
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	err := Config{Window: -1, MaxHops: -2, MinScore: 3}.Validate()
	for _, want := range []string{"window", "max_hops", "min_score"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to name %s", err, want)
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	// 1000 observations: 100 repeats of a db fault and of weak noise
	// scattered over the graph, in batches of 50.
	var obs []signal.Observation
	svcs := []string{"frontend", "gateway", "catalog", "cart", "checkout", "user", "db", "cache", "payment", "queue", "notification"}
	for r := 0; len(obs) < 1000; r++ {
		obs = append(obs, dbFault(time.Duration(r)*10*time.Second)...)
		obs = append(obs, ob(time.Duration(r)*10*time.Second, svcs[r%len(svcs)], signal.MetricAnomaly, fmt.Sprint("noise", r%7), 0.3))
	}
	obs = obs[:1000]
	b.ReportAllocs()
	for b.Loop() {
		c := newShop(Config{})
		for i := 0; i < len(obs); i += 50 {
			c.Add(obs[i : i+50])
		}
	}
}

func titles(ins []*signal.Incident) []string {
	var out []string
	for _, in := range ins {
		out = append(out, fmt.Sprintf("%s %v", in.Status, in.Entities))
	}
	return out
}

// TestSymptomDatedByItsBurst: a symptom that blipped before the incident's
// significant observations paused, and returns with a new burst of trouble,
// is dated by its return; one raised on and off within a burst keeps its
// first start.
func TestSymptomDatedByItsBurst(t *testing.T) {
	c := newShop(Config{})
	lat := signal.MetricAnomaly
	obs := dbFault(0)
	// Logs keep the incident open through a quiet quarter of an hour.
	for m := 2; m < 16; m += 2 {
		obs = append(obs, ob(time.Duration(m)*time.Minute, "catalog", signal.LogRare, fmt.Sprint(m), 0.6))
	}
	// Then a new burst: catalog's p99 again, and its error ratio on and off.
	obs = append(obs, ob(16*time.Minute, "catalog", lat, "latency_p99_ms", 0.9), ob(16*time.Minute, "catalog", lat, "error_ratio", 0.9),
		ob(17*time.Minute, "gateway", lat, "error_ratio", 0.9), ob(18*time.Minute+30*time.Second, "catalog", lat, "error_ratio", 0.9))
	for _, o := range obs {
		c.Add([]signal.Observation{o})
	}
	open := c.Open()
	if len(open) != 1 {
		t.Fatalf("%d incidents, want 1", len(open))
	}
	starts := map[string]time.Duration{}
	for _, o := range c.Observations(open[0]) {
		starts[o.Entity+"/"+o.Name] = o.Start.Sub(t0)
	}
	f := func(key string, want time.Duration) {
		t.Helper()
		if starts[key] != want {
			t.Errorf("%s starts at %s, want %s", key, starts[key], want)
		}
	}
	f("catalog/latency_p99_ms", 16*time.Minute)
	f("catalog/error_ratio", 16*time.Minute)
	f("db/latency_p99_ms", 0)
}

// A forecast promises trouble at its ETA: the symptoms that arrive then,
// minutes after the forecast and past Window, are the same incident, and
// the incident stays open until the limit is due, not just ResolveAfter.
func TestForecastAwaitsItsTrouble(t *testing.T) {
	c := newShop(Config{})
	fc := ob(0, "cart", signal.MetricForecast, "memory_utilization", 1)
	fc.Evidence = map[string]string{"eta": "8m0s"}
	in := c.Add([]signal.Observation{fc})
	if len(in) != 1 {
		t.Fatalf("an urgent forecast opened %d incidents", len(in))
	}
	if got := c.Tick(t0.Add(7 * time.Minute)); len(got) != 0 {
		t.Fatalf("resolved before the forecast limit was due: %v", titles(got))
	}
	oom := []signal.Observation{ob(7*time.Minute, "cart", signal.MetricAnomaly, "gc_pause_ms", 0.9), ob(7*time.Minute, "cart", signal.LogNewTemplate, "oom", 0.85)}
	if got := c.Add(oom); len(got) != 1 || got[0] != in[0] || len(c.Open()) != 1 {
		t.Fatalf("the forecast trouble opened another incident: %v", titles(c.Open()))
	}
	// A faint forecast due in half an hour holds nothing open.
	c = newShop(Config{})
	faint := ob(0, "cart", signal.MetricForecast, "memory_utilization", 0.6)
	faint.Evidence = map[string]string{"eta": "30m0s"}
	c.Add([]signal.Observation{faint, ob(5*time.Second, "cart", signal.MetricAnomaly, "gc_pause_ms", 0.7)})
	if len(c.Open()) != 1 || len(c.Tick(t0.Add(6*time.Minute))) != 1 {
		t.Fatalf("a faint forecast held its incident open: %v", titles(c.Open()))
	}
	// Elsewhere, the same wait means nothing: a new problem on db after a
	// pause is a new incident.
	c = newShop(Config{})
	c.Add([]signal.Observation{fc})
	if got := c.Add(dbFault(5 * time.Minute)); len(got) != 1 || got[0] == in[0] || len(c.Open()) != 2 {
		t.Fatalf("an unrelated fault joined the forecast's incident: %v", titles(c.Open()))
	}
}

// A faint blip that joined an incident does not reopen it when the same
// series turns into a full-blown fault later: that is a new problem.
func TestBlipDoesNotReopen(t *testing.T) {
	c := newShop(Config{})
	in := c.Add(append(dbFault(0), ob(5*time.Second, "cart", signal.MetricAnomaly, "pool_utilization", 0.55)))[0]
	in.ID = 9
	c.Tick(t0.Add(6 * time.Minute))
	got := c.Add([]signal.Observation{
		ob(8*time.Minute, "cart", signal.MetricAnomaly, "pool_utilization", 1),
		ob(8*time.Minute, "cart", signal.MetricForecast, "pool_utilization", 1),
	})
	if in.Status != signal.IncidentResolved || len(got) != 1 || got[0] == in {
		t.Fatalf("a blip's return reopened incident %d: %v", in.ID, titles(got))
	}
}
