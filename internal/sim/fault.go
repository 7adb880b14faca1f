package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
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
	// FaultDisk fills the target's disk to 100 % in Magnitude minutes (10);
	// a full disk fails the writes, a third of its requests.
	FaultDisk FaultKind = "disk"
	// FaultNetLoss loses a Magnitude fraction (0.3) of the packets between
	// the target and Peer: calls either way wait for retransmissions or time out.
	FaultNetLoss FaultKind = "net_loss"
	// FaultPartition cuts the network between the target and Peer: every
	// call between them times out. Magnitude is unused.
	FaultPartition FaultKind = "partition"
	// FaultSlowQuery makes a database's queries Magnitude (8) times slower and
	// has them wait on locks; a few time out on their lock.
	FaultSlowQuery FaultKind = "slow_query"
	// FaultPool leaks connections from the target's pool to its stores until
	// it is exhausted after Magnitude minutes (3); requests then wait for a
	// connection and fail.
	FaultPool FaultKind = "pool"
	// FaultSurge multiplies the traffic of the target, an entry service, by
	// Magnitude (4).
	FaultSurge FaultKind = "surge"
	// FaultDeploy deploys a new version of the target (a deploy event) that
	// 30 s later fails a Magnitude fraction (0.25) of its requests and is slower.
	FaultDeploy FaultKind = "deploy"
	// FaultConfig changes the target's configuration (a config event) so
	// that 10 s later it fails a Magnitude fraction (0.5) of its requests.
	FaultConfig FaultKind = "config"
	// FaultExternal makes an external dependency fail a Magnitude fraction
	// (0.5) of its calls and answer the rest slowly.
	FaultExternal FaultKind = "external"
)

// FaultKinds lists the kinds of fault every service of the demo's shop can
// suffer, in a fixed order; AllFaultKinds lists them all.
func FaultKinds() []FaultKind {
	return []FaultKind{FaultLatency, FaultErrors, FaultCrash, FaultCPU, FaultLeak}
}

// AllFaultKinds lists every kind of fault, in a fixed order.
func AllFaultKinds() []FaultKind {
	return append(FaultKinds(), FaultDisk, FaultNetLoss, FaultPartition, FaultSlowQuery,
		FaultPool, FaultSurge, FaultDeploy, FaultConfig, FaultExternal)
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
	case FaultDisk:
		return 10
	case FaultNetLoss:
		return 0.3
	case FaultPartition:
		return 1
	case FaultSlowQuery:
		return 8
	case FaultPool:
		return 3
	case FaultSurge:
		return 4
	case FaultDeploy:
		return 0.25
	case FaultConfig, FaultExternal:
		return 0.5
	}
	return 0
}

// Delays from a change event to the regression it causes.
const (
	deployLag = int64(30 * time.Second)
	configLag = int64(10 * time.Second)
)

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
	// Peer is the other end of a net_loss or partition fault.
	Peer string `json:"peer,omitempty"`
	// Instance narrows a crash to one replica of the target ("cart-1").
	Instance string `json:"instance,omitempty"`
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
	// Peer and Instance are the fault's, when it has them.
	Peer     string `json:"peer,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Effect is when the fault begins to act on the system: for a deploy or
	// a config change, when the new version or setting starts serving and
	// the regression begins (the change event is at Start); otherwise
	// Start (a leak, a filling disk or a leaking pool moves its resource
	// from the first second, long before it runs out).
	Effect time.Time `json:"effect"`
}

// fault is an injected fault resolved against the world.
type fault struct {
	kind       FaultKind
	target     int
	peer, inst int   // -1 when none
	start, end int64 // unix ns; end 0 = open-ended
	mag        float64
	announced  bool // its change event was written
}

// effect is when the fault begins to act on the system (see Truth.Effect).
func (f *fault) effect() int64 {
	switch f.kind {
	case FaultDeploy:
		return f.start + deployLag
	case FaultConfig:
		return f.start + configLag
	}
	return f.start
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
	if !slices.Contains(AllFaultKinds(), f.Kind) {
		errs = append(errs, fmt.Errorf("%w %q (want one of %v)", ErrUnknownKind, f.Kind, AllFaultKinds()))
	}
	target, peer, inst := -1, -1, -1
	if f.Kind == FaultSurge {
		if slices.Contains(w.entries, w.index[f.Target]) && w.hasService(f.Target) {
			target = w.index[f.Target]
		} else {
			errs = append(errs, fmt.Errorf("%w %q: a surge targets an entry service, one of %v", ErrUnknownTarget, f.Target, w.entryNames()))
		}
	} else if slices.Contains(w.Targets(), f.Target) {
		target = w.index[f.Target]
		if err := w.fits(f.Kind, target); err != nil {
			errs = append(errs, err)
		}
	} else {
		errs = append(errs, fmt.Errorf("%w %q (want one of %v)", ErrUnknownTarget, f.Target, w.Targets()))
	}
	if f.Kind == FaultNetLoss || f.Kind == FaultPartition {
		if p, ok := w.index[f.Peer]; !ok || target < 0 || !w.linked(target, p) {
			errs = append(errs, fmt.Errorf("%w: peer %q of a %s fault must be a service that %q calls or is called by", ErrUnknownTarget, f.Peer, f.Kind, f.Target))
		} else {
			peer = p
		}
	} else if f.Peer != "" {
		errs = append(errs, fmt.Errorf("sim: only net_loss and partition faults have a peer, got %q", f.Peer))
	}
	if f.Instance != "" {
		if f.Kind != FaultCrash || target < 0 {
			errs = append(errs, fmt.Errorf("sim: only a crash targets an instance, got %s on %q", f.Kind, f.Instance))
		} else if i := slices.Index(w.instanceNames(target), f.Instance); i < 0 {
			errs = append(errs, fmt.Errorf("%w: %q is not an instance of %s (want one of %v)", ErrUnknownTarget, f.Instance, f.Target, w.instanceNames(target)))
		} else {
			inst = i
		}
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
	case (f.Kind == FaultNetLoss || f.Kind == FaultDeploy || f.Kind == FaultConfig || f.Kind == FaultExternal) && mag > 1:
		errs = append(errs, fmt.Errorf("sim: %s magnitude is a fraction within (0,1], got %v", f.Kind, mag))
	case (f.Kind == FaultDisk || f.Kind == FaultPool) && mag < 0.5:
		errs = append(errs, fmt.Errorf("sim: %s magnitude is the minutes until exhausted, at least 0.5, got %v", f.Kind, mag))
	case (f.Kind == FaultSlowQuery || f.Kind == FaultSurge) && mag < 1:
		errs = append(errs, fmt.Errorf("sim: %s magnitude is a factor >= 1, got %v", f.Kind, mag))
	}
	if err := errors.Join(errs...); err != nil {
		return fault{}, err
	}
	out := fault{kind: f.Kind, target: target, peer: peer, inst: inst, start: start, mag: mag}
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

func (w *World) hasService(name string) bool { _, ok := w.index[name]; return ok }

func (w *World) entryNames() []string {
	var out []string
	for _, e := range w.entries {
		out = append(out, w.svcs[e].name)
	}
	return out
}

// fits reports why a kind of fault cannot strike service i, or nil.
func (w *World) fits(k FaultKind, i int) error {
	s := &w.svcs[i]
	switch {
	case k == FaultExternal && s.kind != kindExternal:
		return fmt.Errorf("%w %q: an external fault strikes an external dependency, one of %v", ErrUnknownTarget, s.name, w.ofKind(kindExternal))
	case k != FaultExternal && k != FaultNetLoss && k != FaultPartition && s.kind == kindExternal:
		return fmt.Errorf("%w %q: an external dependency suffers only external, net_loss and partition faults", ErrUnknownTarget, s.name)
	case k == FaultSlowQuery && s.kind != kindDB:
		return fmt.Errorf("%w %q: a slow_query fault strikes a database, one of %v", ErrUnknownTarget, s.name, w.ofKind(kindDB))
	case k == FaultPool && !w.pooled[i]:
		return fmt.Errorf("%w %q: a pool fault strikes a service that calls a database or cache", ErrUnknownTarget, s.name)
	}
	return nil
}

func (w *World) ofKind(k kind) []string {
	var out []string
	for _, s := range w.svcs {
		if s.kind == k {
			out = append(out, s.name)
		}
	}
	return out
}

// linked reports whether a and b call each other synchronously.
func (w *World) linked(a, b int) bool {
	for _, e := range w.edges {
		if !e.async && (e.caller == a && e.callee == b || e.caller == b && e.callee == a) {
			return true
		}
	}
	return false
}

// instanceNames are the names of service i's replicas.
func (w *World) instanceNames(i int) []string {
	out := make([]string, w.svcs[i].instances)
	for j := range out {
		out[j] = instanceName(w.svcs[i].name, j)
	}
	return out
}

func instanceName(svc string, j int) string { return svc + "-" + strconv.Itoa(j) }

// truthAffected is what a resolved fault can move: for a network fault the
// caller's side of the link and the callee, for a surge everything the entry
// reaches, else the target and its callers.
func (w *World) truthAffected(f *fault) []string {
	switch f.kind {
	case FaultNetLoss, FaultPartition:
		caller, callee := f.target, f.peer
		for _, e := range w.edges {
			if e.caller == f.peer && e.callee == f.target && !e.async {
				caller, callee = f.peer, f.target
			}
		}
		out := w.affected(caller)
		if !slices.Contains(out, w.svcs[callee].name) {
			out = append(out, w.svcs[callee].name)
		}
		name := w.svcs[f.target].name
		rest := slices.DeleteFunc(out, func(s string) bool { return s == name })
		slices.Sort(rest)
		return append([]string{name}, rest...)
	case FaultSurge:
		seen := map[int]bool{f.target: true}
		todo := []int{f.target}
		for len(todo) > 0 {
			s := todo[0]
			todo = todo[1:]
			for _, e := range w.edges {
				if e.caller == s && !seen[e.callee] {
					seen[e.callee] = true
					todo = append(todo, e.callee)
				}
			}
		}
		var rest []string
		for s := range seen {
			if s != f.target && w.svcs[s].kind != kindExternal {
				rest = append(rest, w.svcs[s].name)
			}
		}
		slices.Sort(rest)
		return append([]string{w.svcs[f.target].name}, rest...)
	}
	return w.affected(f.target)
}
