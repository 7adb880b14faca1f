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
// fault with the most observations that began at or after the onset; one
// opened by earlier noise that nothing joined after the onset (it resolves
// minutes into the fault) is not it, and neither is a noise incident the
// fault joined as a minority, however many observations it holds.
func TestPickIncident(t *testing.T) {
	onset := time.Date(2025, 1, 1, 1, 20, 0, 0, time.UTC)
	m := func(d time.Duration) time.Time { return onset.Add(d) }
	obsTime := map[int64]time.Time{}
	ids := func(first int64, n int, at time.Duration) []int64 {
		var out []int64
		for k := range n {
			id := first + int64(k)
			obsTime[id] = m(at)
			out = append(out, id)
		}
		return out
	}
	incidents := map[int64]signal.Incident{
		1: {ID: 1, Opened: m(-14 * time.Minute), Resolved: m(2 * time.Minute), ObservationIDs: ids(100, 14, -10*time.Minute)},
		2: {ID: 2, Opened: m(22 * time.Second), ObservationIDs: ids(200, 6, time.Minute)},
		3: {ID: 3, Opened: m(-30 * time.Minute), Resolved: m(-10 * time.Minute), ObservationIDs: ids(300, 40, -20*time.Minute)},
	}
	active := map[int64]time.Time{1: m(-3 * time.Minute), 2: m(5 * time.Minute), 3: m(-15 * time.Minute)}
	f := func(want int64) {
		t.Helper()
		got := pickIncident(incidents, active, obsTime, []int64{1, 2, 3}, onset, m(8*time.Minute))
		if got == nil || got.ID != want {
			t.Errorf("picked %+v, want incident %d", got, want)
		}
	}
	f(2)
	// The noise incident joined by two of the fault's observations is not
	// it: the fault's own incident holds more of them.
	in := incidents[1]
	in.ObservationIDs = append(in.ObservationIDs, ids(400, 2, 30*time.Second)...)
	incidents[1] = in
	active[1] = m(30 * time.Second)
	f(2)
	// Joined by most of the fault's evidence, it is.
	in.ObservationIDs = append(in.ObservationIDs, ids(500, 8, time.Minute)...)
	incidents[1] = in
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
