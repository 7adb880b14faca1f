package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
)

// Scenario is one run of the simulated world.
type Scenario struct {
	Name string `yaml:"name" json:"name"`
	Seed int64  `yaml:"seed" json:"seed"`
	// Start is the simulated time the run begins (2025-01-06T00:00:00Z).
	Start time.Time `yaml:"start" json:"start"`
	// Duration is how long the run lasts (1h).
	Duration time.Duration `yaml:"duration" json:"duration"`
	Topology TopologyRef   `yaml:"topology" json:"topology"`
	// Config sets resolution, sampling and rates; its seed and start are
	// the scenario's.
	Config  Settings `yaml:"config" json:"config"`
	Faults  []Fault  `yaml:"faults" json:"faults"`
	Changes []Change `yaml:"changes" json:"changes"`
}

// TopologyRef names the system: a built-in one ("shop", the demo's; or
// "bigshop"), a random one, or one written out.
type TopologyRef struct {
	Builtin string `yaml:"builtin" json:"builtin,omitempty"`
	// Random generates a topology from RandomSeed.
	Random     *sim.RandomSpec `yaml:"random" json:"random,omitempty"`
	RandomSeed int64           `yaml:"random_seed" json:"random_seed,omitempty"`
	// Inline is a topology written out in the scenario.
	Inline *sim.Topology `yaml:"inline" json:"inline,omitempty"`
}

// Settings are the world's settings a scenario may change.
type Settings struct {
	Step           time.Duration `yaml:"step" json:"step"`
	MetricInterval time.Duration `yaml:"metric_interval" json:"metric_interval"`
	TraceSampling  *float64      `yaml:"trace_sampling" json:"trace_sampling,omitempty"`
	RequestRate    float64       `yaml:"request_rate" json:"request_rate"`
	LogRate        *float64      `yaml:"log_rate" json:"log_rate,omitempty"`
	Detail         *bool         `yaml:"detail" json:"detail,omitempty"`
	Traffic        sim.Traffic   `yaml:"traffic" json:"traffic"`
}

// Fault is one fault of the schedule; At is its start after the scenario's.
type Fault struct {
	Kind      sim.FaultKind `yaml:"kind" json:"kind"`
	Target    string        `yaml:"target" json:"target"`
	Peer      string        `yaml:"peer" json:"peer,omitempty"`
	Instance  string        `yaml:"instance" json:"instance,omitempty"`
	At        time.Duration `yaml:"at" json:"at"`
	Duration  time.Duration `yaml:"duration" json:"duration"`
	Magnitude float64       `yaml:"magnitude" json:"magnitude,omitempty"`
}

// Change is a change event that causes nothing, at At after the start.
type Change struct {
	Kind   signal.EventKind `yaml:"kind" json:"kind"`
	Target string           `yaml:"target" json:"target"`
	At     time.Duration    `yaml:"at" json:"at"`
	Text   string           `yaml:"text" json:"text"`
}

// Parse decodes a scenario from YAML, rejecting unknown fields, and fills
// in the defaults.
func Parse(data []byte) (Scenario, error) {
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("scenario: %w", err)
	}
	sc.defaults()
	return sc, nil
}

// Load reads and parses a scenario file.
func Load(path string) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("scenario: reading %s: %w", path, err)
	}
	sc, err := Parse(data)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}

func (sc *Scenario) defaults() {
	if sc.Start.IsZero() {
		sc.Start = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	}
	if sc.Duration == 0 {
		sc.Duration = time.Hour
	}
	if sc.Topology == (TopologyRef{}) {
		sc.Topology.Builtin = "bigshop"
	}
}

// WorldConfig is the sim.Config of the scenario: 1 s steps, metrics every
// 10 s, 1 % of traces, 40 requests a second, detail on, unless it says otherwise.
func (sc *Scenario) WorldConfig() sim.Config {
	c := sim.Config{Seed: sc.Seed, Start: sc.Start, Step: time.Second, MetricInterval: 10 * time.Second,
		TraceSampling: 0.01, RequestRate: 40, LogRate: 2, Detail: true, Traffic: sc.Config.Traffic}
	s := sc.Config
	if s.Step != 0 {
		c.Step = s.Step
	}
	if s.MetricInterval != 0 {
		c.MetricInterval = s.MetricInterval
	}
	if s.TraceSampling != nil {
		c.TraceSampling = *s.TraceSampling
	}
	if s.RequestRate != 0 {
		c.RequestRate = s.RequestRate
	}
	if s.LogRate != nil {
		c.LogRate = *s.LogRate
	}
	if s.Detail != nil {
		c.Detail = *s.Detail
	}
	return c
}

// Build makes the scenario's world and schedules its faults and changes,
// reporting every problem at once.
func (sc *Scenario) Build() (*sim.World, error) {
	cfg := sc.WorldConfig()
	var w *sim.World
	var err error
	switch t := sc.Topology; {
	case t.Inline != nil:
		w, err = sim.New(cfg, *t.Inline)
	case t.Random != nil:
		var topo sim.Topology
		if topo, err = sim.Random(*t.Random, t.RandomSeed); err == nil {
			w, err = sim.New(cfg, topo)
		}
	case t.Builtin == "shop":
		w, err = sim.NewShop(cfg)
	default:
		topo, ok := sim.Builtin(t.Builtin)
		if !ok {
			return nil, fmt.Errorf("scenario %q: unknown built-in topology %q (want shop or bigshop)", sc.Name, t.Builtin)
		}
		w, err = sim.New(cfg, topo)
	}
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	var errs []error
	if sc.Duration < 0 {
		errs = append(errs, fmt.Errorf("duration must be positive, got %s", sc.Duration))
	}
	for i, f := range sc.Faults {
		if f.At < 0 || f.At >= sc.Duration {
			errs = append(errs, fmt.Errorf("fault %d: at %s is outside the run of %s", i, f.At, sc.Duration))
			continue
		}
		if err := w.Inject(sim.Fault{Kind: f.Kind, Target: f.Target, Peer: f.Peer, Instance: f.Instance,
			Start: sc.Start.Add(f.At), Duration: f.Duration, Magnitude: f.Magnitude}); err != nil {
			errs = append(errs, fmt.Errorf("fault %d: %w", i, err))
		}
	}
	for i, c := range sc.Changes {
		text := c.Text
		if text == "" {
			text = string(c.Kind) + " of " + c.Target
		}
		if err := w.Change(signal.Event{Time: sc.Start.Add(c.At), Entity: c.Target, Kind: c.Kind, Text: text,
			Attrs: map[string]string{"noise": "true"}}); err != nil {
			errs = append(errs, fmt.Errorf("change %d: %w", i, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	return w, nil
}

// Run runs the scenario, handing every batch to sink. speed is simulated
// seconds per second of wall time (0 runs as fast as it can); sleep waits,
// so that tests need not. It returns the world, whose Truth is the ground truth.
func (sc *Scenario) Run(ctx context.Context, speed float64, sleep func(context.Context, time.Duration) error, sink func(signal.Batch) error) (*sim.World, error) {
	w, err := sc.Build()
	if err != nil {
		return nil, err
	}
	end := sc.Start.Add(sc.Duration)
	step := sc.WorldConfig().Step
	for w.Now().Before(end) {
		if err := ctx.Err(); err != nil {
			return w, err
		}
		b := w.Step()
		if b.Len() > 0 {
			if err := sink(b); err != nil {
				return w, err
			}
		}
		if speed > 0 && sleep != nil {
			if err := sleep(ctx, time.Duration(float64(step)/speed)); err != nil {
				return w, err
			}
		}
	}
	return w, nil
}
