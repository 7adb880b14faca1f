package metric

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
)

// fullShop is the simulator's 17-service shop with every resource metric
// (disks, pools, hosts, replicas).
func fullShop(t testing.TB, seed int64) *sim.World {
	t.Helper()
	cfg := shopConfig(seed)
	cfg.Detail = true
	w, err := sim.New(cfg, sim.Shop())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestForecastLeadOnShop is the exhaustion forecast's acceptance test on
// the simulated shop: memory leaks and filling disks of several speeds on
// every service are forecast while at least half of the time to the limit
// is left, in at least 90% of the cases, and never on another series.
func TestForecastLeadOnShop(t *testing.T) {
	if testing.Short() || raceOn {
		t.Skip("a long simulation; run without -short and -race")
	}
	type leadCase struct {
		kind   sim.FaultKind
		mag    float64 // minutes to the limit
		target string
	}
	var cs []leadCase
	var targets []string
	probe := fullShop(t, 1)
	for _, s := range probe.Services() {
		if probe.Inject(sim.Fault{Kind: sim.FaultLeak, Target: s, Start: probe.Now()}) == nil {
			targets = append(targets, s)
		}
	}
	for i, target := range targets {
		cs = append(cs, leadCase{sim.FaultLeak, []float64{5, 8, 12, 20}[i%4], target},
			leadCase{sim.FaultDisk, []float64{6, 10, 15, 25}[i%4], target})
	}
	early, lines := 0, make([]string, 0, len(cs))
	for i, c := range cs {
		seed := int64(100 + i)
		w := fullShop(t, seed)
		st := NewStage(DefaultConfig(), nil)
		series := "memory_utilization"
		if c.kind == sim.FaultDisk {
			series = "disk_utilization"
		}
		for _, o := range runShop(w, st, 20*time.Minute, nil) {
			if o.Kind == signal.MetricForecast {
				t.Errorf("%s/%s seed %d: forecast before the fault: %s %s", c.kind, c.target, seed, o.Entity, o.Summary)
			}
		}
		onset := w.Now()
		if err := w.Inject(sim.Fault{Kind: c.kind, Target: c.target, Start: onset, Magnitude: c.mag}); err != nil {
			t.Fatal(err)
		}
		var full time.Time
		var first *signal.Observation
		for full.IsZero() && w.Now().Sub(onset) < time.Duration(c.mag+5)*time.Minute {
			for _, o := range runShop(w, st, 5*time.Second, func(s signal.Sample) {
				if full.IsZero() && s.Entity == c.target && (s.Name == series && s.Value >= 0.999 || s.Name == "up" && s.Value == 0) {
					full = s.Time
				}
			}) {
				if o.Kind != signal.MetricForecast {
					continue
				}
				if strings.Split(o.Entity, "/")[0] != c.target || o.Name != series {
					// The target's other series (a leak's GC burns CPU) and
					// the hosts it runs on may be forecast too; another
					// service's series is a false forecast.
					if strings.Split(o.Entity, "/")[0] != c.target && !strings.HasPrefix(o.Entity, "host:") {
						t.Errorf("%s/%s: forecast on another service: %s %s %s", c.kind, c.target, o.Entity, o.Name, o.Summary)
					}
					continue
				}
				if first == nil {
					first = &o
				}
			}
		}
		switch {
		case full.IsZero():
			t.Errorf("%s/%s: never full", c.kind, c.target)
		case first == nil || !first.Time.Before(full):
			lines = append(lines, fmt.Sprintf("%-5s %-12s %4.0fm: no forecast before full at +%v", c.kind, c.target, c.mag, full.Sub(onset)))
		default:
			ramp, after := full.Sub(onset), first.Time.Sub(onset)
			ok := after <= ramp/2
			if ok {
				early++
			}
			lines = append(lines, fmt.Sprintf("%-5s %-12s %4.0fm: forecast at +%v of %v (%.0f%% of the way), half-way: %v",
				c.kind, c.target, c.mag, after, ramp.Round(time.Second), 100*after.Seconds()/ramp.Seconds(), ok))
		}
	}
	share := float64(early) / float64(len(cs))
	t.Logf("forecast at least half-way before the limit in %d of %d cases (%.0f%%):\n%s", early, len(cs), 100*share, strings.Join(lines, "\n"))
	if share < 0.9 {
		t.Errorf("forecast at least half-way before the limit in %.0f%% of the cases, want >= 90%%", 100*share)
	}
}

// TestForecastQuietDay: a simulated day of the healthy shop (daily
// traffic, GC sawtooth, routine deploys) raises no forecast.
func TestForecastQuietDay(t *testing.T) {
	d := 24 * time.Hour
	if testing.Short() || raceOn {
		d = time.Hour
	}
	w := fullShop(t, 42)
	st := NewStage(DefaultConfig(), nil)
	n := 0
	for _, o := range runShop(w, st, d, nil) {
		if o.Kind == signal.MetricForecast {
			n++
			if n <= 10 {
				t.Errorf("false forecast at +%v: %s %s", o.Time.Sub(shopStart), o.Entity, o.Summary)
			}
		}
	}
	t.Logf("%d forecasts in %v of the healthy shop", n, d)
}
