package knowledgetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// TestStore runs the conformance suite against stores made by open. Each
// subtest opens a new, empty store and closes it when done, so open must
// not close it itself.
func TestStore(t *testing.T, open func(t *testing.T) knowledge.Store) {
	t.Helper()
	run := func(name string, f func(t *testing.T, ctx context.Context, s knowledge.Store)) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			f(t, t.Context(), s)
		})
	}
	run("ObservationsRoundTrip", testObservationsRoundTrip)
	run("ObservationsNonFinite", testObservationsNonFinite)
	run("ObservationsQuery", testObservationsQuery)
	run("ObservationsDefaultLimit", testObservationsDefaultLimit)
	run("Events", testEvents)
	run("IncidentsRoundTrip", testIncidentsRoundTrip)
	run("IncidentsQuery", testIncidentsQuery)
	run("Rules", testRules)
	run("Executions", testExecutions)
	run("Concurrent", testConcurrent)
	run("CanceledContext", testCanceledContext)
}

// t0 is in a zone other than UTC and has nanoseconds, so that a store
// which loses either is caught.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("UTC+1", 3600))

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func observation(entity string, kind signal.ObsKind, minute int) signal.Observation {
	return signal.Observation{
		Time:     at(minute),
		Start:    at(minute - 2),
		Entity:   entity,
		Kind:     kind,
		Name:     fmt.Sprintf("%s-%d", kind, minute),
		Score:    0.75,
		Actual:   850.5,
		Expected: 150,
		Low:      120,
		High:     180.25,
		Summary:  fmt.Sprintf("p99 latency 850ms at minute %d", minute),
		Evidence: map[string]string{"direction": "up", "minute": fmt.Sprint(minute)},
	}
}

func testObservationsRoundTrip(t *testing.T, ctx context.Context, s knowledge.Store) {
	if err := s.AddObservations(ctx, nil); err != nil {
		t.Fatalf("AddObservations(nil): %v", err)
	}
	got, err := s.Observations(ctx, knowledge.ObservationQuery{})
	if err != nil || len(got) != 0 {
		t.Fatalf("Observations on an empty store = %v, %v; want none", got, err)
	}

	full := observation("checkout", signal.TraceLatency, 0)
	bare := signal.Observation{Time: at(1), Entity: "host:db-1", Kind: signal.MetricForecast} // zero Start, nil Evidence
	empty := observation("cart", signal.LogBurst, 2)
	empty.Evidence = map[string]string{}
	preset := observation("cart", signal.Change, 3)
	preset.ID = 424242 // ignored: every observation is stored as a new one
	obs := []signal.Observation{full, bare, empty, preset}
	want := slices.Clone(obs)
	if err := s.AddObservations(ctx, obs); err != nil {
		t.Fatalf("AddObservations: %v", err)
	}
	ids := map[int64]bool{}
	for i, o := range obs {
		if o.ID <= 0 || ids[o.ID] || o.ID == preset.ID {
			t.Fatalf("observation %d got ID %d; want a new positive unique ID (all: %v)", i, o.ID, obs)
		}
		ids[o.ID] = true
		want[i].ID = o.ID
	}

	got, err = s.Observations(ctx, knowledge.ObservationQuery{})
	if err != nil {
		t.Fatalf("Observations: %v", err)
	}
	slices.Reverse(want) // newest first
	sameObservations(t, got, want)

	for _, w := range want {
		got, err := s.Observations(ctx, knowledge.ObservationQuery{IDs: []int64{w.ID}})
		if err != nil {
			t.Fatalf("Observations(IDs %d): %v", w.ID, err)
		}
		sameObservations(t, got, []signal.Observation{w})
	}
}

func testObservationsNonFinite(t *testing.T, ctx context.Context, s knowledge.Store) {
	o := observation("checkout", signal.MetricAnomaly, 0)
	o.Score, o.Actual, o.Expected, o.Low = math.NaN(), math.Inf(1), math.Inf(-1), math.NaN()
	obs := []signal.Observation{o, observation("checkout", signal.MetricAnomaly, 1)}
	if err := s.AddObservations(ctx, obs); err != nil {
		t.Fatalf("AddObservations with NaN and Inf: %v", err)
	}
	got, err := s.Observations(ctx, knowledge.ObservationQuery{IDs: []int64{obs[0].ID, obs[1].ID}})
	if err != nil {
		t.Fatalf("Observations: %v", err)
	}
	want := []signal.Observation{obs[1], obs[0]}
	want[1].Score, want[1].Actual, want[1].Expected, want[1].Low = 0, 0, 0, 0
	sameObservations(t, got, want)
}

func testObservationsQuery(t *testing.T, ctx context.Context, s knowledge.Store) {
	kinds := []signal.ObsKind{signal.MetricAnomaly, signal.LogBurst, signal.TraceLatency}
	var all []signal.Observation
	// Minutes are stored out of order so that the order has to come from
	// the store, and no two share a time so "newest first" is one order.
	for _, m := range []int{7, 3, 11, 0, 5, 1, 9, 2, 10, 4, 8, 6} {
		all = append(all, observation([]string{"a", "b"}[m%2], kinds[m%3], m))
	}
	// Two batches: IDs must keep coming across transactions.
	if err := s.AddObservations(ctx, all[:5]); err != nil {
		t.Fatalf("AddObservations: %v", err)
	}
	if err := s.AddObservations(ctx, all[5:]); err != nil {
		t.Fatalf("AddObservations: %v", err)
	}
	id := func(minute int) int64 {
		for _, o := range all {
			if o.Time.Equal(at(minute)) {
				return o.ID
			}
		}
		t.Fatalf("no observation at minute %d", minute)
		return 0
	}

	f := func(q knowledge.ObservationQuery) {
		t.Helper()
		got, err := s.Observations(ctx, q)
		if err != nil {
			t.Fatalf("Observations(%+v): %v", q, err)
		}
		sameObservations(t, got, referenceObservations(all, q))
	}
	f(knowledge.ObservationQuery{})
	f(knowledge.ObservationQuery{Entity: "a"})
	f(knowledge.ObservationQuery{Entity: "nobody"})
	f(knowledge.ObservationQuery{Kinds: []signal.ObsKind{signal.LogBurst}})
	f(knowledge.ObservationQuery{Kinds: []signal.ObsKind{signal.MetricAnomaly, signal.TraceLatency}})
	f(knowledge.ObservationQuery{Kinds: []signal.ObsKind{signal.Alarm}})
	f(knowledge.ObservationQuery{Since: at(3)})
	f(knowledge.ObservationQuery{Until: at(5)})
	f(knowledge.ObservationQuery{Since: at(3), Until: at(9)})
	f(knowledge.ObservationQuery{Since: at(3).Add(time.Nanosecond), Until: at(9).Add(time.Nanosecond)})
	f(knowledge.ObservationQuery{Since: at(9), Until: at(3)})
	f(knowledge.ObservationQuery{Since: at(-1000000), Until: at(1000000)})
	f(knowledge.ObservationQuery{Entity: "b", Kinds: []signal.ObsKind{signal.MetricAnomaly, signal.LogBurst}, Since: at(1), Until: at(10)})
	f(knowledge.ObservationQuery{Limit: 3})
	f(knowledge.ObservationQuery{Entity: "a", Since: at(2), Limit: 2})
	f(knowledge.ObservationQuery{IDs: []int64{id(2), id(5), id(9)}})
	f(knowledge.ObservationQuery{IDs: []int64{id(9), id(2), id(9), 1 << 40}})
	f(knowledge.ObservationQuery{IDs: []int64{id(2), id(5), id(9)}, Entity: "b"})
	f(knowledge.ObservationQuery{IDs: []int64{id(2), id(5), id(9)}, Since: at(3), Kinds: []signal.ObsKind{signal.LogBurst, signal.TraceLatency}})
	f(knowledge.ObservationQuery{IDs: []int64{id(2), id(5), id(9)}, Limit: 1})
	f(knowledge.ObservationQuery{IDs: []int64{}})
}

// referenceObservations is what a store must answer to q over all.
func referenceObservations(all []signal.Observation, q knowledge.ObservationQuery) []signal.Observation {
	var out []signal.Observation
	for _, o := range all {
		switch {
		case q.Entity != "" && o.Entity != q.Entity,
			len(q.Kinds) > 0 && !slices.Contains(q.Kinds, o.Kind),
			!inRange(o.Time, q.Since, q.Until),
			q.IDs != nil && !slices.Contains(q.IDs, o.ID):
			continue
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b signal.Observation) int { return b.Time.Compare(a.Time) })
	n := cmp.Or(q.Limit, 1000)
	if q.IDs != nil && q.Limit == 0 {
		n = len(out)
	}
	return out[:min(n, len(out))]
}

func inRange(t, since, until time.Time) bool {
	return (since.IsZero() || !t.Before(since)) && (until.IsZero() || t.Before(until))
}

func testObservationsDefaultLimit(t *testing.T, ctx context.Context, s knowledge.Store) {
	const n = 1001
	var all []signal.Observation
	for i := range n {
		all = append(all, signal.Observation{Time: at(i), Entity: "e", Kind: signal.MetricAnomaly, Name: "m"})
	}
	for i := 0; i < n; i += 100 {
		if err := s.AddObservations(ctx, all[i:min(i+100, n)]); err != nil {
			t.Fatalf("AddObservations: %v", err)
		}
	}
	ids := make([]int64, n)
	for i, o := range all {
		ids[i] = o.ID
	}
	f := func(q knowledge.ObservationQuery, want int) {
		t.Helper()
		got, err := s.Observations(ctx, q)
		if err != nil {
			t.Fatalf("Observations: %v", err)
		}
		if len(got) != want {
			t.Fatalf("Observations(Limit %d, %d IDs) returned %d; want %d", q.Limit, len(q.IDs), len(got), want)
		}
		if !got[0].Time.Equal(at(n - 1)) {
			t.Fatalf("first observation at %s; want the newest, %s", got[0].Time, at(n-1))
		}
	}
	f(knowledge.ObservationQuery{}, 1000)
	f(knowledge.ObservationQuery{Limit: n + 5}, n)
	f(knowledge.ObservationQuery{IDs: ids}, n)
	f(knowledge.ObservationQuery{IDs: ids, Limit: 10}, 10)
}

func testEvents(t *testing.T, ctx context.Context, s knowledge.Store) {
	var all []signal.Event
	for _, m := range []int{4, 0, 6, 2, 5, 1, 3} {
		e := signal.Event{
			Time:   at(m),
			Entity: []string{"checkout", "cart"}[m%2],
			Kind:   []signal.EventKind{signal.EventDeploy, signal.EventConfig, signal.EventAlarm}[m%3],
			Text:   fmt.Sprintf("change %d", m),
			Source: "argocd",
			Attrs:  map[string]string{"version": fmt.Sprintf("v1.%d", m)},
		}
		if m == 3 {
			e.Attrs, e.Source, e.Text = nil, "", ""
		}
		if m == 5 {
			e.ID = 515151 // ignored
		}
		if err := s.AddEvent(ctx, &e); err != nil {
			t.Fatalf("AddEvent: %v", err)
		}
		if e.ID <= 0 || e.ID == 515151 || slices.ContainsFunc(all, func(o signal.Event) bool { return o.ID == e.ID }) {
			t.Fatalf("AddEvent set ID %d; want a new positive unique one", e.ID)
		}
		all = append(all, e)
	}
	f := func(q knowledge.EventQuery) {
		t.Helper()
		got, err := s.Events(ctx, q)
		if err != nil {
			t.Fatalf("Events(%+v): %v", q, err)
		}
		var want []signal.Event
		for _, e := range all {
			if (q.Entity == "" || e.Entity == q.Entity) && inRange(e.Time, q.Since, q.Until) {
				want = append(want, e)
			}
		}
		slices.SortFunc(want, func(a, b signal.Event) int { return b.Time.Compare(a.Time) })
		want = want[:min(cmp.Or(q.Limit, 1000), len(want))]
		if len(got) != len(want) {
			t.Fatalf("Events(%+v) returned %d events; want %d\ngot  %+v\nwant %+v", q, len(got), len(want), got, want)
		}
		for i := range want {
			checkUTC(t, "event time", got[i].Time)
			g, w := got[i], want[i]
			g.Time, w.Time = normTime(g.Time), normTime(w.Time)
			g.Attrs, w.Attrs = nilMap(g.Attrs), nilMap(w.Attrs)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("Events(%+v)[%d]:\ngot  %+v\nwant %+v", q, i, g, w)
			}
		}
	}
	f(knowledge.EventQuery{})
	f(knowledge.EventQuery{Entity: "cart"})
	f(knowledge.EventQuery{Entity: "nobody"})
	f(knowledge.EventQuery{Since: at(2)})
	f(knowledge.EventQuery{Until: at(4)})
	f(knowledge.EventQuery{Entity: "checkout", Since: at(1), Until: at(6)})
	f(knowledge.EventQuery{Limit: 2})
	f(knowledge.EventQuery{Entity: "cart", Limit: 1})
}

func incident(title string, status signal.IncidentStatus, updatedMinute int) signal.Incident {
	return signal.Incident{
		Status:         status,
		Title:          title,
		Onset:          at(updatedMinute - 10),
		Opened:         at(updatedMinute - 8),
		Updated:        at(updatedMinute),
		Diagnosed:      at(updatedMinute - 7),
		Entities:       []string{"checkout", "payments"},
		ObservationIDs: []int64{3, 1, 2},
		Causes: []signal.Cause{
			{Entity: "payments", Kind: "latency", Score: 0.9, Evidence: []string{"p99 up 5x", "deploy 2m before"}},
			{Entity: "db", Score: 0.3, Evidence: []string{"pool saturated"}},
		},
		Runbook: &signal.Nomination{Name: "rollback", Mode: "suggest", Target: "payments", Actions: []string{"kubectl rollout undo"}},
		Labels:  map[string]string{"team": "pay"},
	}
}

func testIncidentsRoundTrip(t *testing.T, ctx context.Context, s knowledge.Store) {
	in := incident("payments latency", signal.IncidentOpen, 20)
	in.Causes[1].Score = math.NaN()
	want := in
	if err := s.PutIncident(ctx, &in); err != nil {
		t.Fatalf("PutIncident: %v", err)
	}
	if in.ID <= 0 {
		t.Fatalf("PutIncident set ID %d; want a positive one", in.ID)
	}
	if !math.IsNaN(in.Causes[1].Score) {
		t.Fatalf("PutIncident changed the caller's cause score to %v", in.Causes[1].Score)
	}
	want.ID = in.ID
	want.Causes = slices.Clone(want.Causes)
	want.Causes[1].Score = 0
	got, err := s.Incident(ctx, in.ID)
	if err != nil {
		t.Fatalf("Incident(%d): %v", in.ID, err)
	}
	sameIncident(t, got, want)

	bare := signal.Incident{Status: signal.IncidentOpen, Opened: at(1), Updated: at(1)}
	if err := s.PutIncident(ctx, &bare); err != nil {
		t.Fatalf("PutIncident(bare): %v", err)
	}
	if bare.ID == in.ID {
		t.Fatalf("two incidents got the same ID %d", in.ID)
	}
	if got, err = s.Incident(ctx, bare.ID); err != nil {
		t.Fatalf("Incident(%d): %v", bare.ID, err)
	}
	sameIncident(t, got, bare)

	// Replace: the lifecycle moves on and the causes are re-ranked.
	in.Status, in.Title, in.Updated, in.Resolved = signal.IncidentResolved, "payments latency (resolved)", at(30), at(29)
	in.Causes = []signal.Cause{{Entity: "db", Kind: "resource", Score: 0.8, Evidence: []string{"pool saturated"}}}
	in.Runbook, in.Labels = nil, nil
	in.ObservationIDs = append(in.ObservationIDs, 9)
	id := in.ID
	if err := s.PutIncident(ctx, &in); err != nil {
		t.Fatalf("PutIncident(replace): %v", err)
	}
	if in.ID != id {
		t.Fatalf("replacing changed the ID from %d to %d", id, in.ID)
	}
	if got, err = s.Incident(ctx, id); err != nil {
		t.Fatalf("Incident(%d): %v", id, err)
	}
	sameIncident(t, got, in)
	list, err := s.Incidents(ctx, knowledge.IncidentQuery{})
	if err != nil || len(list) != 2 {
		t.Fatalf("Incidents after a replace = %d incidents, %v; want 2", len(list), err)
	}

	missing := max(in.ID, bare.ID) + 1000
	if _, err := s.Incident(ctx, missing); !errors.Is(err, knowledge.ErrNotFound) {
		t.Fatalf("Incident(missing) error = %v; want ErrNotFound", err)
	}
	ghost := incident("ghost", signal.IncidentOpen, 1)
	ghost.ID = missing
	if err := s.PutIncident(ctx, &ghost); !errors.Is(err, knowledge.ErrNotFound) {
		t.Fatalf("PutIncident(unknown ID) error = %v; want ErrNotFound", err)
	}
}

func testIncidentsQuery(t *testing.T, ctx context.Context, s knowledge.Store) {
	statuses := []signal.IncidentStatus{signal.IncidentOpen, signal.IncidentMitigating, signal.IncidentResolved}
	var all []signal.Incident
	for _, m := range []int{5, 1, 8, 3, 7, 0, 6, 2, 4} {
		in := incident(fmt.Sprintf("incident %d", m), statuses[m%3], m)
		in.Opened = at(-10 * m) // opened in the reverse order of updated
		if err := s.PutIncident(ctx, &in); err != nil {
			t.Fatalf("PutIncident: %v", err)
		}
		all = append(all, in)
	}
	f := func(q knowledge.IncidentQuery) {
		t.Helper()
		got, err := s.Incidents(ctx, q)
		if err != nil {
			t.Fatalf("Incidents(%+v): %v", q, err)
		}
		var want []signal.Incident
		for _, in := range all {
			if (q.Status == "" || in.Status == q.Status) && inRange(in.Updated, q.Since, time.Time{}) {
				want = append(want, in)
			}
		}
		slices.SortFunc(want, func(a, b signal.Incident) int { return b.Updated.Compare(a.Updated) })
		want = want[:min(cmp.Or(q.Limit, 1000), len(want))]
		if len(got) != len(want) {
			t.Fatalf("Incidents(%+v) returned %d; want %d", q, len(got), len(want))
		}
		for i := range want {
			sameIncident(t, got[i], want[i])
		}
	}
	f(knowledge.IncidentQuery{})
	f(knowledge.IncidentQuery{Status: signal.IncidentOpen})
	f(knowledge.IncidentQuery{Status: signal.IncidentResolved, Since: at(3)})
	f(knowledge.IncidentQuery{Since: at(4)})
	f(knowledge.IncidentQuery{Since: at(4).Add(time.Nanosecond)})
	f(knowledge.IncidentQuery{Limit: 4})
	f(knowledge.IncidentQuery{Status: signal.IncidentMitigating, Limit: 2})
	f(knowledge.IncidentQuery{Status: "unknown"})
}

func testRules(t *testing.T, ctx context.Context, s knowledge.Store) {
	rules := []signal.Rule{
		{If: []string{"trace.latency", "change:deploy"}, Cause: "change", Action: "rollback", Support: 0.1, Confidence: 0.9, Lift: 3.5, Origin: "mined"},
		{If: []string{"metric.forecast:memory"}, Cause: "resource", Support: 0.05, Confidence: 0.7, Lift: math.Inf(1), Origin: "manual"},
		{Cause: "load", Origin: "manual"},
	}
	for i := range rules {
		if err := s.PutRule(ctx, &rules[i]); err != nil {
			t.Fatalf("PutRule: %v", err)
		}
		if rules[i].ID <= 0 || (i > 0 && rules[i].ID == rules[i-1].ID) {
			t.Fatalf("PutRule set ID %d; want a new positive one", rules[i].ID)
		}
	}
	want := slices.Clone(rules)
	want[1].Lift = 0 // non-finite reads back as 0
	f := func(want []signal.Rule) {
		t.Helper()
		got, err := s.Rules(ctx)
		if err != nil {
			t.Fatalf("Rules: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("Rules returned %d; want %d:\ngot  %+v\nwant %+v", len(got), len(want), got, want)
		}
		for i := range want {
			g, w := got[i], want[i]
			g.If, w.If = nilSlice(g.If), nilSlice(w.If)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("Rules()[%d]:\ngot  %+v\nwant %+v", i, g, w)
			}
		}
	}
	f(want)

	rules[0].Confidence, rules[0].If = 0.95, append(rules[0].If, "log.error_burst")
	if err := s.PutRule(ctx, &rules[0]); err != nil {
		t.Fatalf("PutRule(replace): %v", err)
	}
	want[0] = rules[0]
	f(want)

	last := rules[2].ID
	if err := s.DeleteRule(ctx, last); err != nil {
		t.Fatalf("DeleteRule: %v", err)
	}
	f(want[:2])
	if err := s.DeleteRule(ctx, last); !errors.Is(err, knowledge.ErrNotFound) {
		t.Fatalf("DeleteRule(deleted) error = %v; want ErrNotFound", err)
	}
	ghost := signal.Rule{ID: last, Cause: "ghost"}
	if err := s.PutRule(ctx, &ghost); !errors.Is(err, knowledge.ErrNotFound) {
		t.Fatalf("PutRule(deleted ID) error = %v; want ErrNotFound", err)
	}
	fresh := signal.Rule{If: []string{"alarm"}, Cause: "unknown", Origin: "manual"}
	if err := s.PutRule(ctx, &fresh); err != nil {
		t.Fatalf("PutRule: %v", err)
	}
	if fresh.ID == last {
		t.Fatalf("a new rule reused the deleted rule's ID %d", last)
	}
	f(append(want[:2:2], fresh))
}

func testExecutions(t *testing.T, ctx context.Context, s knowledge.Store) {
	ex := []signal.Execution{
		{IncidentID: 1, Runbook: "rollback", Step: "undo", Target: "payments", Mode: "auto", Trigger: "policy", Status: "running", Input: "rev 41", Started: at(0)},
		{IncidentID: 2, Runbook: "restart", Step: "restart", Target: "cart", Mode: "dry-run", Trigger: "operator:alice", Status: "planned"},
		{IncidentID: 1, Runbook: "rollback", Step: "verify", Target: "payments", Mode: "auto", Trigger: "policy", Status: "pending-approval", Started: at(1)},
	}
	for i := range ex {
		if err := s.AddExecution(ctx, &ex[i]); err != nil {
			t.Fatalf("AddExecution: %v", err)
		}
		if ex[i].ID <= 0 || (i > 0 && ex[i].ID == ex[i-1].ID) {
			t.Fatalf("AddExecution set ID %d; want a new positive one", ex[i].ID)
		}
	}
	ex[0].Status, ex[0].Output, ex[0].Ended = "succeeded", "rolled back to rev 41", at(2)
	if err := s.AddExecution(ctx, &ex[0]); err != nil {
		t.Fatalf("AddExecution(update): %v", err)
	}
	f := func(incident int64, want []signal.Execution) {
		t.Helper()
		got, err := s.Executions(ctx, incident)
		if err != nil {
			t.Fatalf("Executions(%d): %v", incident, err)
		}
		if len(got) != len(want) {
			t.Fatalf("Executions(%d) returned %d; want %d: %+v", incident, len(got), len(want), got)
		}
		for i := range want {
			checkUTC(t, "started", got[i].Started)
			checkUTC(t, "ended", got[i].Ended)
			g, w := got[i], want[i]
			g.Started, g.Ended, w.Started, w.Ended = normTime(g.Started), normTime(g.Ended), normTime(w.Started), normTime(w.Ended)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("Executions(%d)[%d]:\ngot  %+v\nwant %+v", incident, i, g, w)
			}
		}
	}
	f(1, []signal.Execution{ex[0], ex[2]})
	f(2, ex[1:2])
	f(99, nil)

	// The audit log: every incident's records, newest recorded first; a
	// time range leaves out the record never started.
	log := func(q knowledge.ExecutionQuery, want ...int64) {
		t.Helper()
		got, err := s.AuditLog(ctx, q)
		if err != nil {
			t.Fatalf("AuditLog(%+v): %v", q, err)
		}
		ids := make([]int64, len(got))
		for i, e := range got {
			ids[i] = e.ID
		}
		if !reflect.DeepEqual(ids, want) && !(len(ids) == 0 && len(want) == 0) {
			t.Fatalf("AuditLog(%+v) = records %v; want %v", q, ids, want)
		}
	}
	log(knowledge.ExecutionQuery{}, ex[2].ID, ex[1].ID, ex[0].ID)
	log(knowledge.ExecutionQuery{Limit: 2}, ex[2].ID, ex[1].ID)
	log(knowledge.ExecutionQuery{Since: at(0)}, ex[2].ID, ex[0].ID)
	log(knowledge.ExecutionQuery{Since: at(1)}, ex[2].ID)
	log(knowledge.ExecutionQuery{Until: at(1)}, ex[0].ID)
	if got, err := s.AuditLog(ctx, knowledge.ExecutionQuery{Limit: 1}); err != nil || len(got) != 1 || got[0].Status != "pending-approval" {
		t.Fatalf("AuditLog(limit 1) = %+v, %v", got, err)
	}
	ghost := signal.Execution{ID: ex[2].ID + 1000, IncidentID: 1, Status: "running"}
	if err := s.AddExecution(ctx, &ghost); !errors.Is(err, knowledge.ErrNotFound) {
		t.Fatalf("AddExecution(unknown ID) error = %v; want ErrNotFound", err)
	}
}

// testConcurrent runs writers and readers of every kind at once; under
// -race it also checks the store's own synchronisation.
func testConcurrent(t *testing.T, ctx context.Context, s knowledge.Store) {
	const (
		writers = 8
		batches = 10
		batch   = 10
	)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  = map[int64]bool{}
		errs = make(chan error, 4*writers)
	)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				obs := make([]signal.Observation, batch)
				for i := range obs {
					obs[i] = observation(fmt.Sprintf("svc-%d", w), signal.MetricAnomaly, b*batch+i)
				}
				if err := s.AddObservations(ctx, obs); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, o := range obs {
					ids[o.ID] = true
				}
				mu.Unlock()
			}
			e := signal.Event{Time: at(w), Entity: fmt.Sprintf("svc-%d", w), Kind: signal.EventDeploy}
			if err := s.AddEvent(ctx, &e); err != nil {
				errs <- err
			}
			in := incident(fmt.Sprintf("incident %d", w), signal.IncidentOpen, w)
			if err := s.PutIncident(ctx, &in); err != nil {
				errs <- err
				return
			}
			in.Status = signal.IncidentResolved
			if err := s.PutIncident(ctx, &in); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			for range batches {
				if _, err := s.Observations(ctx, knowledge.ObservationQuery{Entity: fmt.Sprintf("svc-%d", (w+1)%writers), Limit: 50}); err != nil {
					errs <- err
					return
				}
				if _, err := s.Incidents(ctx, knowledge.IncidentQuery{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
	if len(ids) != writers*batches*batch {
		t.Fatalf("%d distinct observation IDs; want %d", len(ids), writers*batches*batch)
	}
	got, err := s.Observations(ctx, knowledge.ObservationQuery{Limit: 2 * writers * batches * batch})
	if err != nil || len(got) != writers*batches*batch {
		t.Fatalf("stored %d observations (%v); want %d", len(got), err, writers*batches*batch)
	}
	evs, err := s.Events(ctx, knowledge.EventQuery{})
	if err != nil || len(evs) != writers {
		t.Fatalf("stored %d events (%v); want %d", len(evs), err, writers)
	}
	ins, err := s.Incidents(ctx, knowledge.IncidentQuery{Status: signal.IncidentResolved})
	if err != nil || len(ins) != writers {
		t.Fatalf("stored %d resolved incidents (%v); want %d", len(ins), err, writers)
	}
}

func testCanceledContext(t *testing.T, ctx context.Context, s knowledge.Store) {
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	obs := []signal.Observation{observation("a", signal.MetricAnomaly, 0)}
	if err := s.AddObservations(ctx, obs); err == nil {
		t.Errorf("AddObservations with a canceled context succeeded")
	}
	if _, err := s.Observations(ctx, knowledge.ObservationQuery{}); err == nil {
		t.Errorf("Observations with a canceled context succeeded")
	}
	in := incident("x", signal.IncidentOpen, 0)
	if err := s.PutIncident(ctx, &in); err == nil {
		t.Errorf("PutIncident with a canceled context succeeded")
	}
}

// sameObservations fails t unless got equals want in order, allowing only
// for the time zone and nil against empty evidence.
func sameObservations(t *testing.T, got, want []signal.Observation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d observations; want %d\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range want {
		checkUTC(t, "observation time", got[i].Time)
		checkUTC(t, "observation start", got[i].Start)
		g, w := got[i], want[i]
		g.Time, g.Start, g.Evidence = normTime(g.Time), normTime(g.Start), nilMap(g.Evidence)
		w.Time, w.Start, w.Evidence = normTime(w.Time), normTime(w.Start), nilMap(w.Evidence)
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("observation %d:\ngot  %+v\nwant %+v", i, g, w)
		}
	}
}

// sameIncident fails t unless got equals want, allowing only for the time
// zone and nil against empty slices and maps.
func sameIncident(t *testing.T, got, want signal.Incident) {
	t.Helper()
	for _, tm := range []time.Time{got.Onset, got.Opened, got.Updated, got.Resolved, got.Diagnosed} {
		checkUTC(t, "incident time", tm)
	}
	norm := func(in signal.Incident) signal.Incident {
		in.Onset, in.Opened, in.Updated = normTime(in.Onset), normTime(in.Opened), normTime(in.Updated)
		in.Resolved, in.Diagnosed = normTime(in.Resolved), normTime(in.Diagnosed)
		in.Entities, in.Labels = nilSlice(in.Entities), nilMap(in.Labels)
		if len(in.ObservationIDs) == 0 {
			in.ObservationIDs = nil
		}
		if len(in.Causes) == 0 {
			in.Causes = nil
		}
		in.Causes = slices.Clone(in.Causes)
		for i := range in.Causes {
			in.Causes[i].Evidence = nilSlice(in.Causes[i].Evidence)
		}
		if in.Runbook != nil {
			rb := *in.Runbook
			rb.Actions = nilSlice(rb.Actions)
			in.Runbook = &rb
		}
		return in
	}
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("incident %d:\ngot  %+v\nwant %+v", want.ID, g, w)
	}
}

func checkUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Fatalf("%s %s is in %s; want UTC", what, tm, tm.Location())
	}
}

// normTime is t in a canonical form, so that DeepEqual compares instants.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.Unix(0, t.UnixNano()).UTC()
}

func nilMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func nilSlice(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
