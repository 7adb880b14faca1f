package testbed

import (
	"slices"
	"testing"
	"time"

	"github.com/seerops/seer/internal/chaos"
	"github.com/seerops/seer/internal/signal"
)

func f(x float64) *float64 { return &x }

func TestSummarize(t *testing.T) {
	rows := []Row{
		{Fault: "kill", Target: "cart", DetectedS: f(2), RootCauseS: f(8), RecoveredS: f(35), Right: true, Runbook: "testbed-restart", Step: "gateway/POST cart/cart/{user}", StepRight: true},
		{Fault: "latency", Target: "db", DetectedS: f(30), RootCauseS: nil, Right: false, Step: "catalog/GET cache/kv/{key}"},
		{Fault: "disk", Target: "db", DetectedS: f(40), RootCauseS: f(50), Right: true, Runbook: "testbed-free-disk"},
		{Fault: "reset", Target: "catalog"},
	}
	s := summarize(rows)
	if s.Faults != 4 || s.Detected != 3 || s.Right != 2 || s.Recoverable != 2 || s.Recovered != 1 || s.Within1510 != 1 ||
		s.Fingerprinted != 2 || s.Localised != 1 {
		t.Errorf("summary %+v", s)
	}
	if *s.MedianDetect != 30 || *s.MedianRoot != 29 || *s.MedianRecover != 35 {
		t.Errorf("medians %v %v %v", *s.MedianDetect, *s.MedianRoot, *s.MedianRecover)
	}
	if summarize(nil).MedianDetect != nil {
		t.Error("a median of nothing")
	}
}

func TestStepOf(t *testing.T) {
	g := func(step, svc, peer string) {
		t.Helper()
		if s, p := stepOf(step); s != svc || p != peer {
			t.Errorf("stepOf(%q) = %q, %q; want %q, %q", step, s, p, svc, peer)
		}
	}
	g("gateway/POST cart/cart/{user}/items/{id}", "gateway", "cart")
	g("catalog/GET db/products/{id}", "catalog", "db")
	g("db/GET /products/{id}", "db", "")
	g("shipping/poll orders", "shipping", "orders")
	row := finish(Row{Target: "cart", Step: "gateway/POST cart/cart/{user}"}, &signal.Incident{ID: 3, Causes: []signal.Cause{{Entity: "cart"}}})
	if !row.StepRight || !row.Right || row.Incident != 3 {
		t.Errorf("finish: %+v", row)
	}
}

func TestTargetsAndRunbooks(t *testing.T) {
	names := (&Testbed{}).Services()
	called := Called()
	for _, k := range chaos.Kinds() {
		ts := chaos.Targets(k, names, called)
		if len(ts) == 0 {
			t.Errorf("%s has no target", k)
		}
		if (k == chaos.Latency || k == chaos.Loss || k == chaos.Reset) && slices.Contains(ts, "frontend") {
			t.Errorf("%s: frontend has no caller behind a proxy of the shop's", k)
		}
	}
	if runbookFor(chaos.Kill) == "" || runbookFor(chaos.Latency) != "" {
		t.Error("runbookFor")
	}
}

func TestLoadFollowsTheDay(t *testing.T) {
	l := NewLoad(LoadConfig{Day: time.Hour, Peak: 10, Phase: 0.0001})
	night, noon := l.Rate(0), l.Rate(30*time.Minute)
	if night < 2.9 || night > 3.1 || noon < 9.9 || noon > 10.0 {
		t.Errorf("rate at night %.2f, at noon %.2f; want 3 and 10", night, noon)
	}
}

func TestDependents(t *testing.T) {
	got := dependents("cache")
	for _, s := range []string{"cache", "catalog", "cart", "checkout", "gateway", "frontend"} {
		if !got[s] {
			t.Errorf("%s depends on cache", s)
		}
	}
	if got["db"] || got["payment"] || got["shipping"] {
		t.Errorf("dependents of cache: %v", got)
	}
}
