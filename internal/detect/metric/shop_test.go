package metric

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
)

// The acceptance tests run the detector on the simulated shop: its healthy
// metrics are sparse (error ratios and queue depth are 0 most of the time),
// heavy-tailed (p99 of a few requests) and saw-toothed (memory under GC),
// and its faults are the ones the engine must see.

var shopStart = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// shopWarmUp is how long the detector may learn before alarms count as false.
const shopWarmUp = 10 * time.Minute

// shopConfig is the simulated world every shop test runs: 5-second
// scrapes, a tenth of the traces, 40 requests a second.
func shopConfig(seed int64) sim.Config {
	return sim.Config{Seed: seed, Start: shopStart, Step: time.Second,
		MetricInterval: 5 * time.Second, TraceSampling: 0.1, RequestRate: 40, LogRate: 2}
}

func newShop(t testing.TB, seed int64) *sim.World {
	t.Helper()
	w, err := sim.NewShop(shopConfig(seed))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// runShop steps w for d, feeding its samples to st, and returns the
// observations raised after the warm-up.
func runShop(w *sim.World, st *Stage, d time.Duration, visit func(signal.Sample)) []signal.Observation {
	var out []signal.Observation
	end := w.Now().Add(d)
	for w.Now().Before(end) {
		b := w.Step()
		if len(b.Samples) == 0 {
			continue
		}
		if visit != nil {
			for _, s := range b.Samples {
				visit(s)
			}
		}
		for _, o := range st.Process(b.Samples) {
			if o.Time.Sub(shopStart) >= shopWarmUp {
				out = append(out, o)
			}
		}
	}
	return out
}

// TestShopHealthy: two hours of the healthy shop raise no observation after
// the warm-up, for five seeds.
func TestShopHealthy(t *testing.T) {
	d, seeds := 2*time.Hour, int64(5)
	if testing.Short() || raceOn {
		d, seeds = 30*time.Minute, 1
	}
	total := 0
	for seed := int64(1); seed <= seeds; seed++ {
		st := NewStage(DefaultConfig(), nil)
		obs := runShop(newShop(t, seed), st, d, nil)
		total += len(obs)
		for i, o := range obs {
			if i == 10 {
				t.Errorf("seed %d: ... %d more", seed, len(obs)-i)
				break
			}
			t.Errorf("seed %d: false alarm at %v: %s/%s %s", seed, o.Time.Sub(shopStart), o.Entity, o.Kind, o.Summary)
		}
	}
	t.Logf("%d false observations in %d healthy runs of %v", total, seeds, d)
}

// TestFindingLevel is why findings need likelihood 0.8 while NAB is best
// served at 0.5 (a deviation expected once in ~2,800 points): at 0.5 the
// healthy shop, whose series are close to what the model expects (its
// p-values hold), makes findings at about that rate (40 from its 100
// series' 144,000 points in two hours, one every three minutes); at the
// default none (TestShopHealthy).
func TestFindingLevel(t *testing.T) {
	if testing.Short() || raceOn {
		t.Skip("two simulated hours: not with -short or -race")
	}
	cfg := DefaultConfig()
	cfg.Threshold = 0.5
	st := NewStage(cfg, nil)
	obs := runShop(newShop(t, 1), st, 2*time.Hour, nil)
	t.Logf("%d findings in two healthy hours of %d series at likelihood 0.5", len(obs), len(st.series))
	if len(obs) < 10 {
		t.Errorf("%d findings in two healthy hours at likelihood 0.5, want many: the default threshold may be stricter than needed", len(obs))
	}
}

// shopFault is a fault and the target's series that must reveal it.
type shopFault struct {
	kind   sim.FaultKind
	target string
	seed   int64
}

// reveals reports whether o, on the fault's target, is the signal the fault
// kind must raise.
func (f shopFault) reveals(o signal.Observation) bool {
	if o.Entity != f.target {
		return false
	}
	switch f.kind {
	case sim.FaultLatency:
		return strings.HasPrefix(o.Name, "latency_")
	case sim.FaultErrors:
		return o.Name == "error_ratio"
	case sim.FaultCrash:
		return o.Name == "up" || o.Name == "request_rate"
	case sim.FaultCPU:
		return o.Name == "cpu_utilization"
	case sim.FaultLeak:
		return o.Name == "memory_utilization"
	}
	return false
}

// TestShopFaults: after 20 healthy minutes each fault is seen on the
// target's own series within 15 s, a leak before the memory is full; and
// no observation is raised before the fault.
func TestShopFaults(t *testing.T) {
	var faults []shopFault
	targets := []string{"catalog", "payment", "cart", "user", "db"}
	for i, kind := range sim.FaultKinds() {
		for j, target := range targets {
			if (testing.Short() || raceOn) && (i+j)%5 != 0 {
				continue
			}
			faults = append(faults, shopFault{kind: kind, target: target, seed: int64(10 + 7*i + j)})
		}
	}
	report := make([]string, len(faults))
	before := 0 // false alarms in the healthy 10 minutes before each fault
	for i, f := range faults {
		name := fmt.Sprintf("%s/%s", f.kind, f.target)
		w := newShop(t, f.seed)
		st := NewStage(DefaultConfig(), nil)
		for _, o := range runShop(w, st, 20*time.Minute, nil) {
			before++
			t.Logf("%s seed %d: false alarm before the fault at %v: %s/%s %s", name, f.seed,
				o.Time.Sub(shopStart), o.Entity, o.Kind, o.Summary)
		}
		onset := w.Now()
		if err := w.Inject(sim.Fault{Kind: f.kind, Target: f.target, Start: onset}); err != nil {
			t.Fatal(err)
		}
		if f.kind == sim.FaultLeak {
			full := time.Time{} // when the target's memory reached its limit, or it was OOM-killed
			var seen *signal.Observation
			for full.IsZero() && w.Now().Sub(onset) < 15*time.Minute {
				obs := runShop(w, st, 5*time.Second, func(s signal.Sample) {
					if s.Entity == f.target && full.IsZero() &&
						(s.Name == "memory_utilization" && s.Value >= 0.999 || s.Name == "up" && s.Value == 0) {
						full = s.Time
					}
				})
				for _, o := range obs {
					if seen == nil && f.reveals(o) {
						seen = &o
					}
				}
			}
			switch {
			case full.IsZero():
				t.Errorf("%s: memory never full", name)
			case seen == nil || !seen.Time.Before(full):
				t.Errorf("%s: leak not reported before the memory was full at +%v (%v)", name, full.Sub(onset), seen)
			default:
				report[i] = fmt.Sprintf("%-8s %-8s +%v, %v before full: %s", f.kind, f.target,
					seen.Time.Sub(onset), full.Sub(seen.Time), seen.Summary)
			}
			continue
		}
		var seen *signal.Observation
		for w.Now().Sub(onset) < 2*time.Minute && seen == nil {
			for _, o := range runShop(w, st, 5*time.Second, nil) {
				if seen == nil && f.reveals(o) {
					seen = &o
				}
			}
		}
		if seen == nil {
			t.Errorf("%s: not seen in 2 minutes", name)
			continue
		}
		delay := seen.Time.Sub(onset)
		if delay > 15*time.Second {
			t.Errorf("%s: seen after %v, want <= 15s: %s", name, delay, seen.Summary)
		}
		report[i] = fmt.Sprintf("%-8s %-8s +%v: %s/%s %s", f.kind, f.target, delay, seen.Entity, seen.Name, seen.Summary)
	}
	// These runs' healthy minutes are more evidence on false alarms; the
	// two seen are a sparse error ratio's first two errors in a row and a
	// low-rate checkout failing 3 of 5 requests, which one healthy point
	// cannot tell from a fault.
	if before > 2 {
		t.Errorf("%d false alarms in the healthy minutes of %d runs, want <= 2", before, len(faults))
	}
	t.Logf("detection delays:\n%s", strings.Join(slices.DeleteFunc(report, func(s string) bool { return s == "" }), "\n"))
}

// TestShopHealthyDump prints every observation of the healthy runs, for
// tuning: SHOPDUMP=1 go test -run TestShopHealthyDump -v.
func TestShopHealthyDump(t *testing.T) {
	if os.Getenv("SHOPDUMP") == "" {
		t.Skip("set SHOPDUMP=1 to print the healthy runs' observations")
	}
	total := 0
	first, last := int64(1), int64(5)
	if s := os.Getenv("SHOPSEEDS"); s != "" {
		fmt.Sscanf(s, "%d-%d", &first, &last)
	}
	for seed := first; seed <= last; seed++ {
		st := NewStage(DefaultConfig(), nil)
		for _, o := range runShop(newShop(t, seed), st, 2*time.Hour, nil) {
			total++
			fmt.Printf("seed %d %v %s %s/%s score=%.2f %s\n", seed, o.Time.Sub(shopStart), o.Kind, o.Entity, o.Name, o.Score, o.Summary)
		}
	}
	fmt.Println("total", total)
}
