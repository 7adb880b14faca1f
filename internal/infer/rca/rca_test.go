package rca

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

var t0 = time.Date(2025, 3, 1, 10, 2, 5, 0, time.UTC)

// shop is the 11-service shop graph the scenarios run on.
func shop() signal.Topology {
	var t signal.Topology
	for _, e := range [][2]string{
		{"frontend", "gateway"}, {"gateway", "catalog"}, {"gateway", "cart"}, {"gateway", "checkout"}, {"gateway", "user"},
		{"catalog", "db"}, {"catalog", "cache"}, {"cart", "cache"}, {"user", "db"},
		{"checkout", "payment"}, {"checkout", "cart"}, {"checkout", "queue"}, {"payment", "db"}, {"queue", "notification"},
	} {
		t.Edges = append(t.Edges, signal.Edge{Caller: e[0], Callee: e[1]})
	}
	return t
}

// ob is an observation that began at t0+at and was reported 15s later.
func ob(at time.Duration, entity string, kind signal.ObsKind, name string, score float64, dir string) signal.Observation {
	o := signal.Observation{
		Time: t0.Add(at + 15*time.Second), Start: t0.Add(at), Entity: entity, Kind: kind, Name: name, Score: score,
		Actual: 10, Expected: 1, Low: 0.5, High: 2,
	}
	if dir != "" {
		o.Evidence = map[string]string{"direction": dir}
	}
	return o
}

func logOb(at time.Duration, entity string, kind signal.ObsKind, summary string) signal.Observation {
	o := ob(at, entity, kind, "T"+fmt.Sprint(len(summary)), 0.8, "")
	o.Summary = summary
	return o
}

// scenario is a fault's observations and the entity and kind injected.
type scenario struct {
	obs    []signal.Observation
	entity string
	kind   string
}

// scenarios are the typical faults.
func scenarios() map[string]scenario {
	s := time.Second
	out := map[string]scenario{}
	// Latency on db: its own self time grows, its callers' latency follows.
	lat := []signal.Observation{ob(0, "db", signal.TraceLatency, "query", 0.95, "up"), ob(0, "db", signal.MetricAnomaly, "latency_p99_ms", 0.9, "up")}
	for i, e := range []string{"catalog", "user", "payment", "gateway", "frontend"} {
		d := time.Duration(1+i) * s
		lat = append(lat, ob(d, e, signal.MetricAnomaly, "latency_p99_ms", 0.9, "up"), ob(d, e, signal.MetricAnomaly, "latency_p95_ms", 0.85, "up"))
	}
	out["db latency"] = scenario{lat, "db", KindLatency}

	// Errors in payment: its callers' error ratios follow, everyone logs errors.
	errs := []signal.Observation{ob(0, "payment", signal.TraceErrors, "charge", 0.9, "up")}
	for i, e := range []string{"payment", "checkout", "gateway", "frontend"} {
		d := time.Duration(i) * s
		errs = append(errs, ob(d, e, signal.MetricAnomaly, "error_ratio", 0.95, "up"),
			logOb(d+s, e, signal.LogErrorBurst, "ERROR request failed: internal error"))
	}
	out["payment errors"] = scenario{errs, "payment", KindErrors}

	// Cart crashes: calls to it are refused, its callers say so.
	crash := []signal.Observation{
		ob(0, "cart", signal.TraceUnreachable, "checkout->cart", 0.95, ""),
		ob(2*s, "cart", signal.MetricAnomaly, "up", 0.99, "down"),
		ob(2*s, "cart", signal.MetricAnomaly, "request_rate", 0.9, "down"),
		logOb(s, "checkout", signal.LogNewTemplate, "dial tcp cart:8080: connect: connection refused"),
		logOb(s, "gateway", signal.LogNewTemplate, "GET /cart failed: connection refused calling cart"),
		ob(2*s, "gateway", signal.MetricAnomaly, "error_ratio", 0.9, "up"),
		ob(3*s, "frontend", signal.MetricAnomaly, "error_ratio", 0.8, "up"),
	}
	out["cart crash"] = scenario{crash, "cart", KindUnavailable}

	// CPU saturation of catalog.
	cpu := []signal.Observation{
		ob(0, "catalog", signal.MetricAnomaly, "cpu_utilization", 0.95, "up"),
		ob(5*s, "catalog", signal.TraceLatency, "list", 0.9, "up"),
		ob(6*s, "gateway", signal.MetricAnomaly, "latency_p99_ms", 0.9, "up"),
		ob(7*s, "frontend", signal.MetricAnomaly, "latency_p99_ms", 0.9, "up"),
	}
	out["catalog cpu"] = scenario{cpu, "catalog", KindSaturation}

	// A memory leak in user.
	leak := []signal.Observation{
		ob(0, "user", signal.MetricAnomaly, "memory_utilization", 0.9, "up"),
		ob(30*s, "user", signal.MetricForecast, "memory_utilization", 0.85, "up"),
		ob(40*s, "user", signal.MetricAnomaly, "gc_pause_ms", 0.8, "up"),
		ob(50*s, "gateway", signal.MetricAnomaly, "latency_p99_ms", 0.6, "up"),
	}
	out["user leak"] = scenario{leak, "user", KindMemory}

	// A surge entering at the frontend slows the database.
	load := []signal.Observation{ob(0, "frontend", signal.MetricAnomaly, "request_rate", 0.95, "up")}
	for i, e := range []string{"gateway", "catalog", "db"} {
		load = append(load, ob(time.Duration(i)*s, e, signal.MetricAnomaly, "request_rate", 0.9, "up"))
	}
	load = append(load, ob(20*s, "db", signal.TraceLatency, "query", 0.8, "up"),
		ob(22*s, "catalog", signal.MetricAnomaly, "latency_p99_ms", 0.8, "up"),
		ob(23*s, "frontend", signal.MetricAnomaly, "latency_p99_ms", 0.8, "up"))
	out["frontend surge"] = scenario{load, "frontend", KindLoad}

	// Cart's disk fills; the cache it calls shows a milder disk trend at
	// the same time. A callee's disk does not fill its caller's.
	disk := []signal.Observation{
		ob(0, "cache", signal.MetricForecast, "disk_utilization", 0.75, "up"),
		ob(5*s, "cache", signal.MetricAnomaly, "disk_utilization", 0.6, "up"),
		ob(0, "cart", signal.MetricForecast, "disk_utilization", 1, "up"),
		ob(10*s, "cart", signal.MetricAnomaly, "disk_utilization", 0.95, "up"),
		ob(20*s, "checkout", signal.MetricAnomaly, "latency_p99_ms", 0.6, "up"),
	}
	out["cart disk"] = scenario{disk, "cart", KindDisk}
	return out
}

func TestRankScenarios(t *testing.T) {
	for name, sc := range scenarios() {
		t.Run(name, func(t *testing.T) {
			causes := Rank(Input{Observations: sc.obs, Topology: shop()}, Config{})
			if len(causes) == 0 {
				t.Fatal("no causes")
			}
			top := causes[0]
			if top.Entity != sc.entity || top.Kind != sc.kind {
				t.Fatalf("top = %s/%s, want %s/%s\n%s", top.Entity, top.Kind, sc.entity, sc.kind, dump(causes))
			}
			if len(causes) > 1 && causes[1].Score >= top.Score {
				t.Fatalf("no margin:\n%s", dump(causes))
			}
			for i, c := range causes {
				if c.Score < 0 || c.Score > 1 || (i > 0 && c.Score > causes[i-1].Score) {
					t.Fatalf("scores not normalised and sorted:\n%s", dump(causes))
				}
			}
			if len(causes) > 5 {
				t.Fatalf("%d causes, want at most 5", len(causes))
			}
			if len(top.Evidence) < 2 || !strings.Contains(top.Evidence[0], sc.entity+":") {
				t.Fatalf("thin evidence: %q", top.Evidence)
			}
		})
	}
}

func TestRankWithoutTopology(t *testing.T) {
	// With no graph, own localised evidence and timing still point at db.
	sc := scenarios()["db latency"]
	causes := Rank(Input{Observations: sc.obs}, Config{})
	if causes[0].Entity != "db" {
		t.Fatalf("top = %s\n%s", causes[0].Entity, dump(causes))
	}
}

func TestRankEvidence(t *testing.T) {
	causes := Rank(Input{Observations: scenarios()["db latency"].obs, Topology: shop()}, Config{})
	all := strings.Join(causes[0].Evidence, "\n")
	for _, want := range []string{
		"db: own latency of query 10 vs expected 1 (trace self time) [trace.latency], first at 10:02:05",
		"catalog, user, payment, gateway (+1 more) slowed 1s to 5s later and depend on db: victims",
		"no change event on db",
		"db's anomalies began first, at 10:02:05",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("evidence lacks %q:\n%s", want, all)
		}
	}
	victim := causes[1]
	if !strings.Contains(strings.Join(victim.Evidence, "\n"), "likely a victim") {
		t.Errorf("second cause %s not called a victim: %q", victim.Entity, victim.Evidence)
	}
	// The crash: victims' logs name cart.
	crash := Rank(Input{Observations: scenarios()["cart crash"].obs, Topology: shop()}, Config{})
	if all := strings.Join(crash[0].Evidence, "\n"); !strings.Contains(all, "checkout, gateway log failed calls naming cart") {
		t.Errorf("crash evidence lacks the victims' logs:\n%s", all)
	}
}

func TestRankChange(t *testing.T) {
	// A deploy on payment shortly before its errors makes the cause a change;
	// a deploy on an unrelated service an hour earlier does not count.
	sc := scenarios()["payment errors"]
	events := []signal.Event{
		{Time: t0.Add(-90 * time.Second), Entity: "payment", Kind: signal.EventDeploy, Text: "payment v2.3.1"},
		{Time: t0.Add(-time.Hour), Entity: "catalog", Kind: signal.EventDeploy},
	}
	plain := Rank(Input{Observations: sc.obs, Topology: shop()}, Config{})
	changed := Rank(Input{Observations: sc.obs, Topology: shop(), Events: events}, Config{})
	if changed[0].Entity != "payment" || changed[0].Kind != KindChange {
		t.Fatalf("top = %s/%s\n%s", changed[0].Entity, changed[0].Kind, dump(changed))
	}
	if changed[0].Score <= plain[0].Score {
		t.Errorf("change did not raise payment: %.3f <= %.3f", changed[0].Score, plain[0].Score)
	}
	if all := strings.Join(changed[0].Evidence, "\n"); !strings.Contains(all, "deploy on payment at 10:00:35, 1m30s before its onset: payment v2.3.1") {
		t.Errorf("evidence lacks the deploy:\n%s", all)
	}
	// A change raises a suspect that would otherwise rank second.
	lat := scenarios()["db latency"]
	ev := []signal.Event{{Time: t0.Add(-time.Minute), Entity: "catalog", Kind: signal.EventConfig}}
	a := Rank(Input{Observations: lat.obs, Topology: shop()}, Config{})
	b := Rank(Input{Observations: lat.obs, Topology: shop(), Events: ev}, Config{})
	if score(b, "catalog") <= score(a, "catalog") {
		t.Errorf("config change did not raise catalog: %.3f <= %.3f", score(b, "catalog"), score(a, "catalog"))
	}
}

func TestRankDeterministic(t *testing.T) {
	sc := scenarios()["payment errors"]
	want := dump(Rank(Input{Observations: sc.obs, Topology: shop()}, Config{}))
	rev := make([]signal.Observation, len(sc.obs))
	for i := range sc.obs {
		rev[len(rev)-1-i] = sc.obs[i]
	}
	for range 5 {
		if got := dump(Rank(Input{Observations: rev, Topology: shop()}, Config{})); got != want {
			t.Fatalf("ranking depends on order:\n%s\nvs\n%s", got, want)
		}
	}
	// Ties are broken by name.
	tie := []signal.Observation{ob(0, "b", signal.TraceLatency, "x", 0.9, ""), ob(0, "a", signal.TraceLatency, "x", 0.9, "")}
	if c := Rank(Input{Observations: tie}, Config{}); c[0].Entity != "a" || c[0].Score != c[1].Score {
		t.Fatalf("tie not broken by name:\n%s", dump(c))
	}
}

func TestRankOddInput(t *testing.T) {
	f := func(obs []signal.Observation, wantLen int) {
		t.Helper()
		if got := Rank(Input{Observations: obs, Topology: shop()}, Config{TopK: 3}); len(got) != wantLen {
			t.Errorf("got %d causes, want %d:\n%s", len(got), wantLen, dump(got))
		}
	}
	f(nil, 0)
	f([]signal.Observation{{Entity: "", Kind: signal.TraceLatency, Score: 1}}, 0)
	nan := ob(0, "db", signal.TraceLatency, "q", 0, "")
	nan.Score = 0 / func() float64 { return 0 }()
	f([]signal.Observation{nan}, 0)
	var many []signal.Observation
	for i := range 10 {
		many = append(many, ob(time.Duration(i)*time.Second, fmt.Sprintf("svc%d", i), signal.TraceErrors, "op", 0.9, ""))
	}
	f(many, 3)
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	err := Config{TopK: -1, Slack: -1, VictimFactor: 2}.Validate()
	if err == nil || !strings.Contains(err.Error(), "top_k") || !strings.Contains(err.Error(), "slack") || !strings.Contains(err.Error(), "victim_factor") {
		t.Fatalf("Validate = %v", err)
	}
}

func BenchmarkRank(b *testing.B) {
	var obs []signal.Observation
	for _, sc := range scenarios() {
		obs = append(obs, sc.obs...)
	}
	for len(obs) < 1000 {
		obs = append(obs, obs[len(obs)%40])
	}
	in := Input{Observations: obs, Topology: shop()}
	b.ReportAllocs()
	for b.Loop() {
		Rank(in, Config{})
	}
}

func score(cs []signal.Cause, entity string) float64 {
	for _, c := range cs {
		if c.Entity == entity {
			return c.Score
		}
	}
	return 0
}

func dump(cs []signal.Cause) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%-10s %-12s %.4f %q\n", c.Entity, c.Kind, c.Score, c.Evidence)
	}
	return b.String()
}

// A rise in traffic minutes before a backend slowed is not its cause: a
// surge explains only the faults that follow it within LoadLag.
func TestSurgeExplainsOnlyWhatFollowsSoon(t *testing.T) {
	s := time.Second
	obs := []signal.Observation{ob(0, "frontend", signal.MetricAnomaly, "request_rate", 0.95, "up")}
	slow := 200 * s // well past LoadLag
	obs = append(obs, ob(slow, "db", signal.TraceLatency, "query", 0.95, "up"))
	for i, e := range []string{"db", "catalog", "user", "gateway", "frontend"} {
		obs = append(obs, ob(slow+time.Duration(i)*s, e, signal.MetricAnomaly, "latency_p99_ms", 0.9, "up"))
	}
	causes := Rank(Input{Observations: obs, Topology: shop()}, Config{})
	if causes[0].Entity != "db" || causes[0].Kind != KindLatency {
		t.Fatalf("top = %s/%s, want db/latency: the surge came minutes earlier\n%s", causes[0].Entity, causes[0].Kind, dump(causes))
	}
	// The same slowdown right after the surge is the surge's doing.
	for i := range obs[1:] {
		obs[i+1].Start = obs[i+1].Start.Add(-slow + 5*s)
	}
	if causes := Rank(Input{Observations: obs, Topology: shop()}, Config{}); causes[0].Entity != "frontend" || causes[0].Kind != KindLoad {
		t.Fatalf("top = %s/%s, want frontend/load right after a surge\n%s", causes[0].Entity, causes[0].Kind, dump(causes))
	}
}

// Callers retry failed calls, so the request rate into a service whose
// callee began failing first rises too: that is retries, not a surge, and
// the failing callee is the cause. The same rise with the errors after it
// is a surge that made the callee fail.
func TestRetriesAreNoSurge(t *testing.T) {
	s := time.Second
	f := func(errAt time.Duration, want, kind string) {
		t.Helper()
		obs := []signal.Observation{
			ob(errAt, "payment", signal.TraceErrors, "charge", 0.9, "up"),
			ob(errAt, "payment", signal.MetricAnomaly, "error_ratio", 0.95, "up"),
			ob(10*s, "checkout", signal.MetricAnomaly, "request_rate", 0.95, "up"),
			ob(10*s, "checkout", signal.MetricAnomaly, "error_ratio", 0.9, "up"),
			ob(10*s, "checkout", signal.MetricAnomaly, "latency_p99_ms", 0.9, "up"),
			ob(11*s, "gateway", signal.MetricAnomaly, "error_ratio", 0.8, "up"),
		}
		causes := Rank(Input{Observations: obs, Topology: shop()}, Config{})
		if causes[0].Entity != want || causes[0].Kind != kind {
			t.Errorf("errors at %s: top = %s/%s, want %s/%s\n%s", errAt, causes[0].Entity, causes[0].Kind, want, kind, dump(causes))
		}
	}
	f(0, "payment", KindErrors)
	f(12*s, "checkout", KindLoad)
}

// A dependency called a few times a minute shows in its caller's errors and
// logs before its own telemetry convicts it: the caller that named it in
// failed calls from the start is its victim, even though the callee's own
// errors were raised a minute later.
func TestNamedSparseCallee(t *testing.T) {
	s := time.Second
	obs := []signal.Observation{
		ob(0, "payment", signal.MetricAnomaly, "error_ratio", 0.95, "up"),
		ob(0, "payment", signal.MetricAnomaly, "latency_p95_ms", 0.9, "up"),
		logOb(2*s, "payment", signal.LogErrorBurst, "POST https://db:5432/charge failed: upstream_error calling db"),
		ob(s, "checkout", signal.MetricAnomaly, "error_ratio", 0.9, "up"),
		ob(2*s, "gateway", signal.MetricAnomaly, "error_ratio", 0.8, "up"),
		ob(60*s, "db", signal.TraceErrors, "charge", 0.85, "up"),
	}
	causes := Rank(Input{Observations: obs, Topology: shop()}, Config{})
	if causes[0].Entity != "db" {
		t.Fatalf("top = %s/%s, want db: payment named it in its failed calls\n%s", causes[0].Entity, causes[0].Kind, dump(causes))
	}
	// However late its own errors are convicted.
	late := slices.Clone(obs)
	late[len(late)-1] = ob(4*time.Minute, "db", signal.TraceErrors, "charge", 0.85, "up")
	if causes := Rank(Input{Observations: late, Topology: shop()}, Config{}); causes[0].Entity != "db" {
		t.Fatalf("top = %s/%s, want db convicted 4 minutes later\n%s", causes[0].Entity, causes[0].Kind, dump(causes))
	}
	// Without the naming, db's errors a minute later do not explain payment.
	obs = slices.Delete(obs, 2, 3)
	if causes := Rank(Input{Observations: obs, Topology: shop()}, Config{}); causes[0].Entity != "payment" {
		t.Fatalf("top = %s/%s, want payment when nothing named db\n%s", causes[0].Entity, causes[0].Kind, dump(causes))
	}
}

// A traffic burst slowed the backends a little; ten minutes later, while
// it goes on, a deploy breaks checkout. The burst explains neither the new
// errors (they came long after it) nor does cart, slow since the burst,
// explain its caller's new failures: the deploy does.
func TestDeployDuringSurge(t *testing.T) {
	s := time.Second
	later := 10 * time.Minute
	obs := []signal.Observation{ob(0, "frontend", signal.MetricAnomaly, "request_rate", 0.95, "up")}
	for i, e := range []string{"gateway", "cart", "checkout"} {
		d := time.Duration(i) * s
		obs = append(obs, ob(d, e, signal.MetricAnomaly, "request_rate", 0.9, "up"),
			ob(d+10*s, e, signal.MetricAnomaly, "cpu_utilization", 0.7, "up"))
	}
	obs = append(obs, ob(10*s, "cart", signal.TraceLatency, "get", 0.8, "up"),
		ob(later, "checkout", signal.MetricAnomaly, "error_ratio", 1, "up"),
		ob(later, "checkout", signal.TraceErrors, "place", 0.95, "up"),
		ob(later+5*s, "gateway", signal.MetricAnomaly, "error_ratio", 0.9, "up"),
		ob(later+6*s, "frontend", signal.MetricAnomaly, "error_ratio", 0.85, "up"))
	deploy := signal.Event{Time: t0.Add(later - 30*s), Entity: "checkout", Kind: signal.EventDeploy, Text: "checkout 2.5.0"}
	causes := Rank(Input{Observations: obs, Topology: shop(), Events: []signal.Event{deploy}}, Config{})
	if causes[0].Entity != "checkout" || causes[0].Kind != KindChange {
		t.Fatalf("top = %s/%s, want checkout/change\n%s", causes[0].Entity, causes[0].Kind, dump(causes))
	}
	if all := strings.Join(causes[0].Evidence, "\n"); !strings.Contains(all, "deploy on checkout") {
		t.Errorf("the deploy is not in the evidence:\n%s", all)
	}
}

// A service whose callers log failed calls naming it, as its request rate
// rises, is being retried, not surged: the slow callee below it is the
// cause.
func TestRetriedServiceIsNoSurge(t *testing.T) {
	s := time.Second
	obs := []signal.Observation{
		ob(0, "payment", signal.TraceLatency, "charge", 0.9, "up"),
		logOb(5*s, "gateway", signal.LogErrorBurst, "POST /checkout failed: timeout calling checkout, retrying"),
		ob(10*s, "checkout", signal.MetricAnomaly, "request_rate", 0.95, "up"),
		ob(10*s, "checkout", signal.MetricAnomaly, "latency_p99_ms", 0.9, "up"),
		ob(11*s, "gateway", signal.MetricAnomaly, "error_ratio", 0.8, "up"),
	}
	causes := Rank(Input{Observations: obs, Topology: shop()}, Config{})
	if causes[0].Entity != "payment" {
		t.Fatalf("top = %s/%s, want payment: gateway was retrying checkout\n%s", causes[0].Entity, causes[0].Kind, dump(causes))
	}
	// Without the complaint it is a surge entering at checkout.
	obs = slices.Delete(obs, 1, 2)
	if causes := Rank(Input{Observations: obs, Topology: shop()}, Config{}); causes[0].Entity != "checkout" || causes[0].Kind != KindLoad {
		t.Fatalf("top = %s/%s, want checkout/load\n%s", causes[0].Entity, causes[0].Kind, dump(causes))
	}
}
