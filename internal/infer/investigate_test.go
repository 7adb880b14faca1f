package infer

import (
	"fmt"
	"testing"
	"time"

	"github.com/seerops/seer/internal/detect/trace"
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
