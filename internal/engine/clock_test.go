package engine

import (
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
