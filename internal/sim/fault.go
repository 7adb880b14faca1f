package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// FaultKind names a kind of fault the world can be made to suffer.
type FaultKind string

// The kinds of fault. What Magnitude means, and its default, depends on the kind.
const (
	// FaultLatency adds Magnitude milliseconds (300) to the target's own time.
	FaultLatency FaultKind = "latency"
	// FaultErrors makes the target fail a Magnitude fraction (0.4) of its requests.
	FaultErrors FaultKind = "errors"
	// FaultCrash takes the target down for the fault's duration; Magnitude is unused.
	FaultCrash FaultKind = "crash"
	// FaultCPU saturates the target's CPU and multiplies its own time by Magnitude (3).
	FaultCPU FaultKind = "cpu"
	// FaultLeak makes the target's memory ramp to its limit in Magnitude minutes (8),
	// where it is OOM-killed, restarts and leaks again while the fault lasts.
	FaultLeak FaultKind = "leak"
)

// FaultKinds lists every kind of fault, in a fixed order.
func FaultKinds() []FaultKind {
	return []FaultKind{FaultLatency, FaultErrors, FaultCrash, FaultCPU, FaultLeak}
}

// defaultMagnitude is the magnitude of a kind when the fault gives none.
func defaultMagnitude(k FaultKind) float64 {
	switch k {
	case FaultLatency:
		return 300
	case FaultErrors:
		return 0.4
	case FaultCPU:
		return 3
	case FaultLeak:
		return 8
	}
	return 0
}

// Fault is one fault to inject into the world.
type Fault struct {
	Kind   FaultKind `json:"kind"`
	Target string    `json:"target"`
	// Start is when the fault begins; zero means the world's current time.
	Start time.Time `json:"start"`
	// Duration is how long it lasts; zero means until the end of the run.
	Duration time.Duration `json:"duration"`
	// Magnitude is its strength in the kind's unit; zero means the kind's default.
	Magnitude float64 `json:"magnitude"`
}

// Truth is the ground truth of one injected fault.
type Truth struct {
	Kind   FaultKind `json:"kind"`
	Target string    `json:"target"`
	Start  time.Time `json:"start"`
	// End is when the fault stops; zero when it lasts until the end of the run.
	End time.Time `json:"end,omitzero"`
	// Affected is the target first, then every service whose signals the fault
	// can move (its transitive callers), sorted.
	Affected []string `json:"affected"`
}

// fault is an injected fault resolved against the world.
type fault struct {
	kind       FaultKind
	target     int
	start, end int64 // unix ns; end 0 = open-ended
	mag        float64
}

func (f *fault) active(t int64) bool {
	return t >= f.start && (f.end == 0 || t < f.end)
}

// Sentinel errors of Inject, to be matched with errors.Is.
var (
	// ErrUnknownKind is a fault kind that is not one of FaultKinds.
	ErrUnknownKind = errors.New("sim: unknown fault kind")
	// ErrUnknownTarget is a fault target that is not one of Targets.
	ErrUnknownTarget = errors.New("sim: unknown fault target")
)

// resolve checks f against the world and turns it into a fault.
func (w *World) resolve(f Fault) (fault, error) {
	var errs []error
	if !slices.Contains(FaultKinds(), f.Kind) {
		errs = append(errs, fmt.Errorf("%w %q (want one of %v)", ErrUnknownKind, f.Kind, FaultKinds()))
	}
	target := -1
	if slices.Contains(w.Targets(), f.Target) {
		target = w.index[f.Target]
	} else {
		errs = append(errs, fmt.Errorf("%w %q (want one of %v)", ErrUnknownTarget, f.Target, w.Targets()))
	}
	start := w.now
	if !f.Start.IsZero() {
		start = f.Start.UnixNano()
		if start < w.now {
			errs = append(errs, fmt.Errorf("sim: fault start %s is before the world's time %s", f.Start.UTC().Format(time.RFC3339), ts(w.now).Format(time.RFC3339)))
		}
	}
	if f.Duration < 0 {
		errs = append(errs, fmt.Errorf("sim: fault duration must not be negative, got %s", f.Duration))
	}
	mag := f.Magnitude
	if math.IsNaN(mag) || math.IsInf(mag, 0) || mag < 0 {
		errs = append(errs, fmt.Errorf("sim: fault magnitude must be a finite number >= 0, got %v", mag))
	}
	if mag == 0 {
		mag = defaultMagnitude(f.Kind)
	}
	switch {
	case f.Kind == FaultErrors && mag > 1:
		errs = append(errs, fmt.Errorf("sim: errors magnitude is a fraction of requests within (0,1], got %v", mag))
	case f.Kind == FaultCPU && mag < 1:
		errs = append(errs, fmt.Errorf("sim: cpu magnitude is a slow-down factor >= 1, got %v", mag))
	case f.Kind == FaultLeak && mag < 0.5:
		errs = append(errs, fmt.Errorf("sim: leak magnitude is the minutes to OOM, at least 0.5, got %v", mag))
	}
	if err := errors.Join(errs...); err != nil {
		return fault{}, err
	}
	out := fault{kind: f.Kind, target: target, start: start, mag: mag}
	if f.Duration > 0 {
		out.end = start + int64(f.Duration)
	}
	return out, nil
}

// affected is the target followed by every service that calls it directly or
// transitively, sorted. An asynchronous edge is followed one hop only: the
// queue backs up when its consumer fails, but its publishers do not notice.
func (w *World) affected(target int) []string {
	seen := map[int]bool{target: true}
	todo := []int{target}
	for len(todo) > 0 {
		s := todo[0]
		todo = todo[1:]
		for _, e := range w.edges {
			if e.callee != s || seen[e.caller] {
				continue
			}
			seen[e.caller] = true
			if !e.async {
				todo = append(todo, e.caller)
			}
		}
	}
	var rest []string
	for s := range seen {
		if s != target {
			rest = append(rest, w.svcs[s].name)
		}
	}
	slices.Sort(rest)
	return append([]string{w.svcs[target].name}, rest...)
}
