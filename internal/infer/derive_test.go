package infer

import (
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestDeriverErrorLines(t *testing.T) {
	d := NewDeriver(time.Minute)
	t0 := time.Unix(1_700_000_000, 0).UTC().Truncate(time.Minute)
	d.AddLogs([]signal.LogRecord{{Time: t0, Entity: "cart/cart-1", Severity: signal.SeverityError}, {Time: t0, Entity: "cart", Severity: signal.SeverityInfo},
		{Time: t0, Entity: "front", Severity: signal.SeverityWarn}})
	if got := d.Flush(t0.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("the bucket closed before its grace: %v", got)
	}
	got := map[string]float64{}
	for _, s := range d.Flush(t0.Add(2 * time.Minute)) {
		got[s.Entity+" "+s.Name] = s.Value
	}
	want := map[string]float64{
		"cart " + signal.SeriesLogErrors:  1.0 / 60,
		"front " + signal.SeriesLogErrors: 0, // a service that logged is a baseline too
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: got %v (present %v), want %v", k, g, ok, v)
		}
	}
}
