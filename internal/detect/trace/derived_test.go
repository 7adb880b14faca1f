package trace

import (
	"math"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestDerivedSeries(t *testing.T) {
	s := NewStage(DefaultConfig(), nil)
	t0 := time.Unix(1_700_000_000, 0).UTC().Truncate(time.Minute)
	var spans []signal.Span
	for i := range 10 {
		tr := string(rune('a' + i))
		st := t0.Add(time.Duration(i) * time.Second)
		// front's server span calls cart; the client span is 300 ms, cart's
		// server span 100 ms: 200 ms in front of cart. One call in two
		// fails in cart and front fails with it. front also calls an
		// external payment service that leaves no span, 50 ms, failing
		// every time: payment's errors, not front's.
		status := signal.StatusOK
		if i%2 == 0 {
			status = signal.StatusError
		}
		spans = append(spans,
			signal.Span{TraceID: tr, SpanID: "1", Service: "front", Kind: signal.SpanServer, Start: st, Duration: 400 * time.Millisecond, Status: status},
			signal.Span{TraceID: tr, SpanID: "2", ParentID: "1", Service: "front", Kind: signal.SpanClient, Start: st, Duration: 300 * time.Millisecond, Status: status},
			signal.Span{TraceID: tr, SpanID: "3", ParentID: "2", Service: "cart", Kind: signal.SpanServer, Start: st.Add(100 * time.Millisecond), Duration: 100 * time.Millisecond, Status: status},
			signal.Span{TraceID: tr, SpanID: "4", ParentID: "1", Service: "front", Kind: signal.SpanClient, Start: st.Add(300 * time.Millisecond), Duration: 50 * time.Millisecond,
				Status: signal.StatusError, Attrs: map[string]string{signal.AttrPeerService: "payment"}},
		)
	}
	s.Process(spans)
	s.Tick(t0.Add(30 * time.Second))
	if got := s.Series(t0.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("the step closed before its traces could complete: %v", got)
	}
	got := map[string]float64{}
	for _, smp := range s.Series(t0.Add(2 * time.Minute)) {
		got[smp.Entity+" "+smp.Name+" "+smp.Labels["caller"]] = smp.Value
	}
	want := map[string]float64{
		"cart " + signal.SeriesCallGap + " front":      0.2,
		"cart " + signal.SeriesErrorOrigin + " ":       0.5, // cart's failures began there
		"front " + signal.SeriesErrorOrigin + " ":      0,   // front's failed because cart's and payment's did
		"payment " + signal.SeriesErrorOrigin + " ":    1,
		"payment " + signal.SeriesClientDuration + " ": 0.05,
		"front " + signal.SeriesSelfTime + " ":         0.05, // 400 ms less 300 and 50 waiting
		"cart " + signal.SeriesServerDuration + " ":    0.1,
		"front " + signal.SeriesSpanRate + " ":         10.0 / 60,
		"front " + signal.SeriesFanOut + " ":           2,
	}
	for k, v := range want {
		// medians come from a sketch of 2% relative accuracy
		if g, ok := got[k]; !ok || math.Abs(g-v) > 0.02*v+1e-9 {
			t.Errorf("%s: got %v (present %v), want %v", k, g, ok, v)
		}
	}
	if n := len(s.Series(time.Time{})); n != 0 {
		t.Errorf("a step was returned twice: %d samples", n)
	}
	// A span of a step already returned is late: counted, not re-opened.
	s.Process([]signal.Span{{TraceID: "late", SpanID: "1", Service: "front", Kind: signal.SpanServer, Start: t0, Duration: time.Millisecond}})
	s.Tick(t0.Add(3 * time.Minute))
	if n := len(s.Series(time.Time{})); n != 0 || s.Stats().LateSeriesSpans == 0 {
		t.Errorf("late span: %d samples, %d late", n, s.Stats().LateSeriesSpans)
	}
}
