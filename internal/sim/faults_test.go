package sim

import (
	"slices"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// TestAllFaults injects every kind of fault into the big shop and checks
// that it moves the signals it should, that the services it cannot reach
// are left alone, and that the ground truth is what was injected.
func TestAllFaults(t *testing.T) {
	type check func(t *testing.T, before, during *rec)
	rises := func(entity, name string, factor, plus float64) check {
		return func(t *testing.T, before, during *rec) {
			t.Helper()
			if b, d := before.mean(entity, name), during.mean(entity, name); !(d >= b*factor+plus) {
				t.Errorf("%s %s %.4f → %.4f, want ≥ ×%v%+v", entity, name, b, d, factor, plus)
			}
		}
	}
	peaks := func(entity, name string, lo float64) check {
		return func(t *testing.T, before, during *rec) {
			t.Helper()
			if d := during.max(entity, name); d < lo {
				t.Errorf("%s %s peaked at %.3f, want ≥ %v", entity, name, d, lo)
			}
		}
	}
	logs := func(entity, substr string) check {
		return func(t *testing.T, before, during *rec) {
			t.Helper()
			if b, d := before.logsWith(entity, substr), during.logsWith(entity, substr); d < 5*b+1 {
				t.Errorf("%s logged %q %d times before, %d during; want many more during", entity, substr,
					before.logsWith(entity, substr), during.logsWith(entity, substr))
			}
		}
	}
	event := func(entity string, kind signal.EventKind) check {
		return func(t *testing.T, before, during *rec) {
			t.Helper()
			for _, e := range during.events {
				if e.Entity == entity && e.Kind == kind {
					return
				}
			}
			t.Errorf("no %s event on %s: %v", kind, entity, during.events)
		}
	}
	cases := []struct {
		fault  Fault
		checks []check
	}{
		{Fault{Kind: FaultLatency, Target: "db"}, []check{rises("db", "latency_p50_ms", 10, 0), rises("user", "latency_p99_ms", 1, 200)}},
		{Fault{Kind: FaultErrors, Target: "payment"}, []check{rises("payment", "error_ratio", 1, 0.3), rises("checkout", "error_ratio", 1, 0.2)}},
		{Fault{Kind: FaultCrash, Target: "cart"}, []check{peaks("cart", "up", 0), func(t *testing.T, _, d *rec) {
			if d.mean("cart", "up") > 0.1 {
				t.Errorf("cart up %.2f during a crash", d.mean("cart", "up"))
			}
		}, logs("gateway", "connection refused")}},
		{Fault{Kind: FaultCrash, Target: "cart", Instance: "cart-1"}, []check{func(t *testing.T, _, d *rec) {
			if d.mean("cart-1", "up") > 0.1 || d.mean("cart-0", "up") != 1 || d.mean("cart", "up") != 1 {
				t.Errorf("up: cart-1 %.2f cart-0 %.2f cart %.2f, want only cart-1 down", d.mean("cart-1", "up"), d.mean("cart-0", "up"), d.mean("cart", "up"))
			}
		}, logs("gateway", "retrying call to cart after connection_refused")}},
		{Fault{Kind: FaultCPU, Target: "catalog"}, []check{rises("catalog", "cpu_utilization", 1, 0.4), rises("catalog", "latency_p50_ms", 2, 0)}},
		{Fault{Kind: FaultLeak, Target: "user", Magnitude: 2}, []check{peaks("user", "memory_utilization", 0.97), logs("user", "OutOfMemoryError")}},
		{Fault{Kind: FaultDisk, Target: "db", Magnitude: 1.5}, []check{peaks("db", "disk_utilization", 0.98), rises("db", "error_ratio", 1, 0.1), logs("db", "No space left on device")}},
		{Fault{Kind: FaultNetLoss, Target: "payment", Peer: "checkout"}, []check{rises("checkout", "tcp_retransmits", 1, 0.5), rises("checkout", "latency_p99_ms", 1, 150)}},
		{Fault{Kind: FaultPartition, Target: "db", Peer: "catalog"}, []check{rises("catalog", "error_ratio", 1, 0.1), logs("catalog", "timeout calling db")}},
		{Fault{Kind: FaultSlowQuery, Target: "db"}, []check{rises("db", "latency_p50_ms", 4, 0), rises("db", "lock_waits", 1, 1), logs("db", "still waiting for ShareLock"), rises("user", "pool_utilization", 1.5, 0)}},
		{Fault{Kind: FaultPool, Target: "user", Magnitude: 1}, []check{peaks("user", "pool_utilization", 0.999), rises("user", "error_ratio", 1, 0.2), logs("user", "from pool after")}},
		{Fault{Kind: FaultSurge, Target: "frontend"}, []check{rises("frontend", "request_rate", 3, 0), rises("db", "cpu_utilization", 1.5, 0), rises("user", "latency_p99_ms", 1.5, 0)}},
		{Fault{Kind: FaultDeploy, Target: "cart"}, []check{event("cart", signal.EventDeploy), rises("cart", "error_ratio", 1, 0.1), logs("cart", "NullPointerException")}},
		{Fault{Kind: FaultConfig, Target: "search"}, []check{event("search", signal.EventConfig), rises("search", "error_ratio", 1, 0.2)}},
		{Fault{Kind: FaultExternal, Target: "payprovider"}, []check{rises("payment", "error_ratio", 1, 0.2), logs("payment", "request to https://payprovider.example failed")}},
	}
	covered := map[FaultKind]bool{}
	for _, c := range cases {
		covered[c.fault.Kind] = true
		t.Run(string(c.fault.Kind)+"-"+c.fault.Target+c.fault.Instance, func(t *testing.T) {
			t.Parallel()
			w := newBig(t, nil)
			before := record(w, 3*time.Minute)
			onset := w.Now()
			c.fault.Duration = 4 * time.Minute
			if err := w.Inject(c.fault); err != nil {
				t.Fatal(err)
			}
			during := record(w, 4*time.Minute)
			for _, ch := range c.checks {
				ch(t, before, during)
			}
			truth := w.Truth()
			if len(truth) != 1 || truth[0].Kind != c.fault.Kind || truth[0].Target != c.fault.Target ||
				!truth[0].Start.Equal(onset) || !truth[0].End.Equal(onset.Add(4*time.Minute)) ||
				truth[0].Affected[0] != c.fault.Target || truth[0].Peer != c.fault.Peer || truth[0].Instance != c.fault.Instance {
				t.Fatalf("truth %+v does not match the fault %+v at %s", truth, c.fault, onset)
			}
			// What the fault cannot reach keeps its errors and latency.
			for _, s := range w.Services() {
				if slices.Contains(truth[0].Affected, s) || w.Kind(s) == "external" {
					continue
				}
				if b, d := before.mean(s, "error_ratio"), during.mean(s, "error_ratio"); d > b+0.015 {
					t.Errorf("unaffected %s: error ratio %.4f → %.4f", s, b, d)
				}
				if b, d := before.mean(s, "latency_p50_ms"), during.mean(s, "latency_p50_ms"); d > 1.3*b+1 {
					t.Errorf("unaffected %s: p50 %.1f → %.1f", s, b, d)
				}
			}
		})
	}
	for _, k := range AllFaultKinds() {
		if !covered[k] {
			t.Errorf("fault kind %s is not tested", k)
		}
	}
}
