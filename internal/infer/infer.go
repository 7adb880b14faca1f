package infer

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/seerops/seer/internal/infer/correlate"
	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/semconv"
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
	// Window is the recent metric history kept for the change scores.
	Window WindowConfig `yaml:"window"`
	// Investigate tunes investigations (Inferrer.Investigate).
	Investigate rca.InvestigateConfig `yaml:"investigate"`
	// Sweep tunes the change sweep (Inferrer.Sweep).
	Sweep SweepConfig `yaml:"sweep"`
	// Semantics extends the table that says what each series measures.
	Semantics semconv.Config `yaml:"semantics"`
	// InvestigationWeight is how much an investigation at an incident's
	// trouble onset (see Investigate) counts in ranking the incident's
	// causes, against the ranking of its observations; 0 takes the default
	// (0.5), negative leaves it out.
	InvestigationWeight float64 `yaml:"investigation_weight"`
	// ShiftEvery is how often (in signal time) an incident's change scores
	// are computed afresh; between, the last ones are reused.
	ShiftEvery time.Duration `yaml:"shift_every"`
}

// DefaultConfig is the configuration used for zero fields.
func DefaultConfig() Config {
	return Config{Correlate: correlate.DefaultConfig(), RCA: rca.DefaultConfig(), EventWindow: time.Hour, MaxEvents: 10000,
		Window: DefaultWindowConfig(), ShiftEvery: 5 * time.Second}
}

// Validate reports every field that is out of range.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, c.Correlate.Validate(), c.RCA.Validate(), c.Window.Validate(), c.Investigate.Validate(), c.Semantics.Validate(), c.Sweep.Validate())
	if c.ShiftEvery < 0 {
		errs = append(errs, fmt.Errorf("infer.shift_every must not be negative, got %s", c.ShiftEvery))
	}
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
	win      *Window
	shifts   map[*signal.Incident]shiftMemo
	rules    []signal.Rule
	weights  Weights
	der      *Deriver
	table    *semconv.Table
	// lastSweep is when the window was last swept; swept the series
	// reported since.
	lastSweep time.Time
	swept     map[string]swept
}

// shiftMemo is an incident's last change scores and investigation, and
// when they were made.
type shiftMemo struct {
	onset, at time.Time
	shifts    []rca.Shift
	inv       []signal.Cause
	invAt     time.Time
	invFocus  string
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
	if cfg.ShiftEvery == 0 {
		cfg.ShiftEvery = d.ShiftEvery
	}
	if topology == nil {
		topology = func() signal.Topology { return signal.Topology{} }
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cc := cfg.Correlate
	cc.Topology = topology
	table, err := semconv.New(cfg.Semantics)
	if err != nil {
		logger.Error("semantics rules ignored", "err", err)
		table = semconv.Default
	}
	return &Inferrer{der: NewDeriver(time.Minute), table: table, swept: map[string]swept{},
		cfg: cfg, topology: topology, log: logger.With("component", "infer"),
		corr: correlate.New(cc, logger), diag: map[*signal.Incident]string{}, issued: map[*signal.Incident]*signal.Incident{},
		win: NewWindow(cfg.Window), shifts: map[*signal.Incident]shiftMemo{},
	}
}

// Semantics is the semantics table the inferrer reads series by, with the
// user's rules: the one table every stage of an engine shares.
func (i *Inferrer) Semantics() *semconv.Table { return i.table }

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
	maps.DeleteFunc(i.shifts, func(in *signal.Incident, _ shiftMemo) bool { return !live[in] })
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
	onset := i.troubleOnset(obs, in.Onset)
	// Observations that had gone quiet well before the trouble began are
	// the noise the incident was opened on (or kept alive by), not clues.
	recent := slices.DeleteFunc(slices.Clone(obs), func(o signal.Observation) bool {
		return o.Time.Before(onset.Add(-i.window()))
	})
	in.Causes = rca.Rank(rca.Input{Observations: recent, Topology: topo, Events: i.eventsFor(in), Shifts: i.shiftsFor(in, onset, topo), Onset: onset, Table: i.table}, i.cfg.RCA)
	in.Causes = fuse(in.Causes, i.investigationFor(in, onset, alertFocus(recent), topo), i.cfg.InvestigationWeight)
	in.Causes = i.adjust(in, obs, in.Causes)
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

// window is how far apart observations may be and still be one burst of
// trouble: the correlator's grouping window.
func (i *Inferrer) window() time.Duration {
	if w := i.cfg.Correlate.Window; w > 0 {
		return w
	}
	return correlate.DefaultConfig().Window
}

// troubleOnset is when the incident's main trouble began, which is not
// always its first observation: recurring noise (a bursty log template, a
// detector still learning) can open an incident and keep it alive for
// minutes before a real fault joins it, and change scores computed around
// the noise's onset miss the fault. The significant observations (metric,
// trace and alarm ones reaching the correlator's MinScore; logs corroborate
// but do not date trouble) are split into bursts wherever they pause for
// longer than the grouping window (a forecast lasts until its limit is
// due); the onset is the start of the latest burst that holds at least a
// quarter of the strongest burst's evidence since the trouble last cleared
// (paused for ResolveAfter before a burst strong enough to open an incident
// alone): an incident kept open by one problem that another joins later,
// or reopened when trouble returns, is diagnosed on what is wrong now.
// Without significant observations it is the incident's own onset.
func (i *Inferrer) troubleOnset(obs []signal.Observation, fallback time.Time) time.Time {
	defaults := correlate.DefaultConfig()
	minScore := cmp.Or(i.cfg.Correlate.MinScore, defaults.MinScore)
	type span struct {
		start, end time.Time
		score      float64
		peak       float64 // the strongest observation's score
	}
	var sig []span
	for _, o := range obs {
		if o.Kind == signal.Change || o.Kind.Source() == signal.SourceLog || o.Score < minScore {
			continue
		}
		st, end := o.Start, o.Time
		if st.IsZero() || st.After(o.Time) || o.Kind == signal.MetricForecast {
			// A forecast's start is that of the trend it fitted, not
			// when anything went wrong; the trouble it foretells lasts
			// until the limit is due, and what comes then is the same
			// burst.
			st = o.Time
			if due, ok := correlate.Due(&o); ok {
				end = due
			}
		}
		sig = append(sig, span{st, end, o.Score, o.Score})
	}
	if len(sig) == 0 {
		return fallback
	}
	slices.SortFunc(sig, func(a, b span) int { return a.start.Compare(b.start) })
	var bursts []span
	for _, s := range sig {
		if n := len(bursts); n > 0 && !s.start.After(bursts[n-1].end.Add(i.window())) {
			b := &bursts[n-1]
			b.score += s.score
			b.peak = max(b.peak, s.peak)
			if s.end.After(b.end) {
				b.end = s.end
			}
			continue
		}
		bursts = append(bursts, s)
	}
	// Trouble that paused for as long as it takes an incident to resolve
	// had cleared: a strong burst that came after (one that could open an
	// incident alone; the incident reopened) is diagnosed on its own,
	// however much more was said before.
	resolve, strong := cmp.Or(i.cfg.Correlate.ResolveAfter, defaults.ResolveAfter), cmp.Or(i.cfg.Correlate.StrongScore, defaults.StrongScore)
	for j := len(bursts) - 1; j > 0; j-- {
		if bursts[j].start.Sub(bursts[j-1].end) >= resolve && bursts[j].peak >= strong {
			bursts = bursts[j:]
			break
		}
	}
	top := 0.0
	for _, b := range bursts {
		top = max(top, b.score)
	}
	for j := len(bursts) - 1; j >= 0; j-- {
		if b := bursts[j]; b.score >= top/4 {
			if b.start.Before(fallback) {
				return fallback
			}
			return b.start
		}
	}
	return fallback
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

// AddSamples keeps metric samples in the recent window the change scores
// are computed from.
func (i *Inferrer) AddSamples(samples []signal.Sample) { i.win.Add(samples) }

// shiftsFor are the change scores around the incident's onset of its own
// entities and of their neighbours on the call graph (all entities when
// there is no graph), reused for ShiftEvery.
func (i *Inferrer) shiftsFor(in *signal.Incident, onset time.Time, topo signal.Topology) []rca.Shift {
	if m, ok := i.shifts[in]; ok && m.onset.Equal(onset) && in.Updated.Sub(m.at) < i.cfg.ShiftEvery {
		return m.shifts
	}
	g := rca.NewGraph(topo)
	var keep func(string) bool
	if !g.Empty() {
		near := map[string]bool{}
		for _, e := range in.Entities {
			s := rca.Service(e)
			near[s] = true
			for n := range g.Near(s, 1) {
				near[n] = true
			}
		}
		keep = func(e string) bool { return near[rca.Service(e)] }
	}
	sh := i.win.Shifts(onset, in.Updated, keep)
	m := i.shifts[in]
	if !m.onset.Equal(onset) {
		m = shiftMemo{}
	}
	m.onset, m.at, m.shifts = onset, in.Updated, sh
	i.shifts[in] = m
	return sh
}

// investigationFor is the investigation of the incident's trouble around its
// onset, with what is known by its last update, made afresh every
// ShiftEvery; focus, when set, is the entity a firing alert named.
func (i *Inferrer) investigationFor(in *signal.Incident, onset time.Time, focus string, topo signal.Topology) []signal.Cause {
	if i.cfg.InvestigationWeight < 0 {
		return nil
	}
	m := i.shifts[in]
	if !m.invAt.IsZero() && m.onset.Equal(onset) && m.invFocus == focus && in.Updated.Sub(m.invAt) < i.cfg.ShiftEvery {
		return m.inv
	}
	if !m.onset.Equal(onset) {
		m = shiftMemo{onset: onset}
	}
	inv := i.investigate(onset, in.Updated, focus, "", i.eventsFor(in), topo)
	m.inv, m.invAt, m.invFocus = inv, in.Updated, focus
	i.shifts[in] = m
	return inv
}

// alertFocus is the entity the incident's first firing alarm names: an
// alert is a rule an operator wrote for a symptom, so the incident's
// investigation looks at that service and what it depends on (as an
// investigation opened by the alert would), not at every service that
// happened to change meanwhile. rca.Investigate ignores a focus off the
// call graph. It is "" when no alarm is among the observations.
func alertFocus(obs []signal.Observation) string {
	var first *signal.Observation
	for k := range obs {
		o := &obs[k]
		if o.Kind != signal.Alarm {
			continue
		}
		if first == nil || o.Start.Before(first.Start) || o.Start.Equal(first.Start) && o.Score > first.Score {
			first = o
		}
	}
	if first == nil {
		return ""
	}
	return first.Entity
}

// fuse adds an investigation's causes to a ranking, each entity's scores
// combined as independent evidence (noisy-or, the investigation's weighted
// by w), and sorts the result.
func fuse(ranked, inv []signal.Cause, w float64) []signal.Cause {
	if len(inv) == 0 {
		return ranked
	}
	w = cmp.Or(w, 0.5)
	at := map[string]int{}
	for k, c := range ranked {
		at[c.Entity] = k
	}
	out := slices.Clone(ranked)
	for _, c := range inv {
		k, ok := at[c.Entity]
		if !ok {
			c.Score *= w
			out = append(out, c)
			continue
		}
		out[k].Score = 1 - (1-out[k].Score)*(1-w*c.Score)
		out[k].Facts = append(out[k].Facts, c.Facts...)
		out[k].Evidence = append(out[k].Evidence, c.Evidence...)
		if out[k].Kind == "" {
			out[k].Kind = c.Kind
		}
	}
	slices.SortStableFunc(out, func(a, b signal.Cause) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Entity, b.Entity))
	})
	return out[:min(len(out), 10)]
}

// Diagnose ranks root causes around an onset that something outside the
// correlator named (an alarm, an operator's question, an evaluation case):
// the change scores of every series in the window around onset, read up to
// now, with the events and topology known. No incident is opened.
//
// A symptom (the alarm's entity and metric), when given, anchors the
// analysis: a cause of trouble seen at an entity is the entity or one of
// the services it depends on, and shows in the same family of metric
// (latency, errors and availability, resources, traffic) as the symptom.
func (i *Inferrer) Diagnose(onset, now time.Time, symptom *Symptom) []signal.Cause {
	i.mu.Lock()
	defer i.mu.Unlock()
	in := &signal.Incident{Onset: onset, Updated: now}
	topo := i.topology()
	var keep func(string) bool
	if symptom != nil && symptom.Entity != "" {
		g := rca.NewGraph(topo)
		if g.Has(rca.Service(symptom.Entity)) {
			deps := g.Descendants(rca.Service(symptom.Entity), 0)
			keep = func(e string) bool {
				s := rca.Service(e)
				_, ok := deps[s]
				return ok || s == rca.Service(symptom.Entity)
			}
		}
	}
	shifts := i.win.Shifts(onset, now, keep)
	if symptom != nil && symptom.Metric != "" {
		fam := i.table.Of(symptom.Metric, nil).Quantity.Family()
		shifts = slices.DeleteFunc(shifts, func(s rca.Shift) bool { return i.table.Of(cmp.Or(s.Metric, s.Name), s.Labels).Quantity.Family() != fam })
	}
	causes := rca.Rank(rca.Input{Topology: topo, Events: i.eventsFor(in), Shifts: shifts, Onset: onset, Table: i.table}, i.cfg.RCA)
	if len(causes) == 0 {
		// Too little history for the change scores (a baseline of one
		// point): an investigation judges what there is with wider bounds.
		var focus, metric string
		if symptom != nil {
			focus, metric = symptom.Entity, symptom.Metric
		}
		causes = i.investigate(onset, now, focus, metric, i.eventsFor(in), topo)
	}
	return i.adjust(in, nil, causes)
}

// AddLogs derives per-minute error-line rates per service for
// investigations.
func (i *Inferrer) AddLogs(logs []signal.LogRecord) {
	i.der.AddLogs(logs)
	i.win.Add(i.der.Flush(i.der.Newest()))
}

// Investigate ranks the causes of trouble around at, as an alert or an
// operator asks: every recent series (metrics, and those derived from
// traces and logs) is scored by its robust change after at against its
// baseline before, read through the semantics table, and fused per entity
// on the call graph with the change events known (see rca.Investigate).
// focus, when set, keeps the entity's service and what it depends on.
func (i *Inferrer) Investigate(at time.Time, focus string) []signal.Cause {
	return i.InvestigateMetric(at, focus, "")
}

// InvestigateMetric is Investigate for trouble seen in one metric of focus:
// the causes are looked for in series of the same family.
func (i *Inferrer) InvestigateMetric(at time.Time, focus, metric string) []signal.Cause {
	cfg := i.cfg.Investigate.WithDefaults()
	i.mu.Lock()
	in := &signal.Incident{Onset: at.Add(-cfg.Lookback), Updated: at.Add(cfg.Horizon)}
	events := slices.Clone(i.eventsFor(in))
	topo := i.topology()
	i.mu.Unlock()
	return i.investigate(at, at.Add(max(cfg.Horizon, time.Hour)), focus, metric, events, topo)
}

// investigate runs rca.Investigate at at over the window's series from the
// lookback before at up to upto (past the horizon by as much as a coarse
// series needs to show two of its own steps after the cut; rca.Investigate
// reads no more), with the events and topology given.
func (i *Inferrer) investigate(at, upto time.Time, focus, metric string, events []signal.Event, topo signal.Topology) []signal.Cause {
	cfg := i.cfg.Investigate.WithDefaults()
	return rca.Investigate(rca.Investigation{At: at, Series: i.win.Range(at.Add(-cfg.Lookback), upto), Events: events,
		Topology: topo, Focus: focus, FocusMetric: metric, Table: i.table}, cfg)
}

// Baseline ranks entities the simplest honest way, for comparison with
// Investigate: by the largest robust change score of any of their own series
// around at, in either direction, over the same windows.
func (i *Inferrer) Baseline(at time.Time) []string {
	cfg := i.cfg.Investigate.WithDefaults()
	return rca.Baseline(at, i.win.Range(at.Add(-cfg.Lookback), at.Add(max(cfg.Horizon, time.Hour))), cfg)
}

// Symptom is what an alarm says is wrong: where, and in which metric.
type Symptom struct {
	Entity string
	Metric string
}

// Window is the recent metric window the Inferrer keeps.
func (i *Inferrer) Window() *Window { return i.win }
