package trace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// shop simulates a small shop: frontend calls cart, catalog and orders;
// orders calls the database db through a client span. Self times are
// log-normal with ~20% spread and every service originates an error now and
// then (0.5%), which its callers propagate.
type shop struct {
	rng   *rand.Rand
	seq   int
	fault string // "", "latency", "errors", "down" or "hang"
	// pending spans not yet exported, by export time
	pending []pendingSpan
}

type pendingSpan struct {
	at   time.Time
	span signal.Span
}

func newShop(seed uint64) *shop {
	return &shop{rng: rand.New(rand.NewPCG(seed, 42))}
}

func (g *shop) self(ms float64) time.Duration {
	return time.Duration(ms * math.Exp(0.2*g.rng.NormFloat64()) * float64(time.Millisecond))
}

func (g *shop) id() string {
	g.seq++
	return fmt.Sprintf("%x", g.seq)
}

// call makes a server span of service called at start by parent, with own
// work selfMs split around its children; it returns the spans and the end.
func (g *shop) serve(traceID, parent, service, op string, start time.Time, selfMs float64,
	children func(parentID string, at time.Time) (time.Time, bool, []signal.Span)) ([]signal.Span, time.Time, bool) {
	id := g.id()
	own := g.self(selfMs)
	at := start.Add(own / 2)
	failed := false
	var spans []signal.Span
	if children != nil {
		var childErr bool
		at, childErr, spans = children(id, at)
		failed = childErr
	}
	end := at.Add(own - own/2)
	if g.rng.Float64() < 0.005 {
		failed = true
	}
	sp := signal.Span{TraceID: traceID, SpanID: id, ParentID: parent, Service: service, Operation: op,
		Kind: signal.SpanServer, Start: start, Duration: end.Sub(start), Status: signal.StatusOK}
	if failed {
		sp.Status = signal.StatusError
	}
	return append(spans, sp), end, failed
}

// trace makes one checkout trace starting at start.
func (g *shop) trace(start time.Time) []signal.Span {
	tid := fmt.Sprintf("t%08x", g.seq)
	db := func(parent string, at time.Time) (time.Time, bool, []signal.Span) {
		id := g.id()
		net := g.self(0.25)
		client := signal.Span{TraceID: tid, SpanID: id, ParentID: parent, Service: "orders", Operation: "db.query",
			Kind: signal.SpanClient, Start: at, Status: signal.StatusOK,
			Attrs: map[string]string{signal.AttrPeerService: "db"}}
		if g.fault == "down" {
			client.Duration = g.self(1)
			client.Status = signal.StatusError
			client.Attrs[signal.AttrErrorType] = "connection_refused"
			return at.Add(client.Duration), true, []signal.Span{client}
		}
		selfMs := 8.0
		if g.fault == "latency" {
			selfMs += 300
		}
		spans, end, failed := g.serve(tid, id, "db", "query", at.Add(net), selfMs, nil)
		if g.fault == "errors" && g.rng.Float64() < 0.3 {
			spans[len(spans)-1].Status = signal.StatusError
			failed = true
		}
		end = end.Add(g.self(0.25))
		client.Duration = end.Sub(at)
		if failed {
			client.Status = signal.StatusError
		}
		return end, failed, append(spans, client)
	}
	root := func(parent string, at time.Time) (time.Time, bool, []signal.Span) {
		var all []signal.Span
		anyErr := false
		for _, c := range []struct {
			svc, op string
			ms      float64
			kids    func(string, time.Time) (time.Time, bool, []signal.Span)
		}{{"cart", "GetCart", 3, nil}, {"catalog", "GetProduct", 6, nil}, {"orders", "PlaceOrder", 5, db}} {
			spans, end, failed := g.serve(tid, parent, c.svc, c.op, at, c.ms, c.kids)
			all = append(all, spans...)
			at = end
			anyErr = anyErr || failed
		}
		return at, anyErr, all
	}
	spans, _, _ := g.serve(tid, "", "frontend", "GET /checkout", start, 4, root)
	if g.fault == "hang" {
		// frontend hangs after its calls: its span, never ended, is never
		// exported.
		spans = spans[:len(spans)-1]
	}
	return spans
}

// run simulates from..to at rate traces per second, feeding the stage one
// second at a time (spans exported up to a second after they end, in any
// order) and returning the observations.
func (g *shop) run(s *Stage, from, to time.Time, rate float64) []signal.Observation {
	var out []signal.Observation
	for t := from; t.Before(to); t = t.Add(time.Second) {
		// Poisson arrivals within the second.
		for at := t.Add(time.Duration(g.rng.ExpFloat64() / rate * 1e9)); at.Before(t.Add(time.Second)); at = at.Add(time.Duration(g.rng.ExpFloat64() / rate * 1e9)) {
			for _, sp := range g.trace(at) {
				g.pending = append(g.pending, pendingSpan{sp.End().Add(time.Duration(g.rng.Float64() * 1e9)), sp})
			}
		}
		next := t.Add(time.Second)
		var batch []signal.Span
		g.pending = slices.DeleteFunc(g.pending, func(p pendingSpan) bool {
			if p.at.Before(next) {
				batch = append(batch, p.span)
				return true
			}
			return false
		})
		g.rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		out = append(out, s.Process(batch)...)
		out = append(out, s.Tick(next)...)
	}
	return out
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestShop(t *testing.T) {
	s := NewStage(Config{}, nil)
	g := newShop(1)
	start := t0
	healthy := time.Hour
	if testing.Short() {
		healthy = 15 * time.Minute
	}
	end := start.Add(healthy)
	if obs := g.run(s, start, end, 5); len(obs) != 0 {
		t.Fatalf("healthy traffic raised %d observations, first: %v", len(obs), obs[0])
	}
	st := s.Stats()
	if st.TracesCompleted < int64(healthy.Seconds()*4) || st.TracesIncomplete != 0 || len(st.Rejected) != 0 {
		t.Fatalf("stats after healthy run: %+v", st)
	}

	// Each fault starts at an odd offset within a window and lasts two
	// minutes, followed by ten healthy minutes that must stay quiet.
	f := func(fault string, kind signal.ObsKind, name string) {
		t.Helper()
		at := end.Add(2*time.Minute + 1300*time.Millisecond)
		if q := g.run(s, end, at, 5); len(q) != 0 {
			t.Fatalf("%s: quiet spell raised %v", fault, q[0])
		}
		g.fault = fault
		stop := at.Add(2 * time.Minute)
		obs := g.run(s, at, stop, 5)
		g.fault = ""
		end = stop.Add(10 * time.Minute)
		after := g.run(s, stop, end, 5)
		var first *signal.Observation
		for i, o := range obs {
			if o.Entity != "db" {
				t.Errorf("%s: observation names %s, not db: %v", fault, o.Entity, o)
			}
			if first == nil && o.Kind == kind {
				first = &obs[i]
			}
		}
		if first == nil {
			t.Fatalf("%s: no %s observation among %v", fault, kind, obs)
		}
		if d := first.Time.Sub(at); d > 10*time.Second {
			t.Errorf("%s: detected after %s, want within 10s", fault, d)
		}
		if first.Name != name || first.Score <= 0.5 || first.Score > 1 || first.Start.After(first.Time) || first.Start.Before(at.Add(-5*time.Second)) {
			t.Errorf("%s: bad observation %+v", fault, *first)
		}
		if first.Evidence["trace_id"] == "" || first.Evidence["direction"] != "up" {
			t.Errorf("%s: evidence %v", fault, first.Evidence)
		}
		// The example trace is kept, with the span the finding is about
		// (for a callee that is down, the caller's client span to it).
		ex, ok := s.Exemplar(first.Evidence["trace_id"])
		if !ok || ex.TraceID != first.Evidence["trace_id"] || len(ex.Spans) < 2 {
			t.Errorf("%s: example trace %s kept: %v %+v", fault, first.Evidence["trace_id"], ok, ex)
		}
		about := slices.IndexFunc(ex.Spans, func(sp ExemplarSpan) bool {
			switch kind {
			case signal.TraceLatency:
				return sp.Service == "db" && sp.Operation == "query" && sp.End.Sub(sp.Start) > 0
			case signal.TraceErrors:
				return sp.Service == "db" && sp.Error
			}
			return sp.Service == "orders" && sp.Client
		})
		if about < 0 || !slices.IsSortedFunc(ex.Spans, func(a, b ExemplarSpan) int { return a.Start.Compare(b.Start) }) {
			t.Errorf("%s: example trace %+v lacks the span of the finding, or is out of order", fault, ex.Spans)
		}
		// Once on onset, then at most once a minute while it lasts.
		if n := len(obs); n > 3*2 {
			t.Errorf("%s: %d observations in 2 minutes, want at most a few: %v", fault, n, obs)
		}
		for _, o := range after {
			if o.Time.After(stop.Add(15 * time.Second)) {
				t.Errorf("%s: observation after recovery: %v", fault, o)
			} else if o.Entity != "db" {
				t.Errorf("%s: observation during recovery names %s: %v", fault, o.Entity, o)
			}
		}
		t.Logf("%s: %v", fault, *first)
	}
	f("latency", signal.TraceLatency, "query")
	f("errors", signal.TraceErrors, "query")
	f("down", signal.TraceUnreachable, "orders")

	top := s.Topology()
	if want := []string{"cart", "catalog", "db", "frontend", "orders"}; !slices.Equal(top.Services, want) {
		t.Errorf("services %v, want %v", top.Services, want)
	}
	var pairs []string
	for _, e := range top.Edges {
		pairs = append(pairs, e.Caller+">"+e.Callee)
		if e.Rate < 3 || e.Rate > 7 || e.Calls < 1000 {
			t.Errorf("edge %+v: rate or calls off", e)
		}
	}
	if want := []string{"frontend>cart", "frontend>catalog", "frontend>orders", "orders>db"}; !slices.Equal(pairs, want) {
		t.Errorf("edges %v, want %v", pairs, want)
	}
}
