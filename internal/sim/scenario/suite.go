package scenario

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
	"github.com/seerops/seer/internal/sim/export"
)

// Timing of a suite's cases: a long healthy stretch to learn baselines
// from, the fault, and a little after it.
const (
	suiteWarmup = 20 * time.Minute
	suiteFault  = 8 * time.Minute
	suiteAfter  = 2 * time.Minute
)

// suiteLogRate keeps a case's routine logs to one line a second per service.
var suiteLogRate = 1.0

// Suite generates n labelled scenarios from a seed, cycling through every
// kind of fault, each on a random topology of its own (or, with oneSystem,
// all on one random system, as one platform's incidents are), with
// seasonal, noisy, bursty traffic and, in half the cases, a change event
// that causes nothing.
func Suite(n int, seed int64, oneSystem bool) ([]Scenario, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5017e))
	kinds := sim.AllFaultKinds()
	var one *system
	if oneSystem {
		sys, err := drawSystem(rng, kinds)
		if err != nil {
			return nil, err
		}
		one = &sys
	}
	var out []Scenario
	for i := range n {
		kind := kinds[i%len(kinds)]
		// Draw topologies until one has a target for the kind (a small one
		// may have no external dependency, say).
		var (
			spec  sim.RandomSpec
			tseed int64
			topo  sim.Topology
			f     Fault
			ok    bool
		)
		if one != nil {
			spec, tseed, topo = one.spec, one.seed, one.topo
			f, ok = pickFault(rng, topo, kind)
		}
		for try := 0; !ok; try++ {
			if try == 50 {
				return nil, fmt.Errorf("scenario: no random topology has a target for a %s fault", kind)
			}
			spec = sim.RandomSpec{Services: 8 + rng.IntN(23), Depth: 2 + rng.IntN(3), FanOut: 2 + rng.IntN(2)}
			tseed = rng.Int64N(1 << 40)
			var err error
			if topo, err = sim.Random(spec, tseed); err != nil {
				return nil, err
			}
			f, ok = pickFault(rng, topo, kind)
		}
		f.At, f.Duration = suiteWarmup, suiteFault
		sc := Scenario{
			Name:     fmt.Sprintf("case-%04d-%s", i+1, kind),
			Seed:     rng.Int64N(1 << 40),
			Start:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(365*24)) * time.Hour),
			Duration: suiteWarmup + suiteFault + suiteAfter,
			Topology: TopologyRef{Random: &spec, RandomSeed: tseed},
			Config: Settings{RequestRate: 20 + 40*rng.Float64(), LogRate: &suiteLogRate,
				Traffic: sim.Traffic{Daily: 0.3, Weekly: 0.2, Noise: 0.05, Bursts: 0.3, BurstSize: 0.5}},
			Faults: []Fault{f},
		}
		if rng.IntN(2) == 0 {
			other := topo.Services[rng.IntN(len(topo.Services))]
			if other.Kind != "external" && other.Name != f.Target {
				ck := []signal.EventKind{signal.EventDeploy, signal.EventConfig, signal.EventScale}[rng.IntN(3)]
				sc.Changes = append(sc.Changes, Change{Kind: ck, Target: other.Name,
					At:   5*time.Minute + time.Duration(rng.IntN(int(suiteWarmup/time.Second)-600))*time.Second,
					Text: string(ck) + " of " + other.Name + " (routine)"})
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

// system is a random topology and how to make it again.
type system struct {
	spec sim.RandomSpec
	seed int64
	topo sim.Topology
}

// drawSystem draws random topologies until one has a target for every
// kind of fault.
func drawSystem(rng *rand.Rand, kinds []sim.FaultKind) (system, error) {
	for try := range 200 {
		sys := system{spec: sim.RandomSpec{Services: 16 + rng.IntN(15), Depth: 3 + rng.IntN(2), FanOut: 2 + rng.IntN(2)}, seed: rng.Int64N(1 << 40)}
		var err error
		if sys.topo, err = sim.Random(sys.spec, sys.seed); err != nil {
			return system{}, err
		}
		probe := rand.New(rand.NewPCG(uint64(try), 1)) // so that checking draws nothing from rng
		all := true
		for _, k := range kinds {
			if _, ok := pickFault(probe, sys.topo, k); !ok {
				all = false
				break
			}
		}
		if all {
			return sys, nil
		}
	}
	return system{}, fmt.Errorf("scenario: no random topology has a target for every kind of fault")
}

// pickFault chooses a target in topo that a fault of kind k fits.
func pickFault(rng *rand.Rand, topo sim.Topology, k sim.FaultKind) (Fault, bool) {
	kinds := make(map[string]string)
	for _, s := range topo.Services {
		kinds[s.Name] = s.Kind
	}
	var cands []Fault
	for _, s := range topo.Services {
		pooled := false
		for _, c := range s.Calls {
			ck := kinds[c.To]
			pooled = pooled || ck == "db" || ck == "cache"
			if (k == sim.FaultNetLoss || k == sim.FaultPartition) && s.Name != "frontend" {
				cands = append(cands, Fault{Kind: k, Target: c.To, Peer: s.Name})
			}
		}
		switch {
		case k == sim.FaultNetLoss || k == sim.FaultPartition:
		case k == sim.FaultSurge:
			if s.Name == "frontend" {
				cands = append(cands, Fault{Kind: k, Target: s.Name})
			}
		case k == sim.FaultExternal:
			if s.Kind == "external" {
				cands = append(cands, Fault{Kind: k, Target: s.Name})
			}
		case k == sim.FaultSlowQuery:
			if s.Kind == "db" {
				cands = append(cands, Fault{Kind: k, Target: s.Name})
			}
		case k == sim.FaultPool:
			if pooled {
				cands = append(cands, Fault{Kind: k, Target: s.Name, Magnitude: 2})
			}
		case s.Name == "frontend" || s.Kind == "external" || s.Kind == "queue":
		case k == sim.FaultLeak:
			if s.Kind == "app" {
				cands = append(cands, Fault{Kind: k, Target: s.Name, Magnitude: 4})
			}
		case k == sim.FaultDisk:
			cands = append(cands, Fault{Kind: k, Target: s.Name, Magnitude: 4})
		default:
			if s.Kind == "app" || s.Kind == "db" || s.Kind == "cache" {
				cands = append(cands, Fault{Kind: k, Target: s.Name})
			}
		}
	}
	if len(cands) == 0 {
		return Fault{}, false
	}
	return cands[rng.IntN(len(cands))], true
}

// WriteCase runs sc and writes its case directory under dir, named after
// the scenario.
func WriteCase(ctx context.Context, sc Scenario, dir string) error {
	c, err := export.NewCase(filepath.Join(dir, sc.Name))
	if err != nil {
		return err
	}
	w, err := sc.Run(ctx, 0, nil, c.Write)
	if err != nil {
		if w == nil {
			c.Close(nil, export.Truth{})
		}
		return err
	}
	t := export.TruthOf(w.Name(), w.Truth(), sc.Start.Add(sc.Duration))
	t.Seed, t.Scenario = sc.Seed, sc.Name
	return c.Close(w, t)
}
