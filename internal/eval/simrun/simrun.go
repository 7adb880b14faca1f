package simrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/seerops/seer/internal/engine"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim"
)

// None is the fault kind of a healthy run.
const None = "none"

// Options configure one run.
type Options struct {
	Seed int64
	// Start is the simulated time the run begins (zero: a fixed date, so
	// that runs are reproducible).
	Start time.Time
	// Backfill is the normal history simulated before the fault, from which
	// the detectors learn their baselines.
	Backfill time.Duration
	// After is how long the run goes on after the fault is injected.
	After time.Duration
	// Fault is the kind of fault (see sim.FaultKinds), or None.
	Fault string
	// Target is the service the fault hits; empty picks the default target.
	Target string
	// Pace, when set, is called before every step after the backfill with
	// the simulated time the step reaches; the live demo sleeps there to
	// keep to real time. It returns an error to stop the run.
	Pace func(ctx context.Context, now time.Time) error
	// Hooks watch the engine (the demo's timeline).
	Hooks engine.Hooks
	// OnInject is called when the fault is injected.
	OnInject func(sim.Fault)
	// OnBackfilled is called when the backfill is done.
	OnBackfilled func()
	// OnEngine is called once the engine is built (to serve its API).
	OnEngine func(*engine.Engine)
	// Linger, when set, is called after the run before the engine closes
	// (the demo's --stay).
	Linger func(ctx context.Context, e *engine.Engine) error
	// DataDir holds the knowledge store; empty uses a temporary directory
	// removed at the end.
	DataDir string
	// Engine is the engine's configuration; nil uses the defaults with a
	// synchronous bus.
	Engine *engine.Config
	Logger *slog.Logger
}

// DefaultBackfill is the normal history simulated before the fault.
const DefaultBackfill = 20 * time.Minute

// DefaultAfter is how long a run goes on after injecting a fault of kind:
// long enough for the fault to show, minutes for a leak that ramps towards
// its limit.
func DefaultAfter(kind string) time.Duration {
	if kind == string(sim.FaultLeak) {
		return 6 * time.Minute
	}
	return 2 * time.Minute
}

// DefaultTarget is the demo's default: a backend two hops from the front end.
const DefaultTarget = "catalog"

func (o *Options) defaults() {
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	}
	if o.Backfill == 0 {
		o.Backfill = DefaultBackfill
	}
	if o.After == 0 {
		o.After = DefaultAfter(o.Fault)
	}
	if o.Fault == "" {
		o.Fault = string(sim.FaultLatency)
	}
	if o.Target == "" && o.Fault != None {
		o.Target = DefaultTarget
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Result is what a run found.
type Result struct {
	Fault      sim.Fault
	InjectedAt time.Time
	// Incident is the incident that answers the fault: the first opened after
	// the injection (nil when none was).
	Incident *signal.Incident
	// Runbook is the incident's runbook as planned (dry-run).
	// DetectedAfter is the delay from the injection to the first observation
	// of Incident; DiagnosedAfter to the moment its final top cause was first
	// ranked top. Both are negative when there was nothing to detect.
	DetectedAfter, DiagnosedAfter time.Duration
	// Incidents are all incidents the run raised, including any before the
	// injection (false alarms).
	Incidents []signal.Incident
	// Observations are every observation of the run, in order.
	Observations []signal.Observation
	// Truth is the simulator's ground truth.
	Truth []sim.Truth
	// Steps is how many simulated steps ran; Wall how long it took.
	Steps int
	Wall  time.Duration
}

// Run runs the world and the engine together.
func Run(ctx context.Context, o Options) (res Result, err error) {
	o.defaults()
	began := time.Now()
	world, err := sim.NewShop(sim.Config{
		Seed: o.Seed, Start: o.Start,
		Step: time.Second, MetricInterval: 5 * time.Second,
		TraceSampling: 0.1, RequestRate: 40, LogRate: 2,
	})
	if err != nil {
		return res, fmt.Errorf("building the simulated shop: %w", err)
	}
	cfg := engine.Default()
	cfg.Bus.Sync = true
	if o.Engine != nil {
		cfg = *o.Engine
	}
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "seer-sim-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		o.DataDir = dir
	}
	cfg.DataDir = o.DataDir

	var mu sync.Mutex
	incidents := map[int64]signal.Incident{}
	hooks := engine.Hooks{
		Observation: func(ob signal.Observation) {
			mu.Lock()
			res.Observations = append(res.Observations, ob)
			mu.Unlock()
			if o.Hooks.Observation != nil {
				o.Hooks.Observation(ob)
			}
		},
		Incident: func(in signal.Incident) {
			mu.Lock()
			incidents[in.ID] = in
			mu.Unlock()
			if o.Hooks.Incident != nil {
				o.Hooks.Incident(in)
			}
		},
	}
	e, err := engine.New(ctx, cfg, o.Logger, hooks)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, e.Close()) }()
	if o.OnEngine != nil {
		o.OnEngine(e)
	}

	injectAt := o.Start.Add(o.Backfill)
	end := injectAt.Add(o.After)
	injected := false
	for world.Now().Before(end) {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if !injected && !world.Now().Before(injectAt) {
			injected = true
			if o.OnBackfilled != nil {
				o.OnBackfilled()
			}
			if o.Fault != None {
				f := sim.Fault{Kind: sim.FaultKind(o.Fault), Target: o.Target, Start: world.Now()}
				if err := world.Inject(f); err != nil {
					return res, fmt.Errorf("injecting the fault: %w", err)
				}
				res.Fault = f
				if o.OnInject != nil {
					o.OnInject(f)
				}
			}
			res.InjectedAt = world.Now()
		}
		if injected && o.Pace != nil {
			if err := o.Pace(ctx, world.Now().Add(time.Second)); err != nil {
				return res, err
			}
		}
		b := world.Step()
		if err := e.Ingest(ctx, &b); err != nil {
			return res, fmt.Errorf("ingesting at %s: %w", world.Now().Format(time.TimeOnly), err)
		}
		if err := e.Tick(ctx, world.Now()); err != nil {
			return res, fmt.Errorf("ticking at %s: %w", world.Now().Format(time.TimeOnly), err)
		}
		res.Steps++
	}
	res.Truth = world.Truth()
	if o.Linger != nil {
		defer func() { err = errors.Join(err, o.Linger(ctx, e)) }()
	}
	res.Wall = time.Since(began)

	mu.Lock()
	defer mu.Unlock()
	for _, in := range incidents {
		res.Incidents = append(res.Incidents, in)
	}
	sort.Slice(res.Incidents, func(i, j int) bool { return res.Incidents[i].ID < res.Incidents[j].ID })
	res.DetectedAfter, res.DiagnosedAfter = -1, -1
	for i := range res.Incidents {
		in := &res.Incidents[i]
		if in.Opened.Before(res.InjectedAt) {
			continue
		}
		res.Incident = in
		break
	}
	if res.Incident != nil {
		detected, err := firstObservation(ctx, e.Store(), res.Incident, res.InjectedAt)
		if err != nil {
			return res, err
		}
		res.DetectedAfter = detected.Sub(res.InjectedAt)
		if !res.Incident.Diagnosed.IsZero() {
			res.DiagnosedAfter = res.Incident.Diagnosed.Sub(res.InjectedAt)
		}
	}
	return res, nil
}

// firstObservation is when the earliest observation of in at or after t was
// made.
func firstObservation(ctx context.Context, st knowledge.Store, in *signal.Incident, t time.Time) (time.Time, error) {
	obs, err := st.Observations(ctx, knowledge.ObservationQuery{IDs: in.ObservationIDs, Limit: len(in.ObservationIDs) + 1})
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the incident's observations: %w", err)
	}
	first := in.Opened
	for _, o := range obs {
		if !o.Time.Before(t) && o.Time.Before(first) {
			first = o.Time
		}
	}
	return first, nil
}
