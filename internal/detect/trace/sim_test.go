package trace

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
)

// simStart is a fixed start for the simulated shop.
var simStart = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

func newWorld(t testing.TB, seed int64) *sim.World {
	t.Helper()
	w, err := sim.NewShop(sim.Config{Seed: seed, Start: simStart, Step: time.Second,
		MetricInterval: 5 * time.Second, TraceSampling: 0.1, RequestRate: 40, LogRate: 2})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// advance moves w on by n steps, feeding its spans to s, and returns the
// observations raised.
func advance(w *sim.World, s *Stage, n int) []signal.Observation {
	var out []signal.Observation
	for range n {
		b := w.Step()
		s.Process(b.Spans)
		out = append(out, s.Tick(w.Now())...)
	}
	return out
}

// simCase is one fault injected into a fresh world.
type simCase struct {
	seed         int64
	kind         sim.FaultKind
	target, peer string
}

func (c simCase) String() string {
	if c.peer != "" {
		return fmt.Sprintf("seed %d %s %s~%s", c.seed, c.kind, c.target, c.peer)
	}
	return fmt.Sprintf("seed %d %s %s", c.seed, c.kind, c.target)
}

// netKinds are the network faults, when the simulator has them.
func netKinds() []sim.FaultKind {
	var out []sim.FaultKind
	for _, k := range []sim.FaultKind{"net_loss", "partition"} {
		if slices.Contains(sim.AllFaultKinds(), k) {
			out = append(out, k)
		}
	}
	return out
}

// TestSimLocalize injects latency, error, crash and network faults into the
// simulated shop and checks that Localize names the injected service first
// in at least 90% of the cases. A network fault is on a link, so either end
// counts.
func TestSimLocalize(t *testing.T) {
	seeds := []int64{1, 2, 3}
	kinds := []sim.FaultKind{sim.FaultLatency, sim.FaultErrors, sim.FaultCrash}
	w := newWorld(t, 1)
	targets := w.Targets()
	links := w.Edges()
	if testing.Short() || raceOn {
		seeds = seeds[:1]
		targets = []string{"catalog", "db", "payment", "cache"}
		links = links[:3]
	}
	if raceOn {
		targets, links = []string{"db", "payment"}, nil // net faults run without -race
	}
	var cases []simCase
	for _, seed := range seeds {
		for _, k := range kinds {
			for _, tg := range targets {
				cases = append(cases, simCase{seed: seed, kind: k, target: tg})
			}
		}
		for _, k := range netKinds() {
			for _, l := range links {
				cases = append(cases, simCase{seed: seed, kind: k, target: l[1], peer: l[0]})
			}
		}
	}
	var (
		mu     sync.Mutex
		n      int
		misses []string
		wg     sync.WaitGroup
		sem    = make(chan struct{}, 2)
	)
	for _, c := range cases {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			top, sus, err := runCase(t, c)
			if errors.Is(err, sim.ErrUnknownTarget) {
				return // a link the simulator cannot cut (asynchronous)
			}
			mu.Lock()
			n++
			mu.Unlock()
			if err != nil {
				t.Errorf("%s: %v", c, err)
			}
			ok := top == c.target || (c.peer != "" && top == c.peer)
			if !ok {
				mu.Lock()
				misses = append(misses, fmt.Sprintf("%s: top %q, ranking %v", c, top, sus))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(misses)
	for _, m := range misses {
		t.Log("miss:", m)
	}
	hit := float64(n-len(misses)) / float64(n)
	t.Logf("localised %d of %d cases (%.1f%%)", n-len(misses), n, 100*hit)
	if hit < 0.9 {
		t.Errorf("localised %.1f%% of the cases, want at least 90%%", 100*hit)
	}
}

// runCase warms a stage on a fresh world for 15 minutes, injects the fault
// and returns the top suspect after two minutes of it.
func runCase(t *testing.T, c simCase) (string, []Suspect, error) {
	w := newWorld(t, c.seed)
	s := NewStage(Config{}, nil)
	advance(w, s, 15*60)
	if err := w.Inject(sim.Fault{Kind: c.kind, Target: c.target, Peer: c.peer, Start: w.Now()}); err != nil {
		return "", nil, err
	}
	advance(w, s, 120)
	sus := s.Localize(w.Now())
	if len(sus) == 0 {
		return "", nil, nil
	}
	return sus[0].Service, sus[:min(3, len(sus))], nil
}

// TestSimHealthy runs the healthy shop for a simulated day (two hours under
// -short, one under -race) and wants fewer than one observation per hour.
func TestSimHealthy(t *testing.T) {
	hours := 24
	switch {
	case raceOn:
		hours = 1
	case testing.Short():
		hours = 2
	}
	w := newWorld(t, 7)
	s := NewStage(Config{}, nil)
	obs := advance(w, s, hours*3600)
	for _, o := range obs {
		t.Log(o)
	}
	if len(obs) >= hours {
		t.Errorf("%d observations in %d healthy hours, want fewer than %d", len(obs), hours, hours)
	}
	st := s.Stats()
	t.Logf("stats: %+v", st)
	if len(st.Rejected) != 0 || st.TracesCompleted < int64(hours)*3600*3 {
		t.Errorf("stats %+v", st)
	}
}
