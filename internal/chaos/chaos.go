// Package chaos injects real faults into the testbed's processes and
// network and records each with its ground truth: what, where, when it
// began and when and how it was undone. Network faults are made in a TCP
// proxy (Proxy) the testbed puts in front of every service; process faults
// with signals; resource faults through the services' control endpoint,
// where each carries its own deadline; a bad config push and a bad deploy
// are announced to seer as change events, as a deploy tool would.
//
// Every injection is undone when it is stopped, when its time is up, and,
// for the ones that live outside the injector, when the injector dies: the
// inside faults end by their own deadline, and the testbed's processes die
// with their supervisor. The journal records each step as it happens, so a
// crashed injector's faults are known to the next one (Recover).
package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The kinds of fault.
const (
	Latency = "latency" // proxy: added delay and jitter on requests
	Loss    = "loss"    // proxy: lost packets (retransmission delays)
	Reset   = "reset"   // proxy: connections reset
	Kill    = "kill"    // the process killed (SIGKILL), left down
	Hang    = "hang"    // the process stopped (SIGSTOP)
	CPU     = "cpu"     // a CPU hog inside the process
	Leak    = "leak"    // a memory leak inside the process
	Disk    = "disk"    // the data directory filling
	Config  = "config"  // a bad configuration pushed and reloaded
	Deploy  = "deploy"  // a faulty build deployed (restart), announced
	DBSlow  = "dbslow"  // the database slowed down
)

// Kinds lists every kind, in the order a campaign runs them.
func Kinds() []string {
	return []string{Latency, Loss, Reset, Kill, Hang, CPU, Leak, Disk, Config, Deploy, DBSlow}
}

// Env is what the injector acts through: the testbed.
type Env interface {
	// Proxy is the proxy in front of a service.
	Proxy(target string) (*Proxy, bool)
	// Signal sends a signal to the service's process.
	Signal(target string, sig syscall.Signal) error
	// Control posts to the service's control endpoint (path and query,
	// e.g. "/control/cpu?for=30s").
	Control(ctx context.Context, target, pathQuery string) error
	// Restart restarts the service with a build (shop.BuildGood, ...).
	Restart(ctx context.Context, target, build string) error
	// Configure writes the service's config (bad or good) and reloads it.
	Configure(ctx context.Context, target string, bad bool) error
	// Alive reports whether the service's process is running.
	Alive(target string) bool
	// Announce sends a change event (deploy, config, rollback) to seer.
	Announce(ctx context.Context, kind, target, text string) error
}

// Injection is one fault with its ground truth.
type Injection struct {
	ID     string            `json:"id"`
	Kind   string            `json:"kind"`
	Target string            `json:"target"`
	Params map[string]string `json:"params,omitempty"`
	// Start is when the fault was put in force; Until when it is due to
	// end by itself.
	Start time.Time `json:"start"`
	Until time.Time `json:"until"`
	// End is when it was undone, and Why: "stopped", "timeout",
	// "recovered" (an injector that restarted found it), "" while active.
	End time.Time `json:"end,omitzero"`
	Why string    `json:"why,omitempty"`
	// Error is what went wrong undoing it, if anything.
	Error string `json:"error,omitempty"`
}

// Active reports whether the fault is still in force.
func (in Injection) Active() bool { return in.End.IsZero() }

// Injector puts faults in force and undoes them.
type Injector struct {
	env     Env
	journal string
	log     *slog.Logger

	mu     sync.Mutex
	seq    int
	all    []*Injection
	timers map[string]*time.Timer
}

// New returns an injector whose journal (JSON lines) is at path.
func New(env Env, journal string, log *slog.Logger) *Injector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Injector{env: env, journal: journal, log: log, timers: map[string]*time.Timer{}}
}

// ErrUnknownKind is returned for a kind not in Kinds.
var ErrUnknownKind = errors.New("unknown fault kind")

// Targets lists where a kind of fault can be made, from the shop's
// services: proxy faults on services others call, process and resource
// faults anywhere, config on the services with a pool worth limiting, a
// deploy on the services with business logic, and a slow database on db.
func Targets(kind string, services []string, called map[string]bool) []string {
	var out []string
	for _, s := range services {
		ok := false
		switch kind {
		case Latency, Loss, Reset:
			ok = called[s]
		case Kill, Hang, CPU, Leak:
			ok = s != "shipping"
		case Disk:
			ok = slices.Contains([]string{"db", "payment", "queue"}, s)
		case Config:
			ok = slices.Contains([]string{"frontend", "gateway", "catalog", "cache", "db"}, s)
		case Deploy:
			ok = slices.Contains([]string{"gateway", "catalog", "cart", "checkout", "payment"}, s)
		case DBSlow:
			ok = s == "db"
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// Inject puts a fault in force for d. params tune it (latency "ms",
// "jitter_ms"; loss and reset "p"; cpu "workers"; leak and disk "rate"
// in bytes a second; dbslow "ms").
func (j *Injector) Inject(ctx context.Context, kind, target string, d time.Duration, params map[string]string) (Injection, error) {
	if !slices.Contains(Kinds(), kind) {
		return Injection{}, fmt.Errorf("%w %q: give one of %v", ErrUnknownKind, kind, Kinds())
	}
	if d <= 0 || d > 30*time.Minute {
		return Injection{}, fmt.Errorf("--for %s: give a duration up to 30m", d)
	}
	j.mu.Lock()
	for _, in := range j.all {
		if in.Active() && in.Target == target {
			j.mu.Unlock()
			return Injection{}, fmt.Errorf("%s already has a fault in force (%s %s); stop it first", target, in.ID, in.Kind)
		}
	}
	j.seq++
	in := &Injection{ID: fmt.Sprintf("f%d-%d", time.Now().Unix(), j.seq), Kind: kind, Target: target, Params: params}
	j.mu.Unlock()
	if err := j.do(ctx, in, d); err != nil {
		// Whatever half happened is undone.
		j.undo(context.WithoutCancel(ctx), in)
		return Injection{}, fmt.Errorf("injecting %s into %s: %w", kind, target, err)
	}
	j.mu.Lock()
	j.all = append(j.all, in)
	j.timers[in.ID] = time.AfterFunc(time.Until(in.Until), func() { j.Stop(context.Background(), in.ID, "timeout") })
	cp := *in
	j.mu.Unlock()
	j.write(cp)
	j.log.Info("fault injected", "id", in.ID, "kind", kind, "target", target, "for", d)
	return cp, nil
}

func param(p map[string]string, key string, def int) int {
	if v, err := strconv.Atoi(p[key]); err == nil && v >= 0 {
		return v
	}
	return def
}

func (j *Injector) do(ctx context.Context, in *Injection, d time.Duration) error {
	p, t := in.Params, in.Target
	forQ := "for=" + d.String()
	stamp := func() { in.Start, in.Until = time.Now(), time.Now().Add(d) }
	switch in.Kind {
	case Latency, Loss, Reset:
		px, ok := j.env.Proxy(t)
		if !ok {
			return fmt.Errorf("no proxy in front of %s", t)
		}
		f := &NetFault{}
		switch in.Kind {
		case Latency:
			f.Latency = time.Duration(param(p, "ms", 300)) * time.Millisecond
			f.Jitter = time.Duration(param(p, "jitter_ms", 100)) * time.Millisecond
		case Loss:
			f.Loss = float64(param(p, "percent", 30)) / 100
		case Reset:
			f.Reset = float64(param(p, "percent", 30)) / 100
		}
		stamp()
		px.Set(f)
		return nil
	case Kill:
		stamp()
		return j.env.Signal(t, syscall.SIGKILL)
	case Hang:
		stamp()
		return j.env.Signal(t, syscall.SIGSTOP)
	case CPU:
		stamp()
		return j.env.Control(ctx, t, fmt.Sprintf("/control/cpu?%s&workers=%d", forQ, param(p, "workers", 2)))
	case Leak:
		stamp()
		return j.env.Control(ctx, t, fmt.Sprintf("/control/leak?%s&rate=%d", forQ, param(p, "rate", 6<<20)))
	case Disk:
		stamp()
		return j.env.Control(ctx, t, fmt.Sprintf("/control/fill?%s&rate=%d", forQ, param(p, "rate", 6<<20)))
	case DBSlow:
		stamp()
		return j.env.Control(ctx, t, fmt.Sprintf("/control/slow?%s&ms=%d", forQ, param(p, "ms", 150)))
	case Config:
		if err := j.env.Announce(ctx, "config", t, "config push: max_in_flight 64 → 1"); err != nil {
			return err
		}
		stamp()
		return j.env.Configure(ctx, t, true)
	case Deploy:
		if err := j.env.Announce(ctx, "deploy", t, "deploy "+t+" v1.1.0"); err != nil {
			return err
		}
		stamp()
		return j.env.Restart(ctx, t, "faulty")
	}
	return fmt.Errorf("%w %q", ErrUnknownKind, in.Kind)
}

// undo ends a fault, whatever state it left, and leaves the target running
// its good build and config.
func (j *Injector) undo(ctx context.Context, in *Injection) error {
	var errs []error
	t := in.Target
	switch in.Kind {
	case Latency, Loss, Reset:
		if px, ok := j.env.Proxy(t); ok {
			px.Set(nil)
		}
	case Hang:
		errs = append(errs, j.env.Signal(t, syscall.SIGCONT))
	case CPU, Leak, DBSlow:
		if j.env.Alive(t) {
			errs = append(errs, j.env.Control(ctx, t, "/control/stop"))
		}
	case Disk:
		if j.env.Alive(t) {
			errs = append(errs, j.env.Control(ctx, t, "/control/free-disk"))
		}
	case Config:
		errs = append(errs, j.env.Configure(ctx, t, false))
	case Deploy:
		errs = append(errs, j.env.Restart(ctx, t, "good"))
	}
	if !j.env.Alive(t) {
		errs = append(errs, j.env.Restart(ctx, t, "good"))
	}
	return errors.Join(errs...)
}

// Stop undoes an injection now; why says what ended it.
func (j *Injector) Stop(ctx context.Context, id, why string) (Injection, error) {
	j.mu.Lock()
	var in *Injection
	for _, x := range j.all {
		if x.ID == id {
			in = x
		}
	}
	if in == nil {
		j.mu.Unlock()
		return Injection{}, fmt.Errorf("no injection %q", id)
	}
	if !in.Active() || in.Why == "stopping" {
		cp := *in
		j.mu.Unlock()
		return cp, nil
	}
	in.Why = "stopping"
	if t := j.timers[id]; t != nil {
		t.Stop()
		delete(j.timers, id)
	}
	j.mu.Unlock()
	err := j.undo(ctx, in)
	j.mu.Lock()
	in.End, in.Why = time.Now(), why
	if err != nil {
		in.Error = err.Error()
	}
	cp := *in
	j.mu.Unlock()
	j.write(cp)
	j.log.Info("fault undone", "id", id, "kind", in.Kind, "target", in.Target, "why", why, "err", err)
	return cp, err
}

// StopAll undoes every active injection.
func (j *Injector) StopAll(ctx context.Context, why string) error {
	var errs []error
	for _, in := range j.List() {
		if in.Active() {
			_, err := j.Stop(ctx, in.ID, why)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// List returns every injection, oldest first.
func (j *Injector) List() []Injection {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Injection, 0, len(j.all))
	for _, in := range j.all {
		out = append(out, *in)
	}
	return out
}

// write appends a record to the journal, synced: the record of a fault
// must outlive the injector.
func (j *Injector) write(in Injection) {
	if j.journal == "" {
		return
	}
	f, err := os.OpenFile(j.journal, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		j.log.Error("writing the chaos journal", "err", err)
		return
	}
	defer f.Close()
	b, _ := json.Marshal(in)
	f.Write(append(b, '\n'))
	f.Sync()
}

// ReadJournal returns the last record of every injection in a journal,
// oldest first.
func ReadJournal(path string) ([]Injection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	last := map[string]Injection{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var in Injection
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		last[in.ID] = in
	}
	out := make([]Injection, 0, len(last))
	for _, in := range last {
		out = append(out, in)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Start.Before(out[b].Start) })
	return out, sc.Err()
}

// Recover undoes what a previous injector left in force according to its
// journal (it crashed before undoing it) and records it "recovered".
func (j *Injector) Recover(ctx context.Context) error {
	prev, err := ReadJournal(j.journal)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, in := range prev {
		if !in.Active() {
			continue
		}
		in := in
		err := j.undo(ctx, &in)
		in.End, in.Why = time.Now(), "recovered"
		if err != nil {
			in.Error = err.Error()
			errs = append(errs, err)
		}
		j.write(in)
	}
	return errors.Join(errs...)
}
