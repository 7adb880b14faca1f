package rca

import (
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestRankOf(t *testing.T) {
	f := func(ranked []string, root string, want int) {
		t.Helper()
		if got := rankOf(ranked, root); got != want {
			t.Errorf("rankOf(%v, %q) = %d, want %d", ranked, root, got, want)
		}
	}
	f([]string{"a", "b"}, "b", 2)
	f([]string{"a", "b"}, "c", 0)
	f([]string{"a", "svc"}, "svc/svc-1", 2) // a replica's fault named as its service
	f([]string{"svc/svc-1"}, "svc/svc-1", 1)
	f([]string{"svc"}, "svc-2", 0) // no prefix matching
	f([]string{"peer", "db"}, "db", 2)
}

// TestPickIncident: the case is scored by the incident live during the
// fault with the most observations; one opened by earlier noise that
// nothing joined after the onset (it resolves minutes into the fault) is
// not it, however many observations it holds.
func TestPickIncident(t *testing.T) {
	onset := time.Date(2025, 1, 1, 1, 20, 0, 0, time.UTC)
	m := func(d time.Duration) time.Time { return onset.Add(d) }
	incidents := map[int64]signal.Incident{
		1: {ID: 1, Opened: m(-14 * time.Minute), Resolved: m(2 * time.Minute), ObservationIDs: make([]int64, 14)},
		2: {ID: 2, Opened: m(22 * time.Second), ObservationIDs: make([]int64, 6)},
		3: {ID: 3, Opened: m(-30 * time.Minute), Resolved: m(-10 * time.Minute), ObservationIDs: make([]int64, 40)},
	}
	active := map[int64]time.Time{1: m(-3 * time.Minute), 2: m(5 * time.Minute), 3: m(-15 * time.Minute)}
	f := func(want int64) {
		t.Helper()
		got := pickIncident(incidents, active, []int64{1, 2, 3}, onset, m(8*time.Minute))
		if got == nil || got.ID != want {
			t.Errorf("picked %+v, want incident %d", got, want)
		}
	}
	f(2)
	// The same noise incident joined by the fault's observations is it.
	active[1] = m(30 * time.Second)
	f(1)
}

// TestSeenAtTheFaultsEnd: an incident is scored as it stood when the fault
// ended; its re-ranking in the aftermath is not the diagnosis.
func TestSeenAtTheFaultsEnd(t *testing.T) {
	end := time.Date(2025, 1, 1, 1, 28, 0, 0, time.UTC)
	s := newSeen(end)
	during := signal.Incident{ID: 4, Updated: end.Add(-time.Minute), Causes: []signal.Cause{{Entity: "svc-3"}}}
	after := signal.Incident{ID: 4, Updated: end.Add(20 * time.Second), Causes: []signal.Cause{{Entity: "cache-1"}}}
	s.record(during)
	s.record(after)
	if got := s.incidents[4]; got.Causes[0].Entity != "svc-3" || !s.active[4].Equal(during.Updated) {
		t.Fatalf("scored %+v (active %v), want the incident as it stood at the fault's end", got, s.active[4])
	}
	s = newSeen(time.Time{})
	s.record(during)
	s.record(after)
	if got := s.incidents[4]; got.Causes[0].Entity != "cache-1" {
		t.Fatalf("without an end, scored %+v, want the last update", got)
	}
}
