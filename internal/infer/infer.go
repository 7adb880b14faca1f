package infer

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/seerops/seer/internal/infer/correlate"
	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/signal"
)

// Config tunes inference.
type Config struct {
	Correlate correlate.Config `yaml:"correlate"`
	RCA       rca.Config       `yaml:"rca"`
	// EventWindow is how long change events are kept for ranking; it should
	// cover rca's ChangeWindow.
	EventWindow time.Duration `yaml:"event_window"`
	// MaxEvents caps the events kept.
	MaxEvents int `yaml:"max_events"`
}

// DefaultConfig is the configuration used for zero fields.
func DefaultConfig() Config {
	return Config{Correlate: correlate.DefaultConfig(), RCA: rca.DefaultConfig(), EventWindow: time.Hour, MaxEvents: 10000}
}

// Validate reports every field that is out of range.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, c.Correlate.Validate(), c.RCA.Validate())
	if c.EventWindow < 0 {
		errs = append(errs, fmt.Errorf("infer.event_window must not be negative, got %s", c.EventWindow))
	}
	if c.MaxEvents < 0 {
		errs = append(errs, fmt.Errorf("infer.max_events must not be negative, got %d", c.MaxEvents))
	}
	return errors.Join(errs...)
}

// Inferrer groups observations into incidents and diagnoses them. It is
// safe for concurrent use.
//
// Add and Tick return snapshots: copies the caller owns and may store or
// change. The store sets a new incident's ID on the snapshot it is given;
// the caller hands that snapshot back to Bind so that later snapshots of
// the same incident carry the ID and replace the stored one.
type Inferrer struct {
	mu       sync.Mutex
	cfg      Config
	topology func() signal.Topology
	log      *slog.Logger
	corr     *correlate.Correlator
	diag     map[*signal.Incident]string           // the top cause's entity when Diagnosed was set
	issued   map[*signal.Incident]*signal.Incident // snapshot → the correlator's incident, until bound
	events   []signal.Event                        // by time
}

// New returns an Inferrer; zero fields of cfg take their defaults and a nil
// topology means none is known.
func New(cfg Config, topology func() signal.Topology, logger *slog.Logger) *Inferrer {
	d := DefaultConfig()
	if cfg.EventWindow == 0 {
		cfg.EventWindow = d.EventWindow
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = d.MaxEvents
	}
	if topology == nil {
		topology = func() signal.Topology { return signal.Topology{} }
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cc := cfg.Correlate
	cc.Topology = topology
	return &Inferrer{
		cfg: cfg, topology: topology, log: logger.With("component", "infer"),
		corr: correlate.New(cc, logger), diag: map[*signal.Incident]string{}, issued: map[*signal.Incident]*signal.Incident{},
	}
}

// Add correlates the observations and returns a snapshot of every incident
// they opened, reopened or changed, with its causes ranked afresh.
func (i *Inferrer) Add(obs []signal.Observation) []*signal.Incident {
	i.mu.Lock()
	defer i.mu.Unlock()
	changed := i.corr.Add(obs)
	if len(changed) == 0 {
		return nil
	}
	topo := i.topology()
	out := make([]*signal.Incident, 0, len(changed))
	for _, in := range changed {
		i.diagnose(in, topo)
		out = append(out, i.snapshot(in))
	}
	return out
}

// Tick resolves the incidents that went quiet by now and returns snapshots
// of them.
func (i *Inferrer) Tick(now time.Time) []*signal.Incident {
	i.mu.Lock()
	defer i.mu.Unlock()
	resolved := i.corr.Tick(now)
	out := make([]*signal.Incident, 0, len(resolved))
	for _, in := range resolved {
		out = append(out, i.snapshot(in))
	}
	// Forget what the correlator forgot.
	live := map[*signal.Incident]bool{}
	for _, in := range i.corr.Incidents() {
		live[in] = true
	}
	maps.DeleteFunc(i.diag, func(in *signal.Incident, _ string) bool { return !live[in] })
	maps.DeleteFunc(i.issued, func(_, in *signal.Incident) bool { return !live[in] })
	return out
}

// AddEvents keeps change and alarm events for ranking, within EventWindow
// of the newest and at most MaxEvents.
func (i *Inferrer) AddEvents(ev []signal.Event) {
	if len(ev) == 0 {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.events = append(i.events, ev...)
	slices.SortStableFunc(i.events, func(a, b signal.Event) int { return a.Time.Compare(b.Time) })
	horizon := i.events[len(i.events)-1].Time.Add(-i.cfg.EventWindow)
	cut, _ := slices.BinarySearchFunc(i.events, horizon, func(e signal.Event, t time.Time) int { return e.Time.Compare(t) })
	cut = max(cut, len(i.events)-i.cfg.MaxEvents)
	i.events = slices.Delete(i.events, 0, cut)
}

// Bind tells the Inferrer the ID the store gave a snapshot, so that later
// snapshots of the incident carry it. Unknown snapshots are ignored.
func (i *Inferrer) Bind(snap *signal.Incident) {
	i.mu.Lock()
	defer i.mu.Unlock()
	in := i.issued[snap]
	if in == nil {
		return
	}
	if in.ID == 0 {
		in.ID = snap.ID
	}
	maps.DeleteFunc(i.issued, func(_, v *signal.Incident) bool { return v == in && in.ID != 0 })
}

// diagnose ranks the incident's causes and names it after the top one.
func (i *Inferrer) diagnose(in *signal.Incident, topo signal.Topology) {
	obs := i.corr.Observations(in)
	in.Causes = rca.Rank(rca.Input{Observations: obs, Topology: topo, Events: i.eventsFor(in)}, i.cfg.RCA)
	services := map[string]bool{}
	for _, e := range in.Entities {
		services[rca.Service(e)] = true
	}
	if len(in.Causes) == 0 {
		in.Title = correlate.Title(in.Entities)
		return
	}
	top := in.Causes[0]
	kind := top.Kind
	if kind == "" {
		kind = "anomalous"
	}
	noun := "services"
	if len(services) == 1 {
		noun = "service"
	}
	in.Title = fmt.Sprintf("%s: %s (%d %s affected)", top.Entity, kind, len(services), noun)
	if i.diag[in] != top.Entity || in.Diagnosed.IsZero() {
		i.diag[in] = top.Entity
		in.Diagnosed = in.Updated
		i.log.Debug("diagnosed", "id", in.ID, "cause", top.Entity, "kind", top.Kind, "score", top.Score)
	}
}

// eventsFor are the kept events that may bear on the incident.
func (i *Inferrer) eventsFor(in *signal.Incident) []signal.Event {
	from := in.Onset.Add(-i.cfg.EventWindow)
	lo, _ := slices.BinarySearchFunc(i.events, from, func(e signal.Event, t time.Time) int { return e.Time.Compare(t) })
	hi, _ := slices.BinarySearchFunc(i.events, in.Updated.Add(time.Nanosecond), func(e signal.Event, t time.Time) int { return e.Time.Compare(t) })
	return i.events[lo:max(lo, hi)]
}

// snapshot copies the incident deep enough that the caller may keep it.
func (i *Inferrer) snapshot(in *signal.Incident) *signal.Incident {
	s := *in
	s.Entities = slices.Clone(in.Entities)
	s.ObservationIDs = slices.Clone(in.ObservationIDs)
	s.Causes = slices.Clone(in.Causes)
	for k := range s.Causes {
		s.Causes[k].Evidence = slices.Clone(s.Causes[k].Evidence)
	}
	s.Labels = maps.Clone(in.Labels)
	if in.Runbook != nil {
		rb := *in.Runbook
		rb.Actions = slices.Clone(rb.Actions)
		s.Runbook = &rb
	}
	if in.ID == 0 {
		i.issued[&s] = in
	}
	return &s
}
