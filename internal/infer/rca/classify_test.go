package rca

import (
	"testing"

	"github.com/seerops/seer/internal/semconv"
)

func TestHealthSignalsFallingMeanUnavailable(t *testing.T) {
	for _, n := range []string{"up", "probe_success", "health", "ready", "kube_pod_up"} {
		if kind, w, _ := metricClue(semconv.Default.Of(n, nil), "down"); kind != KindUnavailable || w != 1 {
			t.Errorf("%s falling: kind %q weight %v, want unavailable, 1", n, kind, w)
		}
		if kind, _, _ := metricClue(semconv.Default.Of(n, nil), "up"); kind != "" {
			t.Errorf("%s rising: kind %q, want none", n, kind)
		}
	}
}
