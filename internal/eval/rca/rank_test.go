package rca

import "testing"

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
