package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestDataClock(t *testing.T) {
	wall := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var c dataClock
	if got := c.now(wall); !got.Equal(wall) {
		t.Fatalf("before any data: %v, want the wall clock", got)
	}
	// A backlog from 15 minutes ago: the stages tick on its time.
	c.observe(&signal.Batch{Logs: []signal.LogRecord{{Time: wall.Add(-15 * time.Minute)}}})
	if got, want := c.now(wall), wall.Add(-15*time.Minute+dataLag); !got.Equal(want) {
		t.Fatalf("lagging data: %v, want %v", got, want)
	}
	// Older data does not move it back; a span counts by its end.
	c.observe(&signal.Batch{Samples: []signal.Sample{{Time: wall.Add(-time.Hour)}},
		Spans: []signal.Span{{Start: wall.Add(-10 * time.Second), Duration: 5 * time.Second}}})
	if got, want := c.now(wall), wall; !got.Equal(want) {
		t.Fatalf("caught up: %v, want the wall clock %v", got, want)
	}
	// A signal from the future does not pull the clock past the wall.
	c.observe(&signal.Batch{Events: []signal.Event{{Time: wall.Add(time.Hour)}}})
	if got := c.now(wall); !got.Equal(wall) {
		t.Fatalf("future data: %v, want the wall clock", got)
	}
}

// TestTickWaitsForWhatWasIngested: the stages are ticked at the data's
// time once every batch ingested before has gone through them. A pipeline
// lagging the clock (a backfill, a loaded machine) must not have its
// windows closed under records still queued: spans would be rejected as
// stale, log records counted late in the next window as a burst (the noise
// incident TestSimulatorFeedsSeerRunOverOTLP met under load).
func TestTickWaitsForWhatWasIngested(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	// Any span the trace stage is given after the tick is stale: the
	// clock is dataLag past the newest.
	cfg.Trace.MaxLag = time.Second
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	// Minutes of spans backfilled at once, then a tick at the clock.
	const secs, perSec = 300, 20
	for i := range secs {
		var b signal.Batch
		for k := range perSec {
			b.Spans = append(b.Spans, signal.Span{TraceID: fmt.Sprintf("t%d-%d", i, k), SpanID: "a", Service: "cart",
				Operation: "GetCart", Kind: signal.SpanServer, Start: at.Add(time.Duration(i) * time.Second), Duration: time.Millisecond})
		}
		if err := e.Ingest(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Tick(ctx, e.clock.now(time.Now())); err != nil {
		t.Fatal(err)
	}
	st := e.trace.Stats()
	if st.SpansAccepted != secs*perSec || len(st.Rejected) != 0 {
		t.Errorf("the trace stage took %d of %d spans, rejected %v: it was ticked before it had them", st.SpansAccepted, secs*perSec, st.Rejected)
	}
}
