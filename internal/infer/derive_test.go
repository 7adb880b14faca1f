package infer

import (
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestDeriverCallGapSelfTimeAndErrors(t *testing.T) {
	d := NewDeriver(time.Minute, 0)
	t0 := time.Unix(1_700_000_000, 0).UTC().Truncate(time.Minute)
	var spans []signal.Span
	for i := range 10 {
		tr := string(rune('a' + i))
		st := t0.Add(time.Duration(i) * time.Second)
		// front's server span calls cart; the client span is 300 ms, cart's
		// server span 100 ms: 200 ms in front of cart. One call in two
		// fails in cart and front fails with it.
		status := signal.StatusOK
		if i%2 == 0 {
			status = signal.StatusError
		}
		spans = append(spans,
			signal.Span{TraceID: tr, SpanID: "1", Service: "front", Kind: signal.SpanServer, Start: st, Duration: 400 * time.Millisecond, Status: status},
			signal.Span{TraceID: tr, SpanID: "2", ParentID: "1", Service: "front", Kind: signal.SpanClient, Start: st, Duration: 300 * time.Millisecond, Status: status},
			signal.Span{TraceID: tr, SpanID: "3", ParentID: "2", Service: "cart", Kind: signal.SpanServer, Start: st.Add(100 * time.Millisecond), Duration: 100 * time.Millisecond, Status: status},
		)
	}
	d.AddSpans(spans)
	d.AddLogs([]signal.LogRecord{{Time: t0, Entity: "cart/cart-1", Severity: signal.SeverityError}, {Time: t0, Entity: "cart", Severity: signal.SeverityInfo}})
	if got := d.Flush(t0.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("the bucket closed before its grace: %v", got)
	}
	got := map[string]float64{}
	for _, s := range d.Flush(t0.Add(2 * time.Minute)) {
		got[s.Entity+" "+s.Name+" "+s.Labels["caller"]] = s.Value
	}
	want := map[string]float64{
		"cart " + SeriesCallGap + " front":   0.2,
		"cart " + SeriesErrorOrigin + " ":    0.5, // cart's failures began there
		"front " + SeriesErrorOrigin + " ":   0,   // front's failed because cart's did
		"front " + SeriesSelfTime + " ":      0.1,
		"cart " + SeriesServerDuration + " ": 0.1,
		"cart " + SeriesLogErrors + " ":      1.0 / 60,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g < v-1e-9 || g > v+1e-9 {
			t.Errorf("%s: got %v (present %v), want %v", k, g, ok, v)
		}
	}
}
