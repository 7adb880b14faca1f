package trace

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// sp builds a span of trace tid starting startMs after t0 and lasting durMs.
func sp(tid, id, parent, svc, op string, startMs, durMs float64) signal.Span {
	return signal.Span{TraceID: tid, SpanID: id, ParentID: parent, Service: svc, Operation: op,
		Kind: signal.SpanServer, Status: signal.StatusOK,
		Start:    t0.Add(time.Duration(startMs * float64(time.Millisecond))),
		Duration: time.Duration(durMs * float64(time.Millisecond))}
}

func failed(s signal.Span) signal.Span { s.Status = signal.StatusError; return s }

func client(s signal.Span, peer string) signal.Span {
	s.Kind = signal.SpanClient
	s.Attrs = map[string]string{signal.AttrPeerService: peer, signal.AttrErrorType: "refused"}
	return s
}

func TestAnalysis(t *testing.T) {
	type want struct {
		selfMs float64
		errs   int64
	}
	f := func(spans []signal.Span, wantOps map[string]want, wantUnreach map[string]int64, wantEdges []string) {
		t.Helper()
		s := NewStage(Config{}, nil)
		s.Process(spans)
		s.Tick(t0.Add(10 * time.Second))
		if st := s.Stats(); st.TracesCompleted != 1 {
			t.Fatalf("completed %d traces, want 1: %+v", st.TracesCompleted, st)
		}
		for k, w := range wantOps {
			svc, op, _ := strings.Cut(k, "/")
			sr := s.series[skey{kindOp, svc, op}]
			if sr == nil {
				t.Errorf("no series %s", k)
				continue
			}
			got := math.Exp(sr.b.sum/float64(sr.b.n)) - logFloorMs
			if math.Abs(got-w.selfMs) > 1e-6 || sr.b.k != w.errs {
				t.Errorf("%s: self %.3fms errors %d, want %.3fms %d", k, got, sr.b.k, w.selfMs, w.errs)
			}
		}
		for k, n := range wantUnreach {
			peer, caller, _ := strings.Cut(k, "<")
			sr := s.series[skey{kindUnreach, peer, caller}]
			if sr == nil || sr.b.k != n {
				t.Errorf("unreachable %s: %+v, want %d failures", k, sr, n)
			}
		}
		var edges []string
		for _, e := range s.Topology().Edges {
			edges = append(edges, e.Caller+">"+e.Callee)
			if e.Calls != 1 {
				t.Errorf("edge %+v: want one call", e)
			}
		}
		if strings.Join(edges, ",") != strings.Join(wantEdges, ",") {
			t.Errorf("edges %v, want %v", edges, wantEdges)
		}
	}
	// Overlapping children: the union, not the sum, is subtracted.
	f([]signal.Span{
		sp("t", "b", "a", "b", "B", 10, 30),
		sp("t", "a", "", "a", "A", 0, 100),
		sp("t", "c", "a", "c", "C", 30, 30),
	}, map[string]want{"a/A": {50, 0}, "b/B": {30, 0}, "c/C": {30, 0}}, nil, []string{"a>b", "a>c"})
	// A child running past its parent is clipped to it.
	f([]signal.Span{
		sp("t", "a", "", "a", "A", 0, 100),
		sp("t", "b", "a", "b", "B", 80, 70),
	}, map[string]want{"a/A": {80, 0}, "b/B": {70, 0}}, nil, []string{"a>b"})
	// Errors originate in the deepest error span; propagation is not blamed.
	f([]signal.Span{
		failed(sp("t", "a", "", "a", "A", 0, 100)),
		failed(sp("t", "b", "a", "b", "B", 10, 50)),
		failed(sp("t", "d", "b", "d", "D", 20, 10)),
		sp("t", "c", "a", "c", "C", 70, 10),
	}, map[string]want{"a/A": {40, 0}, "b/B": {40, 0}, "d/D": {10, 1}, "c/C": {10, 0}}, nil, []string{"a>b", "a>c", "b>d"})
	// A failed client call with no peer span: the peer is unreachable, its
	// time is the peer's, and the caller is not blamed for the error.
	f([]signal.Span{
		failed(sp("t", "a", "", "a", "A", 0, 100)),
		failed(client(sp("t", "x", "a", "a", "query", 10, 5), "db")),
	}, map[string]want{"a/A": {95, 0}, "db/query": {5, 0}}, map[string]int64{"db<a": 1}, []string{"a>db"})
	// A client span with its peer's server span under it is one call, and
	// the client span keeps only the network time.
	f([]signal.Span{
		sp("t", "a", "", "a", "A", 0, 100),
		client(sp("t", "x", "a", "a", "query", 10, 50), "db"),
		sp("t", "y", "x", "db", "select", 12, 40),
	}, map[string]want{"a/A": {50, 0}, "a/query": {10, 0}, "db/select": {40, 0}}, map[string]int64{"db<a": 0}, []string{"a>db"})
	// A cycle and a self-parent do not hang or crash the analysis.
	f([]signal.Span{
		sp("t", "a", "a", "a", "A", 0, 100),
		sp("t", "b", "c", "b", "B", 10, 10),
		sp("t", "c", "b", "c", "C", 10, 10),
		sp("t", "b", "a", "b", "B", 10, 10), // duplicate id, dropped
	}, map[string]want{"a/A": {100, 0}}, nil, []string{"b>c"}) // the loop is cut at b
}

func TestValidation(t *testing.T) {
	good := sp("t", "s", "", "svc", "op", 0, 10)
	f := func(mut func(*signal.Span), reason string) {
		t.Helper()
		s := NewStage(Config{}, nil)
		x := good
		mut(&x)
		s.Process([]signal.Span{x})
		st := s.Stats()
		if st.Rejected[reason]+st.Repaired[reason] != 1 {
			t.Errorf("%s: stats %+v", reason, st)
		}
	}
	f(func(s *signal.Span) { s.TraceID = "" }, RejectNoTraceID)
	f(func(s *signal.Span) { s.SpanID = "" }, RejectNoSpanID)
	f(func(s *signal.Span) { s.Service = "" }, RejectNoService)
	f(func(s *signal.Span) { s.Operation = strings.Repeat("x", 1000) }, RejectFieldTooLong)
	f(func(s *signal.Span) { s.Duration = -1 }, RejectNegativeDur)
	f(func(s *signal.Span) { s.Duration = 100 * time.Hour }, RejectTooLong)
	f(func(s *signal.Span) { s.Start = time.Time{} }, RejectBadTime)
	f(func(s *signal.Span) { s.ParentID = s.SpanID }, RepairSelfParent)
	f(func(s *signal.Span) { s.Operation = "" }, RepairNoOperation)
	f(func(s *signal.Span) {
		s.Attrs = map[string]string{}
		for i := range 1000 {
			s.Attrs[strings.Repeat("k", i)] = "v"
		}
	}, RepairAttrs)

	// Relative to the latest Tick: far future and far past are refused.
	s := NewStage(Config{}, nil)
	s.Tick(t0.Add(time.Hour))
	s.Process([]signal.Span{good, sp("t", "s", "", "svc", "op", 3*3600e3, 10)})
	if st := s.Stats(); st.Rejected[RejectStale] != 1 || st.Rejected[RejectFuture] != 1 || st.SpansAccepted != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestBounds(t *testing.T) {
	s := NewStage(Config{MaxTraces: 2, MaxSpansPerTrace: 3, MaxBufferedSpans: 5}, nil)
	var spans []signal.Span
	for _, tid := range []string{"t1", "t2", "t3"} {
		for _, id := range []string{"a", "b", "c", "d"} {
			spans = append(spans, sp(tid, id, "", "svc", "op", 0, 10))
		}
	}
	s.Process(spans)
	st := s.Stats()
	// t1 takes 3 (its 4th is shed), t2 takes 2 before the buffer is full,
	// t3 is refused.
	if st.SpansAccepted != 5 || st.Shed[ShedMaxSpansInTrace] != 1 || st.Shed[ShedMaxBuffered] != 2 ||
		st.Shed[ShedMaxTraces] != 4 || st.ActiveTraces != 2 || st.BufferedSpans != 5 {
		t.Fatalf("stats %+v", st)
	}
	// The buffer drains once the traces time out, and takes spans again.
	s.Tick(t0.Add(time.Minute))
	if st := s.Stats(); st.BufferedSpans != 0 || st.ActiveTraces != 0 || st.TracesIncomplete != 2 {
		t.Fatalf("after timeout: %+v", st)
	}
}

func TestCompletion(t *testing.T) {
	s := NewStage(Config{}, nil)
	// The child arrives first, in its own batch; the parent within grace.
	s.Process([]signal.Span{sp("t", "b", "a", "b", "B", 10, 10)})
	s.Tick(t0.Add(1 * time.Second))
	s.Process([]signal.Span{sp("t", "a", "", "a", "A", 0, 100)})
	s.Tick(t0.Add(2 * time.Second))
	if st := s.Stats(); st.TracesCompleted != 0 || st.ActiveTraces != 1 {
		t.Fatalf("completed within grace: %+v", st)
	}
	s.Tick(t0.Add(2200 * time.Millisecond))
	if st := s.Stats(); st.TracesCompleted != 1 || st.TracesIncomplete != 0 {
		t.Fatalf("not completed after grace: %+v", st)
	}
	if top := s.Topology(); len(top.Edges) != 1 || top.Edges[0].Caller != "a" {
		t.Fatalf("topology %+v", top)
	}

	// Two spans whose parent never comes: the trace waits for the
	// completion timeout and is then incomplete.
	s.Process([]signal.Span{sp("u", "b", "a", "b", "B", 10, 10), sp("u", "c", "a", "c", "C", 10, 10)})
	s.Tick(t0.Add(20 * time.Second))
	if st := s.Stats(); st.TracesCompleted != 1 || st.ActiveTraces != 1 {
		t.Fatalf("orphans completed early: %+v", st)
	}
	s.Tick(t0.Add(31 * time.Second))
	if st := s.Stats(); st.TracesCompleted != 2 || st.TracesIncomplete != 1 || st.ActiveTraces != 0 {
		t.Fatalf("orphans not timed out: %+v", st)
	}
}

func TestTopology(t *testing.T) {
	s := NewStage(Config{}, nil)
	// 600 calls a→b over one minute, 10% failing, latencies 1..600ms.
	for i := range 600 {
		tid := "t" + string(rune('A'+i%26)) + strings.Repeat("x", i/26)
		at := float64(i) * 100
		child := sp(tid, "b", "a", "b", "B", at+1, float64(i+1))
		if i%10 == 0 {
			child = failed(child)
		}
		s.Process([]signal.Span{sp(tid, "a", "", "a", "A", at, 700), child})
	}
	s.Tick(t0.Add(63 * time.Second))
	top := s.Topology()
	if len(top.Edges) != 1 || strings.Join(top.Services, ",") != "a,b" {
		t.Fatalf("topology %+v", top)
	}
	e := top.Edges[0]
	near := func(got time.Duration, want float64) bool {
		return math.Abs(float64(got)/1e6-want) <= want*0.1
	}
	if e.Calls != 600 || e.Errors != 60 || !near(e.LatencyP50, 300) || !near(e.LatencyP99, 594) ||
		e.Rate < 8 || e.Rate > 11 || math.Abs(e.ErrorRatio-0.1) > 0.02 ||
		!e.FirstSeen.Equal(t0.Add(time.Millisecond)) {
		t.Errorf("edge %+v", e)
	}
	// Rates fall as the window moves on; the edge ages out after EdgeTTL.
	s.Tick(t0.Add(10 * time.Minute))
	if top := s.Topology(); len(top.Edges) != 1 || top.Edges[0].Rate != 0 || top.Edges[0].LatencyP50 != 0 {
		t.Errorf("after 10m: %+v", top)
	}
	s.Tick(t0.Add(17 * time.Minute))
	if top := s.Topology(); len(top.Edges) != 0 || len(top.Services) != 0 {
		t.Errorf("after 17m: %+v", top)
	}
}

// TestRepeat: a fault that lasts fires once at onset, then once a minute,
// all with the same start.
func TestRepeat(t *testing.T) {
	s := NewStage(Config{}, nil)
	g := newShop(7)
	from := t0.Add(15 * time.Minute)
	if obs := g.run(s, t0, from, 5); len(obs) != 0 {
		t.Fatalf("warm-up raised %v", obs[0])
	}
	g.fault = "latency"
	obs := g.run(s, from, from.Add(5*time.Minute), 5)
	if len(obs) < 5 || len(obs) > 6 {
		t.Fatalf("got %d observations in 5 minutes, want 5 or 6: %v", len(obs), obs)
	}
	for i, o := range obs {
		if !o.Start.Equal(obs[0].Start) || o.Entity != "db" {
			t.Errorf("observation %d: %v start %s", i, o, o.Start)
		}
		if i > 0 && o.Time.Sub(obs[i-1].Time) < time.Minute {
			t.Errorf("observation %d only %s after the last", i, o.Time.Sub(obs[i-1].Time))
		}
	}
}

// TestSparseQuiet: an operation seen once every few seconds with noisy
// latency and occasional errors never raises anything.
func TestSparseQuiet(t *testing.T) {
	s := NewStage(Config{}, nil)
	g := newShop(3)
	for i := range 2 * 3600 / 4 {
		at := t0.Add(time.Duration(i) * 4 * time.Second)
		ms := 20 * math.Exp(0.5*g.rng.NormFloat64())
		x := sp(g.id(), "a", "", "a", "Rare", float64(at.Sub(t0).Milliseconds()), ms)
		if g.rng.Float64() < 0.02 {
			x = failed(x)
		}
		s.Process([]signal.Span{x})
		if obs := s.Tick(at.Add(time.Second)); len(obs) != 0 {
			t.Fatalf("sparse operation raised %v", obs[0])
		}
	}
}

// raisedWithinAMinute feeds a sparse caller every 4 s, healthy for
// healthy and then faulty for 5 minutes (calls returns each tick's spans),
// and wants an observation of kind on entity dated after the fault and
// raised within a minute of it.
func raisedWithinAMinute(t *testing.T, healthy time.Duration, seed uint64, kind signal.ObsKind, entity string,
	calls func(g *shop, ms float64, faulty bool) []signal.Span) {
	t.Helper()
	s := NewStage(Config{}, nil)
	g := newShop(seed)
	fault := t0.Add(healthy)
	for at := t0; at.Before(fault.Add(5 * time.Minute)); at = at.Add(4 * time.Second) {
		s.Process(calls(g, float64(at.Sub(t0).Milliseconds()), !at.Before(fault)))
		for _, o := range s.Tick(at.Add(time.Second)) {
			if o.Kind != kind || o.Entity != entity {
				continue
			}
			if o.Start.Before(fault) || o.Time.Sub(fault) > time.Minute {
				t.Errorf("after %s healthy: raised at +%s (start %+v): %s", healthy, o.Time.Sub(fault), o.Start.Sub(fault), o.Summary)
			}
			return
		}
	}
	t.Errorf("after %s healthy: %s on %s never raised", healthy, kind, entity)
}

// TestSparseFailing: the same sparse operation (an external API called
// every 4 s) that starts failing half its calls is raised within a
// minute, whether its baseline had time to warm or not.
func TestSparseFailing(t *testing.T) {
	calls := func(g *shop, ms float64, faulty bool) []signal.Span {
		x := sp(g.id(), "a", "", "ext", "POST /v1", ms, 20*math.Exp(0.3*g.rng.NormFloat64()))
		if faulty && g.rng.Float64() < 0.5 || g.rng.Float64() < 0.02 {
			x = failed(x)
		}
		return []signal.Span{x}
	}
	raisedWithinAMinute(t, 5*time.Minute, 5, signal.TraceErrors, "ext", calls) // not warm: 36 judged windows of a sparse series take longer
	raisedWithinAMinute(t, time.Hour, 5, signal.TraceErrors, "ext", calls)
}

// TestSparseUnreachable: a caller that reaches a sparse peer every 4 s and
// then cannot reach it half the time (a partition) names the peer within a
// minute, warm baseline or not.
func TestSparseUnreachable(t *testing.T) {
	calls := func(g *shop, ms float64, faulty bool) []signal.Span {
		id := g.id()
		if faulty && g.rng.Float64() < 0.5 {
			return []signal.Span{failed(sp(id, "a", "", "a", "GET /a", ms, 50)), failed(client(sp(id, "x", "a", "a", "get", ms+5, 30), "cache"))}
		}
		return []signal.Span{sp(id, "a", "", "a", "GET /a", ms, 50), client(sp(id, "x", "a", "a", "get", ms+5, 30), "cache"), sp(id, "y", "x", "cache", "GET", ms+6, 20)}
	}
	raisedWithinAMinute(t, 5*time.Minute, 6, signal.TraceUnreachable, "cache", calls)
	raisedWithinAMinute(t, time.Hour, 6, signal.TraceUnreachable, "cache", calls)
}

func TestTimeoutObservation(t *testing.T) {
	s := NewStage(Config{}, nil)
	g := newShop(5)
	from := t0.Add(10 * time.Minute)
	g.run(s, t0, from, 5)
	g.fault = "hang"
	obs := g.run(s, from, from.Add(2*time.Minute), 5)
	found := false
	for _, o := range obs {
		found = found || o.Kind == signal.TraceTimeout
		if o.Kind != signal.TraceTimeout || o.Entity != "frontend" {
			t.Errorf("unexpected %v", o)
		}
	}
	if !found {
		t.Fatalf("no timeout observation: %v (stats %+v)", obs, s.Stats())
	}
}

func TestConcurrent(t *testing.T) {
	s := NewStage(Config{}, nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			g := newShop(uint64(w))
			for i := range 200 {
				at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
				s.Process(g.trace(at))
				s.Tick(at)
				_ = s.Topology()
				_ = s.Stats()
			}
		})
	}
	wg.Wait()
	if st := s.Stats(); st.SpansAccepted == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	err := Config{MaxTraces: -1, Grace: -time.Second, LatencyRatio: 0.5, ErrorAlpha: 2, MinErrorRatio: math.NaN()}.Validate()
	if err == nil {
		t.Fatal("bad config passed")
	}
	for _, want := range []string{"max_traces", "grace", "latency_ratio", "error_alpha", "min_error_ratio"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 5 {
		t.Errorf("want 5 joined errors, got %v", err)
	}
}
