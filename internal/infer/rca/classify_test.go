package rca

import "testing"

func TestHealthSignalsFallingMeanUnavailable(t *testing.T) {
	for _, n := range []string{"up", "probe_success", "health", "ready", "kube_pod_up"} {
		if kind, w, _ := metricClue(n, "down"); kind != KindUnavailable || w != 1 {
			t.Errorf("%s falling: kind %q weight %v, want unavailable, 1", n, kind, w)
		}
		if kind, _, _ := metricClue(n, "up"); kind != "" {
			t.Errorf("%s rising: kind %q, want none", n, kind)
		}
	}
}
