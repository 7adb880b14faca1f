package engine

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// TestIngestDropsInvalidEntities: whatever the source, a signal whose
// entity is not a valid name stops at the engine, counted; the rest of its
// batch goes on.
func TestIngestDropsInvalidEntities(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Bus.Sync = true
	e, err := New(context.Background(), cfg, quiet, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const attack = "127.0.0.1:9999?$(touch${IFS}pwned)"
	now := time.Unix(1_700_000_000, 0)
	b := &signal.Batch{
		Samples: []signal.Sample{{Time: now, Entity: "cart", Name: "up", Value: 1}, {Time: now, Entity: attack, Name: "up", Value: 1}},
		Events: []signal.Event{{Time: now, Entity: attack, Kind: signal.EventAlarm, Text: "x"},
			{Time: now, Entity: "cart", Kind: signal.EventDeploy, Text: "v2"}},
		Spans: []signal.Span{{TraceID: "t", SpanID: "s", Service: "cart", Start: now,
			Attrs: map[string]string{signal.AttrPeerService: "db`id`"}}},
	}
	if err := e.Ingest(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	for sig, want := range map[string]float64{"sample": 1, "event": 1, "span": 1, "log": 0} {
		if got := testutil.ToFloat64(e.m.rejected.WithLabelValues(sig, "bad_entity")); got != want {
			t.Errorf("rejected %s bad_entity = %g; want %g", sig, got, want)
		}
	}
	if got := testutil.ToFloat64(e.m.ingested.WithLabelValues("event")); got != 1 {
		t.Errorf("events ingested = %g; want 1", got)
	}
	evs, err := e.Store().Events(context.Background(), knowledge.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Entity != "cart" {
		t.Errorf("stored events %+v; want cart's deploy only", evs)
	}
}
