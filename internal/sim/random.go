package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// RandomSpec shapes a random topology.
type RandomSpec struct {
	// Services is how many services there are in all (at least 4).
	Services int `json:"services" yaml:"services"`
	// Depth is the number of tiers of application services below the
	// front end (at least 1).
	Depth int `json:"depth" yaml:"depth"`
	// FanOut is the most services one service calls (at least 1).
	FanOut int `json:"fan_out" yaml:"fan_out"`
}

// Validate reports every problem of the spec at once.
func (r RandomSpec) Validate() error {
	var errs []error
	if r.Services < 4 || r.Services > 200 {
		errs = append(errs, fmt.Errorf("sim: random topology: services must be within 4..200, got %d", r.Services))
	}
	if r.Depth < 1 || r.Depth > 10 {
		errs = append(errs, fmt.Errorf("sim: random topology: depth must be within 1..10, got %d", r.Depth))
	}
	if r.FanOut < 1 || r.FanOut > 10 {
		errs = append(errs, fmt.Errorf("sim: random topology: fan_out must be within 1..10, got %d", r.FanOut))
	}
	return errors.Join(errs...)
}

// Random generates a topology from a seed: a front end over Depth tiers of
// application services, each calling up to FanOut services of the tiers
// below, over databases, caches, queues with their consumers and external
// dependencies. The same spec and seed give the same topology.
func Random(spec RandomSpec, seed int64) (Topology, error) {
	if err := spec.Validate(); err != nil {
		return Topology{}, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed70b0))
	n := spec.Services
	// About a quarter of the services are stores, queues and externals.
	leaves := max(2, n/4)
	apps := n - 1 - leaves
	if apps < spec.Depth {
		apps = min(spec.Depth, n-3)
		leaves = n - 1 - apps
	}
	t := Topology{Name: "random-" + strconv.FormatInt(seed, 10)}
	t.Services = append(t.Services, ServiceSpec{Name: "frontend", Kind: "web", Instances: 2})
	// Tiers of apps: each tier gets at least one.
	depth := min(spec.Depth, apps)
	tier := make([][]int, depth)
	for i := range apps {
		d := i
		if i >= depth {
			d = rng.IntN(depth)
		}
		idx := len(t.Services)
		tier[d] = append(tier[d], idx)
		t.Services = append(t.Services, ServiceSpec{Name: "svc-" + strconv.Itoa(i+1), Kind: "app",
			Instances: 1 + rng.IntN(3), SelfMs: 2 + rng.Float64()*15})
	}
	var stores, queues, externals []int
	for i := range leaves {
		idx := len(t.Services)
		var sp ServiceSpec
		switch {
		case i == 0:
			sp = ServiceSpec{Name: "db-1", Kind: "db"}
			stores = append(stores, idx)
		case i == 1:
			sp = ServiceSpec{Name: "cache-1", Kind: "cache"}
			stores = append(stores, idx)
		case i == 2:
			sp = ServiceSpec{Name: "ext-1", Kind: "external"}
			externals = append(externals, idx)
		case i == 3:
			sp = ServiceSpec{Name: "queue-1", Kind: "queue"}
			queues = append(queues, idx)
		default:
			switch rng.IntN(4) {
			case 0, 1:
				sp = ServiceSpec{Name: "db-" + strconv.Itoa(i), Kind: "db"}
				stores = append(stores, idx)
			case 2:
				sp = ServiceSpec{Name: "cache-" + strconv.Itoa(i), Kind: "cache"}
				stores = append(stores, idx)
			default:
				sp = ServiceSpec{Name: "ext-" + strconv.Itoa(i), Kind: "external"}
				externals = append(externals, idx)
			}
		}
		t.Services = append(t.Services, sp)
	}
	called := make(map[int]bool)
	addCall := func(from, to int, prob float64) {
		for _, c := range t.Services[from].Calls {
			if c.To == t.Services[to].Name {
				return
			}
		}
		c := CallSpec{To: t.Services[to].Name, Prob: prob}
		if rng.IntN(2) == 0 {
			c.Retries = 1
		}
		t.Services[from].Calls = append(t.Services[from].Calls, c)
		called[to] = true
	}
	// The front end calls the first tier; every app is called by one of the
	// tier above, so that all are reachable.
	for _, s := range tier[0] {
		addCall(0, s, 0.3+0.7*rng.Float64())
	}
	for d := 1; d < depth; d++ {
		for _, s := range tier[d] {
			up := tier[d-1][rng.IntN(len(tier[d-1]))]
			addCall(up, s, 0.5+0.5*rng.Float64())
		}
	}
	// Extra calls downwards, up to FanOut per service.
	for d := range depth {
		for _, s := range tier[d] {
			want := 1 + rng.IntN(spec.FanOut)
			for k := 0; len(t.Services[s].Calls) < want && k < 4*spec.FanOut; k++ {
				var to int
				if d+1 < depth && rng.IntN(2) == 0 {
					below := tier[d+1+rng.IntN(depth-d-1)]
					to = below[rng.IntN(len(below))]
				} else {
					to = stores[rng.IntN(len(stores))]
				}
				addCall(s, to, 0.3+0.7*rng.Float64())
			}
		}
	}
	// Every leaf has a caller among the apps of the last tiers.
	deep := tier[depth-1]
	for _, l := range append(append(append([]int(nil), stores...), externals...), queues...) {
		if !called[l] {
			addCall(deep[rng.IntN(len(deep))], l, 0.2+0.8*rng.Float64())
		}
	}
	// A queue's consumer is an app of the last tier that does not publish to it.
	for _, q := range queues {
		for _, c := range deep {
			publishes := false
			for _, cs := range t.Services[c].Calls {
				publishes = publishes || cs.To == t.Services[q].Name
			}
			if !publishes {
				t.Services[q].Consumer = t.Services[c].Name
				break
			}
		}
	}
	t.Entries = []EntrySpec{
		{Service: "frontend", Op: "GET /", Weight: 0.6},
		{Service: "frontend", Op: "POST /api", Weight: 0.4},
	}
	if err := t.Validate(); err != nil {
		return Topology{}, fmt.Errorf("sim: random topology of seed %d: %w", seed, err)
	}
	return t, nil
}
