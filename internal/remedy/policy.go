package remedy

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// The reasons a Refusal gives.
const (
	RefusedBusy     = "busy"
	RefusedCooldown = "cooldown"
	RefusedRate     = "rate"
	RefusedBlast    = "blast-radius"
	// RefusedIncident: the incident already has a run in progress.
	RefusedIncident = "incident-busy"
)

// Refusal is the policy declining to start a run now.
type Refusal struct {
	// Reason is one of the Refused constants.
	Reason string
	Target string
	// Until is when a retry may succeed, when that is known.
	Until time.Time
	Msg   string
}

// Error says why, in words for the operator.
func (r *Refusal) Error() string { return r.Msg }

// Policy admits runs on targets: one at a time per target, not within the
// cooldown of the last, not more than the rate allows, and not more of a
// service's instances at once than the blast radius allows. It is safe for
// concurrent use.
type Policy struct {
	cfg       Config
	instances func(service string) int

	// changed is called, outside the lock, after every admitted run and
	// every release, so that the Manager can persist the state.
	changed func()

	mu      sync.Mutex
	running map[string]bool        // targets with a run in progress
	ended   map[string]time.Time   // target → end of its last run
	starts  map[string][]time.Time // target → run starts within RateWindow
}

// PolicyState is what a Policy remembers, as persisted between runs of
// seer: the targets with a run in progress, the end of each target's last
// run (its cooldown) and the recent starts (its rate).
type PolicyState struct {
	Running []string               `json:"running,omitempty"`
	Ended   map[string]time.Time   `json:"ended,omitempty"`
	Starts  map[string][]time.Time `json:"starts,omitempty"`
}

// State is a copy of what the policy remembers.
func (p *Policy) State() PolicyState {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := PolicyState{Ended: maps.Clone(p.ended), Starts: make(map[string][]time.Time, len(p.starts))}
	for t := range p.running {
		st.Running = append(st.Running, t)
	}
	slices.Sort(st.Running)
	for t, s := range p.starts {
		st.Starts[t] = slices.Clone(s)
	}
	return st
}

// Restore takes up the state a Policy saved before seer stopped at any
// moment, at now: runs that were in progress then were interrupted, so
// their targets are free but cool down from now, as though they had just
// ended. Nothing a crash interrupted may act on its target again before
// the cooldown.
func (p *Policy) Restore(st PolicyState, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, e := range st.Ended {
		if old, ok := p.ended[t]; !ok || e.After(old) {
			p.ended[t] = e
		}
	}
	for t, s := range st.Starts {
		p.starts[t] = append(p.starts[t], s...)
		slices.SortFunc(p.starts[t], time.Time.Compare)
	}
	for _, t := range st.Running {
		p.ended[t] = now
	}
}

// NewPolicy returns a policy; instances tells how many instances a service
// has (nil or 0 means unknown, taken as one).
func NewPolicy(cfg Config, instances func(service string) int) *Policy {
	if instances == nil {
		instances = func(string) int { return 0 }
	}
	return &Policy{cfg: cfg, instances: instances, running: map[string]bool{},
		ended: map[string]time.Time{}, starts: map[string][]time.Time{}}
}

// Lease is a run admitted on a target; Release ends it.
type Lease struct {
	p      *Policy
	target string
	once   sync.Once
}

// Release ends the run at t, which starts the target's cooldown. Calling it
// again does nothing.
func (l *Lease) Release(t time.Time) {
	l.once.Do(func() {
		l.p.mu.Lock()
		delete(l.p.running, l.target)
		l.p.ended[l.target] = t
		l.p.mu.Unlock()
		l.p.notify()
	})
}

func (p *Policy) notify() {
	if p.changed != nil {
		p.changed()
	}
}

// Service is the service an entity belongs to: "checkout" for
// "checkout/checkout-1", the entity itself otherwise.
func Service(entity string) string {
	if i := strings.IndexByte(entity, '/'); i > 0 {
		return entity[:i]
	}
	return entity
}

// Acquire admits a run on target at now, or refuses with a *Refusal.
//
// A target naming a service ("checkout") acts on the service as a whole,
// which the tool it calls rolls out itself: it excludes runs on any of the
// service's instances and counts once. A target naming an instance
// ("checkout/checkout-1") counts towards the service's blast radius.
func (p *Policy) Acquire(target string, now time.Time) (*Lease, error) {
	l, err := p.acquire(target, now)
	if err == nil {
		p.notify()
	}
	return l, err
}

func (p *Policy) acquire(target string, now time.Time) (*Lease, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	svc := Service(target)
	if p.running[target] {
		return nil, &Refusal{Reason: RefusedBusy, Target: target,
			Msg: fmt.Sprintf("an action on %s is already in progress", target)}
	}
	busy := 0
	for t := range p.running {
		if Service(t) != svc {
			continue
		}
		if t == svc || target == svc {
			return nil, &Refusal{Reason: RefusedBusy, Target: target,
				Msg: fmt.Sprintf("an action on %s is in progress, which %s overlaps", t, target)}
		}
		busy++
	}
	if end, ok := p.ended[target]; ok && p.cfg.Cooldown > 0 && now.Before(end.Add(p.cfg.Cooldown)) {
		until := end.Add(p.cfg.Cooldown)
		return nil, &Refusal{Reason: RefusedCooldown, Target: target, Until: until,
			Msg: fmt.Sprintf("%s is cooling down after the last action until %s", target, until.UTC().Format(time.RFC3339))}
	}
	starts := p.starts[target]
	keep := starts[:0]
	for _, s := range starts {
		if now.Sub(s) < p.cfg.RateWindow {
			keep = append(keep, s)
		}
	}
	p.starts[target] = keep
	if len(keep) >= p.cfg.MaxActions {
		until := keep[0].Add(p.cfg.RateWindow)
		return nil, &Refusal{Reason: RefusedRate, Target: target, Until: until,
			Msg: fmt.Sprintf("%s had %d actions within %s, the most allowed; next at %s", target, len(keep), p.cfg.RateWindow, until.UTC().Format(time.RFC3339))}
	}
	if target != svc {
		if lim := p.limit(svc); busy+1 > lim {
			return nil, &Refusal{Reason: RefusedBlast, Target: target,
				Msg: fmt.Sprintf("%d of %s's instances are being acted on, the most the blast radius allows (%d)", busy, svc, lim)}
		}
	}
	p.running[target] = true
	p.starts[target] = append(keep, now)
	if len(p.starts) > 4096 {
		p.prune(now)
	}
	return &Lease{p: p, target: target}, nil
}

// limit is how many of svc's instances may be acted on at once.
func (p *Policy) limit(svc string) int {
	lim := math.MaxInt
	if p.cfg.MaxInstances > 0 {
		lim = p.cfg.MaxInstances
	}
	if n := p.instances(svc); p.cfg.MaxPercent > 0 && n > 0 {
		lim = min(lim, int(math.Floor(p.cfg.MaxPercent*float64(n)+1e-9)))
	} else if p.cfg.MaxPercent > 0 && p.cfg.MaxPercent < 1 {
		lim = min(lim, 1) // the size is unknown: one at a time is the safe share
	}
	return max(lim, 1)
}

// prune forgets targets whose history no longer constrains anything, so
// that a churn of instance names does not grow the maps without bound.
// The caller holds mu.
func (p *Policy) prune(now time.Time) {
	for t, s := range p.starts {
		if len(s) == 0 || now.Sub(s[len(s)-1]) >= p.cfg.RateWindow {
			delete(p.starts, t)
		}
	}
	for t, e := range p.ended {
		if now.Sub(e) >= p.cfg.Cooldown {
			delete(p.ended, t)
		}
	}
}

// Running is the number of runs in progress.
func (p *Policy) Running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.running)
}
