package correlate

import (
	"cmp"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/seerops/seer/internal/infer/rca"
	"github.com/seerops/seer/internal/signal"
)

// Correlator groups observations into incidents. It is safe for concurrent
// use.
//
// The incidents it returns are its own: the pointer is the incident's
// identity until the store gives it an ID (and after), so a caller stores
// the incident it was handed (setting its ID in place) and must not read or
// write it while another call on the Correlator may run; infer.Inferrer
// serialises that for the engine.
type Correlator struct {
	mu       sync.Mutex
	cfg      Config
	log      *slog.Logger
	open     []*group // by creation
	resolved []*group // kept for Cfg.Reopen
	byInc    map[*signal.Incident]*group
	pending  []signal.Observation
	seq      uint64
	newest   time.Time
	dropped  int // observations beyond an incident's cap or the pending cap
}

// key is what makes observations the same: they repeat, not add.
type key struct {
	entity string
	kind   signal.ObsKind
	name   string
}

// entry is one distinct observation of an incident, merged over repeats.
type entry struct {
	obs   signal.Observation
	count int
	id    int64 // the first observation's ID
}

// group is one incident and what it was made of.
type group struct {
	inc      *signal.Incident
	seq      uint64
	entries  map[key]*entry
	order    []key
	services map[string]int // graph node → entries on it
	first    time.Time      // oldest observation Time
	newest   time.Time      // newest observation Time
	overflow int
	// lastActive and burst are the newest metric, trace or alarm
	// observation's Time and when the current burst of them began (after
	// a pause of more than Window): what the incident is about now.
	lastActive, burst time.Time
	// due is when each service urgently forecast to exhaust a resource
	// (StrongScore) is to reach its limit: until then (and Window after)
	// its symptoms are the forecast trouble arriving, not a new problem,
	// and the incident stays open.
	due     map[string]time.Time
	roots   []string // services no other service of the group explains
	rootsOf *pass
	// closedByOperator is set when an operator resolved the incident: their
	// judgement stands, and trouble that returns opens a new incident.
	closedByOperator bool
}

// pass holds what one Add or Tick computes from the topology, so that it is
// computed once per call.
type pass struct {
	g    *rca.Graph
	hops int
	near map[string]map[string]int
	desc map[string]map[string]int
	all  map[string]map[string]int
}

func newPass(t signal.Topology, hops int) *pass {
	return &pass{g: rca.NewGraph(t), hops: hops, near: map[string]map[string]int{}, desc: map[string]map[string]int{}, all: map[string]map[string]int{}}
}

func cached(m map[string]map[string]int, s string, f func() map[string]int) map[string]int {
	d, ok := m[s]
	if !ok {
		d = f()
		m[s] = d
	}
	return d
}

// New returns a Correlator; zero fields of cfg take their defaults.
func New(cfg Config, logger *slog.Logger) *Correlator {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Correlator{cfg: cfg.withDefaults(), log: logger.With("component", "correlate"), byInc: map[*signal.Incident]*group{}}
}

func (c *Correlator) pass() *pass {
	var t signal.Topology
	if c.cfg.Topology != nil {
		t = c.cfg.Topology()
	}
	return newPass(t, c.cfg.MaxHops)
}

// Add groups the observations and returns the incidents they opened,
// reopened or joined, oldest incident first.
func (c *Correlator) Add(obs []signal.Observation) []*signal.Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pass()
	sorted := slices.Clone(obs)
	slices.SortStableFunc(sorted, func(a, b signal.Observation) int {
		return cmp.Or(onset(&a).Compare(onset(&b)), a.Time.Compare(b.Time), cmp.Compare(a.Entity, b.Entity))
	})
	changed := map[*group]bool{}
	for i := range sorted {
		o := &sorted[i]
		if o.Entity == "" {
			continue
		}
		if o.Time.After(c.newest) {
			c.newest = o.Time
		}
		if g := c.match(p, o, c.open, false); g != nil {
			g.add(o, c)
			changed[g] = true
			continue
		}
		if g := c.match(p, o, c.resolved, true); g != nil {
			c.reopen(g, o)
			g.add(o, c)
			changed[g] = true
			continue
		}
		c.pending = append(c.pending, *o)
		if g := c.tryOpen(p, o); g != nil {
			changed[g] = true
		}
	}
	c.prunePending(c.newest.Add(-c.cfg.Window))
	out := make([]*signal.Incident, 0, len(changed))
	for _, g := range slices.SortedFunc(maps.Keys(changed), byseq) {
		g.refresh()
		out = append(out, g.inc)
	}
	return out
}

// Tick resolves the incidents nothing joined for Cfg.ResolveAfter and
// returns them; it forgets resolved incidents after Cfg.Reopen.
func (c *Correlator) Tick(now time.Time) []*signal.Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*signal.Incident
	open := c.open[:0]
	for _, g := range c.open {
		if now.Sub(g.newest) < c.cfg.ResolveAfter || g.pending(now) {
			open = append(open, g)
			continue
		}
		g.inc.Status = signal.IncidentResolved
		g.inc.Resolved = now
		g.inc.Updated = now
		c.resolved = append(c.resolved, g)
		out = append(out, g.inc)
		c.log.Debug("incident resolved", "key", g.seq, "id", g.inc.ID, "last", g.newest)
	}
	clear(c.open[len(open):])
	c.open = open
	kept := c.resolved[:0]
	for _, g := range c.resolved {
		if now.Sub(g.inc.Resolved) <= c.cfg.Reopen {
			kept = append(kept, g)
		} else {
			delete(c.byInc, g.inc)
		}
	}
	clear(c.resolved[len(kept):])
	c.resolved = kept
	c.prunePending(now.Add(-c.cfg.Window))
	return out
}

// Resolve resolves an open incident at once (an operator said so); false
// when the correlator does not hold it open.
func (c *Correlator) Resolve(in *signal.Incident, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.byInc[in]
	i := slices.Index(c.open, g)
	if g == nil || i < 0 {
		return false
	}
	c.open = slices.Delete(c.open, i, i+1)
	g.inc.Status, g.inc.Resolved, g.inc.Updated = signal.IncidentResolved, now, now
	g.closedByOperator = true
	c.resolved = append(c.resolved, g)
	return true
}

// Reopen opens a resolved incident again (an operator said it is not
// over); false when the correlator does not hold it resolved.
func (c *Correlator) Reopen(in *signal.Incident, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.byInc[in]
	if g == nil || !slices.Contains(c.resolved, g) {
		return false
	}
	c.reopen(g, &signal.Observation{Summary: "an operator"})
	g.closedByOperator = false
	g.inc.Updated = now
	// Nothing may join it for ResolveAfter yet: it is open from now.
	g.newest = now
	return true
}

// Observations is what the incident is made of: one observation for each
// distinct (entity, kind, name), merged over its repeats: the earliest
// start, the latest time, the values of the strongest, and
// Evidence["count"] when it repeated. It is nil for an unknown incident.
func (c *Correlator) Observations(in *signal.Incident) []signal.Observation {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.byInc[in]
	if g == nil {
		return nil
	}
	out := make([]signal.Observation, 0, len(g.order))
	for _, k := range g.order {
		e := g.entries[k]
		o := e.obs
		if e.count > 1 {
			o.Evidence = maps.Clone(o.Evidence)
			if o.Evidence == nil {
				o.Evidence = map[string]string{}
			}
			o.Evidence["count"] = strconv.Itoa(e.count)
		}
		out = append(out, o)
	}
	return out
}

// Open lists the open incidents, oldest first.
func (c *Correlator) Open() []*signal.Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*signal.Incident, len(c.open))
	for i, g := range c.open {
		out[i] = g.inc
	}
	return out
}

// Incidents lists every incident the correlator still remembers: the open
// ones and those resolved within Reopen.
func (c *Correlator) Incidents() []*signal.Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*signal.Incident, 0, len(c.byInc))
	for _, g := range slices.SortedFunc(maps.Values(c.byInc), byseq) {
		out = append(out, g.inc)
	}
	return out
}

// Dropped counts the observations left out for a cap (per incident or
// pending); they still kept their incident alive.
func (c *Correlator) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// match is the group of gs the observation belongs to, or nil: the same
// observation repeating within ResolveAfter, or a related entity within
// Window. Closer relations win, then the most recently active group.
func (c *Correlator) match(p *pass, o *signal.Observation, gs []*group, reopening bool) *group {
	var best *group
	bestDist := 0
	for _, g := range gs {
		var d int
		if reopening {
			if g.closedByOperator || o.Kind == signal.Change || o.Score < c.cfg.MinScore || o.Time.Sub(g.inc.Resolved) > c.cfg.Reopen {
				continue
			}
			// Reopening needs the same symptom to return (the same series
			// or pattern on the same entity), not just something nearby: a
			// new problem a few hops away, or another resource of the same
			// host, is a new incident.
			if !g.hasSymptom(o) {
				continue
			}
			d = 0
		} else if _, same := g.entries[keyOf(o)]; same && o.Time.Sub(g.newest) <= c.cfg.ResolveAfter {
			d = -1
		} else {
			if o.Time.Sub(g.newest) > c.cfg.Window && !g.awaits(rca.Service(o.Entity), o.Time, c.cfg.Window) || g.first.Sub(o.Time) > c.cfg.Window {
				continue
			}
			if d = c.distance(p, rca.Service(o.Entity), g); d < 0 {
				continue
			}
		}
		if best == nil || d < bestDist || d == bestDist && g.newest.After(best.newest) {
			best, bestDist = g, d
		}
	}
	return best
}

// distance is how closely a service relates to a group, -1 for not at all:
// 0 when the group has it; a caller of the group's services relates by its
// call depth (it is a victim); any other service relates by its undirected
// distance to the group's roots, the services no other member explains,
// because a second fault elsewhere must not join through shared victims.
// Without a graph, or off it, everything relates by time alone.
func (c *Correlator) distance(p *pass, s string, g *group) int {
	if p.g.Empty() || !p.g.Has(s) {
		return c.cfg.MaxHops
	}
	if g.services[s] > 0 {
		return 0
	}
	best := -1
	better := func(d int) {
		if d > 0 && d <= c.cfg.MaxHops && (best < 0 || d < best) {
			best = d
		}
	}
	desc := cached(p.desc, s, func() map[string]int { return p.g.Descendants(s, p.hops) })
	known := false
	for m := range g.services {
		if p.g.Has(m) {
			known = true
			better(desc[m])
		}
	}
	if !known {
		return c.cfg.MaxHops
	}
	near := cached(p.near, s, func() map[string]int { return p.g.Near(s, p.hops) })
	for _, r := range g.rootsIn(p) {
		better(near[r])
	}
	return best
}

// related is the symmetric relation pending observations are grouped by.
func (c *Correlator) related(p *pass, a, b string) bool {
	if a == b || p.g.Empty() || !p.g.Has(a) || !p.g.Has(b) {
		return true
	}
	_, ok := cached(p.near, a, func() map[string]int { return p.g.Near(a, p.hops) })[b]
	return ok
}

// tryOpen opens an incident when o and the pending observations related to
// it are evidence enough.
func (c *Correlator) tryOpen(p *pass, o *signal.Observation) *group {
	s := rca.Service(o.Entity)
	var cand []int
	for i := range c.pending {
		q := &c.pending[i]
		if absDur(q.Time.Sub(o.Time)) <= c.cfg.Window && c.related(p, s, rca.Service(q.Entity)) {
			cand = append(cand, i)
		}
	}
	if !c.enough(func(yield func(*signal.Observation) bool) {
		for _, i := range cand {
			if !yield(&c.pending[i]) {
				return
			}
		}
	}) {
		return nil
	}
	slices.SortStableFunc(cand, func(a, b int) int {
		return onset(&c.pending[a]).Compare(onset(&c.pending[b]))
	})
	c.seq++
	g := &group{seq: c.seq, entries: map[key]*entry{}, services: map[string]int{}, inc: &signal.Incident{Status: signal.IncidentOpen}}
	taken := map[int]bool{}
	for n, i := range cand {
		q := &c.pending[i]
		if n == 0 || c.distance(p, rca.Service(q.Entity), g) >= 0 {
			g.add(q, c)
			taken[i] = true
		}
	}
	if !c.enough(func(yield func(*signal.Observation) bool) {
		for _, k := range g.order {
			if !yield(&g.entries[k].obs) {
				return
			}
		}
	}) {
		c.seq--
		return nil
	}
	// Related observations that were waiting join now.
	for i := range c.pending {
		q := &c.pending[i]
		if !taken[i] && q.Time.Sub(g.newest) <= c.cfg.Window && g.first.Sub(q.Time) <= c.cfg.Window && c.distance(p, rca.Service(q.Entity), g) >= 0 {
			g.add(q, c)
			taken[i] = true
		}
	}
	kept := c.pending[:0]
	for i, q := range c.pending {
		if !taken[i] {
			kept = append(kept, q)
		}
	}
	clear(c.pending[len(kept):])
	c.pending = kept
	g.inc.Opened = g.newest
	c.open = append(c.open, g)
	c.byInc[g.inc] = g
	c.log.Debug("incident opened", "key", g.seq, "observations", len(g.order), "entities", len(g.services))
	return g
}

// enough reports whether observations are evidence enough for an incident:
// one strong one, or MinObservations distinct ones of which one, not a log
// pattern, reaches MinScore. Changes are context, not evidence of trouble.
func (c *Correlator) enough(seq func(func(*signal.Observation) bool)) bool {
	// Distinct patterns, not distinct kinds: a log template that is both new
	// and rare, or a series that is anomalous and forecast, is one piece of
	// evidence and must not corroborate itself.
	//
	// Logs corroborate but do not accuse: healthy services log new and rare
	// lines every hour, so unless one observation is strong, at least one
	// metric, trace or alarm observation must reach MinScore.
	type pattern struct {
		entity string
		source signal.Source
		name   string
	}
	distinct := map[pattern]bool{}
	top, topNonLog := 0.0, 0.0
	for o := range seq {
		if o.Kind == signal.Change {
			continue
		}
		distinct[pattern{o.Entity, o.Kind.Source(), o.Name}] = true
		top = max(top, o.Score)
		if o.Kind.Source() != signal.SourceLog {
			topNonLog = max(topNonLog, o.Score)
		}
	}
	if top >= c.cfg.StrongScore {
		return true
	}
	return topNonLog >= c.cfg.MinScore && len(distinct) >= c.cfg.MinObservations
}

func (c *Correlator) reopen(g *group, o *signal.Observation) {
	i := slices.Index(c.resolved, g)
	c.resolved = slices.Delete(c.resolved, i, i+1)
	c.open = append(c.open, g)
	slices.SortFunc(c.open, byseq)
	g.inc.Status = signal.IncidentOpen
	g.inc.Resolved = time.Time{}
	c.log.Debug("incident reopened", "key", g.seq, "id", g.inc.ID, "by", o.String())
}

func (c *Correlator) prunePending(before time.Time) {
	c.pending = slices.DeleteFunc(c.pending, func(q signal.Observation) bool { return q.Time.Before(before) })
	if over := len(c.pending) - c.cfg.MaxPending; over > 0 {
		c.dropped += over
		c.pending = slices.Delete(c.pending, 0, over)
	}
}

// hasSymptom reports whether the group holds o's symptom (its kind and name
// on its entity) about as strong (returnRatio of o's score): a faint
// blip that happened to join an incident is not the problem that comes
// back as a full-blown fault minutes later.
func (g *group) hasSymptom(o *signal.Observation) bool {
	for k, e := range g.entries {
		if k.entity == o.Entity && k.kind == o.Kind && k.name == o.Name && e.obs.Score >= returnRatio*o.Score {
			return true
		}
	}
	return false
}

// returnRatio is how strong, relative to a returning symptom, the symptom
// an incident held must have been for the incident to reopen on it.
const returnRatio = 0.75

// add merges the observation into the group: a repeat updates its entry.
func (g *group) add(o *signal.Observation, c *Correlator) {
	if g.first.IsZero() || o.Time.Before(g.first) {
		g.first = o.Time
	}
	if o.Time.After(g.newest) {
		g.newest = o.Time
	}
	if at, ok := Due(o); ok && o.Score >= c.cfg.StrongScore {
		// Only an urgent forecast (one that pages on its own) holds the
		// incident open: a faint trend due in half an hour must not glue
		// whatever comes meanwhile to it.
		svc := rca.Service(o.Entity)
		if at.After(g.due[svc]) {
			if g.due == nil {
				g.due = make(map[string]time.Time)
			}
			g.due[svc] = at
		}
	}
	// Any metric, trace or alarm observation, strong or not, says the
	// trouble goes on: a detector re-raises a lasting anomaly at a lower
	// score as it adapts.
	if o.Kind != signal.Change && o.Kind.Source() != signal.SourceLog {
		if g.lastActive.IsZero() || o.Time.Sub(g.lastActive) > c.cfg.Window {
			g.burst = o.Time
		}
		if o.Time.After(g.lastActive) {
			g.lastActive = o.Time
		}
	}
	k := keyOf(o)
	if e := g.entries[k]; e != nil {
		e.count++
		st := onset(&e.obs)
		if onset(o).Before(st) || e.obs.Time.Before(g.burst) {
			// A symptom last raised before the current burst of trouble
			// began is dated by its return: a blip minutes before a fault
			// is not when the fault's symptom began.
			st = onset(o)
		}
		last := e.obs.Time
		if o.Score >= e.obs.Score {
			e.obs = *o
			e.obs.ID = e.id
		}
		e.obs.Start = st
		if last.After(e.obs.Time) {
			e.obs.Time = last
		}
		return
	}
	if len(g.order) >= c.cfg.MaxObservations {
		g.overflow++
		c.dropped++
		return
	}
	g.entries[k] = &entry{obs: *o, count: 1, id: o.ID}
	g.order = append(g.order, k)
	g.services[rca.Service(o.Entity)]++
	g.rootsOf = nil
}

// Due is when a forecast observation expects its resource to reach the
// limit (its Time plus the ETA in its evidence); false for any other
// observation or a forecast without a valid ETA.
func Due(o *signal.Observation) (time.Time, bool) {
	if o.Kind != signal.MetricForecast {
		return time.Time{}, false
	}
	eta, err := time.ParseDuration(o.Evidence["eta"])
	if err != nil || eta <= 0 {
		return time.Time{}, false
	}
	return o.Time.Add(eta), true
}

// awaits tells whether svc was forecast to reach a limit by at (give or
// take window): its symptoms then are the forecast coming true.
func (g *group) awaits(svc string, at time.Time, window time.Duration) bool {
	due, ok := g.due[svc]
	return ok && !at.After(due.Add(window))
}

// pending tells whether a forecast limit of the group is still to come.
func (g *group) pending(now time.Time) bool {
	for _, due := range g.due {
		if now.Before(due) {
			return true
		}
	}
	return false
}

// rootsIn are the group's services on the graph that call no other service
// of the group, directly or not: where its trouble may have begun.
func (g *group) rootsIn(p *pass) []string {
	if g.rootsOf == p {
		return g.roots
	}
	g.roots = g.roots[:0]
	for _, s := range slices.Sorted(maps.Keys(g.services)) {
		if !p.g.Has(s) {
			continue
		}
		all := cached(p.all, s, func() map[string]int { return p.g.Descendants(s, 0) })
		root := true
		for m := range g.services {
			if _, ok := all[m]; ok {
				root = false
				break
			}
		}
		if root {
			g.roots = append(g.roots, s)
		}
	}
	g.rootsOf = p
	return g.roots
}

// refresh writes the group's state into its incident.
func (g *group) refresh() {
	in := g.inc
	in.Onset = time.Time{}
	ents := map[string]bool{}
	in.ObservationIDs = in.ObservationIDs[:0]
	for _, k := range g.order {
		e := g.entries[k]
		if st := onset(&e.obs); in.Onset.IsZero() || st.Before(in.Onset) {
			in.Onset = st
		}
		ents[e.obs.Entity] = true
		if e.id != 0 {
			in.ObservationIDs = append(in.ObservationIDs, e.id)
		}
	}
	in.Entities = slices.Sorted(maps.Keys(ents))
	in.Updated = g.newest
	in.Title = Title(in.Entities)
}

// Title is the plain title of an incident nothing better is known of.
func Title(entities []string) string {
	switch len(entities) {
	case 0:
		return "anomalous"
	case 1:
		return entities[0] + " anomalous"
	}
	return fmt.Sprintf("%s and %d more anomalous", entities[0], len(entities)-1)
}

func keyOf(o *signal.Observation) key { return key{o.Entity, o.Kind, o.Name} }

func byseq(a, b *group) int { return cmp.Compare(a.seq, b.seq) }

// onset is when the observation's pattern began, its Time when not told.
func onset(o *signal.Observation) time.Time {
	if o.Start.IsZero() {
		return o.Time
	}
	return o.Start
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
