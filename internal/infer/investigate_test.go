package infer

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/seerops/seer/internal/detect/trace"
	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/signal"
)

// traffic makes a minute of traces front → cart → db from t: n requests;
// gap is the time between front's client span and cart's server span; dbErr
// makes db's spans fail (and the failure propagate as errors up the chain).
func traffic(t time.Time, n int, gap time.Duration, dbErr bool) []signal.Span {
	var out []signal.Span
	for i := range n {
		st := t.Add(time.Duration(i) * time.Minute / time.Duration(n))
		tr := fmt.Sprintf("%d-%d", t.Unix(), i)
		status := signal.StatusOK
		if dbErr {
			status = signal.StatusError
		}
		db := 20 * time.Millisecond
		cart := 10*time.Millisecond + db
		client := cart + gap
		front := 5*time.Millisecond + client
		out = append(out,
			signal.Span{TraceID: tr, SpanID: "1", Service: "front", Kind: signal.SpanServer, Start: st, Duration: front, Status: status},
			signal.Span{TraceID: tr, SpanID: "2", ParentID: "1", Service: "front", Kind: signal.SpanClient, Start: st, Duration: client, Status: status},
			signal.Span{TraceID: tr, SpanID: "3", ParentID: "2", Service: "cart", Kind: signal.SpanServer, Start: st.Add(gap / 2), Duration: cart, Status: status},
			signal.Span{TraceID: tr, SpanID: "4", ParentID: "3", Service: "cart", Kind: signal.SpanClient, Start: st.Add(gap / 2), Duration: db, Status: status},
			signal.Span{TraceID: tr, SpanID: "5", ParentID: "4", Service: "db", Kind: signal.SpanServer, Start: st.Add(gap / 2), Duration: db, Status: status},
		)
	}
	return out
}

func TestInvestigateFromTraces(t *testing.T) {
	topo := signal.Topology{Edges: []signal.Edge{{Caller: "front", Callee: "cart"}, {Caller: "cart", Callee: "db"}}}
	at := time.Unix(1_700_000_000, 0).UTC().Truncate(time.Minute)
	for _, c := range []struct {
		name  string
		gap   time.Duration
		dbErr bool
		want  string
	}{
		// A network delay in front of cart: front's latency rises, and so
		// does its self time as a client, but the gap is cart's.
		{"network delay", 300 * time.Millisecond, false, "cart"},
		// db's failures propagate up as errors; they began in db.
		{"errors", 2 * time.Millisecond, true, "db"},
	} {
		t.Run(c.name, func(t *testing.T) {
			inf := New(Config{}, func() signal.Topology { return topo }, nil)
			// The trace stage derives the series, as in the engine.
			st := trace.NewStage(trace.DefaultConfig(), nil)
			for m := -30; m < 5; m++ {
				gap, dbErr := 2*time.Millisecond, false
				if m >= 0 {
					gap, dbErr = c.gap, c.dbErr
				}
				st.Process(traffic(at.Add(time.Duration(m)*time.Minute), 20, gap, dbErr))
				now := at.Add(time.Duration(m+1) * time.Minute)
				st.Tick(now)
				inf.AddSamples(st.Series(now))
			}
			st.Tick(at.Add(time.Hour))
			inf.AddSamples(st.Series(time.Time{}))
			causes := inf.Investigate(at, "")
			if len(causes) == 0 || causes[0].Entity != c.want {
				t.Fatalf("want %s first, got %+v", c.want, causes)
			}
		})
	}
}

// An incident opened by a firing alert is investigated where the alert
// says the trouble shows: the alerted service and what it depends on. A
// larger change elsewhere (a batch job's service, off the alerted path) is
// not blamed for it.
func TestAlertFocusesTheInvestigation(t *testing.T) {
	topo := signal.Topology{Edges: []signal.Edge{
		{Caller: "checkout", Callee: "payment"}, {Caller: "payment", Callee: "postgres"},
		{Caller: "frontend", Callee: "checkout"}, {Caller: "frontend", Callee: "reports"},
	}}
	at := time.Unix(1_700_000_000, 0).UTC().Truncate(time.Minute)
	inf := New(Config{}, func() signal.Topology { return topo }, nil)
	var samples []signal.Sample
	for m := -30; m < 6; m++ {
		ts := at.Add(time.Duration(m) * time.Minute)
		wiggle := 0.002 * float64(m%3)
		pay, rep := 0.100+wiggle, 0.050+wiggle
		if m >= 0 {
			pay, rep = 0.400+wiggle, 5.0+wiggle // reports' jump is far larger
		}
		for _, s := range []struct {
			entity string
			v      float64
		}{{"payment", pay}, {"reports", rep}, {"checkout", 0.2 + wiggle}, {"postgres", 0.01 + wiggle/10}} {
			samples = append(samples, signal.Sample{Name: "http_server_request_duration_seconds", Labels: map[string]string{"service": s.entity}, Entity: s.entity, Time: ts, Value: s.v})
		}
	}
	inf.AddSamples(samples)
	if c := inf.Investigate(at, ""); len(c) == 0 || c[0].Entity != "reports" {
		t.Fatalf("unfocused, the larger change should lead (the test's premise): %+v", c)
	}
	// The alert fires a minute in, on checkout; seer's own detector has
	// flagged payment's latency meanwhile.
	alarm := signal.Observation{Time: at.Add(time.Minute), Start: at.Add(time.Minute), Entity: "checkout", Kind: signal.Alarm, Name: "HighLatency", Score: 0.95}
	slow := signal.Observation{Time: at.Add(time.Minute), Start: at, Entity: "payment", Kind: signal.MetricAnomaly, Name: "http_server_request_duration_seconds", Score: 0.7}
	ins := inf.Add([]signal.Observation{alarm, slow})
	if len(ins) != 1 || len(ins[0].Causes) == 0 {
		t.Fatalf("the alert opened no diagnosed incident: %+v", ins)
	}
	for _, c := range ins[0].Causes {
		if c.Entity == "reports" {
			t.Fatalf("reports, off the alerted path, is a cause: %+v", ins[0].Causes)
		}
	}
	top := ins[0].Causes[0]
	if top.Entity != "payment" || !slices.ContainsFunc(top.Facts, func(f signal.Fact) bool { return f.Kind == rca.FactChange }) {
		t.Fatalf("want payment first with its investigated change, got %+v", ins[0].Causes)
	}
}
