package rca

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/seerops/seer/internal/semconv"
	"github.com/seerops/seer/internal/signal"
)

// Input is what one ranking reads: the incident's observations, the call
// graph and the change and alarm events around it.
type Input struct {
	Observations []signal.Observation
	Topology     signal.Topology
	Events       []signal.Event
	// Shifts are robust change scores of the entities' metrics around
	// Onset (see ShiftOf); entities that only shifted become suspects too.
	Shifts []Shift
	// Onset is the incident's onset; zero means the earliest observation's.
	Onset time.Time
	// Table says what each series measures (nil: the built-in table).
	Table *semconv.Table
}

// suspect is one entity and everything the input says about it.
type suspect struct {
	name   string
	clues  []clue // roleFault and roleNamed
	onset  time.Time
	peak   time.Time // when its strongest clue began
	fault  bool      // has a symptom of its own or is blamed by a victim's log
	byKind map[string]float64
	own    float64

	loadUp    float64 // strongest request-rate rise
	loadOnset time.Time
	loadEntry bool     // the surge entered here and downstream faults followed it
	loadDown  []string // services whose faults the surge explains

	victimOf  string // the callee that best explains this one
	victimBy  float64
	victimGap time.Duration
	explains  []string // anomalous callers this one explains
	change    *signal.Event
	changeTo  time.Time // the onset, or the worst symptoms, the change came before
	score     float64
	kind      string
}

// Rank scores every entity the observations name as the incident's root
// cause and returns the best cfg.TopK, highest first, ties by name.
func Rank(in Input, cfg Config) []signal.Cause {
	cfg = cfg.withDefaults()
	table := cmp.Or(in.Table, semconv.Default)
	g := NewGraph(in.Topology)
	names := make(map[string]string)
	for _, s := range g.Services() {
		names[strings.ToLower(s)] = s
	}
	for i := range in.Observations {
		s := Service(in.Observations[i].Entity)
		names[strings.ToLower(s)] = s
	}

	// A fixed order makes floating sums and ties the same on every run.
	obs := make([]*signal.Observation, len(in.Observations))
	for i := range in.Observations {
		obs[i] = &in.Observations[i]
	}
	slices.SortFunc(obs, func(a, b *signal.Observation) int {
		return cmp.Or(start(a).Compare(start(b)), a.Time.Compare(b.Time),
			cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})

	sus := make(map[string]*suspect)
	get := func(name string) *suspect {
		s := sus[name]
		if s == nil {
			s = &suspect{name: name, byKind: make(map[string]float64)}
			sus[name] = s
		}
		return s
	}
	// telemetry are the entities that report metrics or logs of their
	// own: an external dependency reports nothing, and only its callers
	// can speak of it (its trace observations come from its callers'
	// client spans, or spans an API gateway writes for it).
	telemetry := make(map[string]bool)
	for _, sh := range in.Shifts {
		telemetry[Service(sh.Entity)] = true
	}
	var changes []signal.Event
	for _, o := range obs {
		if o.Kind != signal.Change && o.Kind.Source() != signal.SourceTrace {
			telemetry[Service(o.Entity)] = true
		}
		if o.Kind == signal.Change {
			changes = append(changes, signal.Event{Time: start(o), Entity: o.Entity, Kind: signal.EventKind(o.Name), Text: o.Summary})
			continue
		}
		for _, c := range classify(o, names, table) {
			s := get(c.entity)
			if c.role == roleTraffic {
				if c.kind == KindLoad {
					if st := c.strength(); st > s.loadUp {
						s.loadUp = st
					}
					if s.loadOnset.IsZero() || start(o).Before(s.loadOnset) {
						s.loadOnset = start(o)
					}
				} else {
					s.byKind[c.kind] = max(s.byKind[c.kind], c.strength())
				}
				continue
			}
			s.clues = append(s.clues, c)
		}
	}
	onset := in.Onset
	if onset.IsZero() && len(obs) > 0 {
		onset = start(obs[0])
	}
	for _, c := range shiftClues(in.Shifts, cfg.ShiftFloor, onset, table) {
		s := get(c.entity)
		if c.role == roleTraffic {
			if c.kind == KindLoad {
				s.loadUp = max(s.loadUp, c.strength())
				if s.loadOnset.IsZero() || start(c.obs).Before(s.loadOnset) {
					s.loadOnset = start(c.obs)
				}
			} else {
				s.byKind[c.kind] = max(s.byKind[c.kind], c.strength())
			}
			continue
		}
		s.clues = append(s.clues, c)
	}
	for _, e := range in.Events {
		if isChange(e.Kind) {
			changes = append(changes, e)
		}
	}
	list := make([]*suspect, 0, len(sus))
	for _, s := range sus {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b *suspect) int { return cmp.Compare(a.name, b.name) })

	if len(obs) > 0 {
		last := obs[0].Time
		for _, o := range obs {
			if o.Time.After(last) {
				last = o.Time
			}
		}
		alarms(sus, in.Events, start(obs[0]).Add(-5*time.Minute), last.Add(5*time.Minute))
	}
	first := time.Time{}
	faults := 0
	for _, s := range list {
		s.summarise(onset.Add(-cfg.Slack))
		s.combine()
		if s.fault {
			faults++
			if first.IsZero() || s.onset.Before(first) {
				first = s.onset
			}
		}
	}
	opaque(g, sus, list, telemetry)
	loads(g, sus, list, cfg)
	victims(g, sus, list, cfg)
	hosts(list)

	for _, s := range list {
		s.change, s.changeTo = lastChange(changes, s, first, cfg)
		s.kind = s.pickKind()
		own := s.own
		if s.change != nil {
			prox := 1 - 0.5*float64(s.changeTo.Sub(s.change.Time))/float64(cfg.ChangeWindow)
			own = 1 - (1-own)*(1-0.5*clamp01(prox))
		}
		victim := 1 - (1-cfg.VictimFactor)*s.victimBy
		timing := 0.7
		if s.fault {
			timing += 0.3 * math.Exp(-float64(s.onset.Sub(first))/float64(cfg.OnsetScale))
		}
		coverage := 1.0
		if faults > 0 {
			coverage = 0.8 + 0.2*float64(1+len(s.explains))/float64(faults)
		}
		if !s.fault && !s.loadEntry {
			own *= 0.5
		}
		s.score = clamp01(own * victim * timing * min(coverage, 1))
	}
	slices.SortFunc(list, func(a, b *suspect) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.name, b.name))
	})
	out := make([]signal.Cause, 0, min(cfg.TopK, len(list)))
	for _, s := range list {
		if len(out) == cfg.TopK || s.score <= 0 {
			break
		}
		out = append(out, signal.Cause{Entity: s.name, Kind: s.kind, Score: s.score, Evidence: s.evidence(sus, first)})
	}
	return out
}

// summarise derives the onset and the strength of each kind of evidence
// from the clues. trouble is when the incident's trouble began.
func (s *suspect) summarise(trouble time.Time) {
	named := make(map[string]float64)
	// The peak is when the strongest clue began (a forecast dates a trend,
	// not trouble, so it has none).
	strongest, peak := 0.0, 0.0
	for _, c := range s.clues {
		if c.role == roleNamed {
			continue
		}
		st := c.strength()
		strongest = max(strongest, st)
		if c.obs.Kind != signal.MetricForecast && st > peak {
			peak, s.peak = st, start(c.obs)
		}
	}
	for _, c := range s.clues {
		st := c.strength()
		if c.role == roleNamed {
			named[c.via] = max(named[c.via], st)
			continue
		}
		if st > 0 {
			s.fault = true
			// The onset is that of the significant clues (at least half the
			// strongest): a faint blip minutes before the fault is noise,
			// not its start. Once the trouble has begun, a clue need only
			// not be faint: the strongest evidence (a sparse error ratio
			// convicted late) may come minutes after the first. (Logs, whose
			// counts are dated by the start of their window, are held to
			// the stricter bar.) A forecast
			// dates the trend it fitted, not the fault, so it gives the
			// onset only when nothing else does.
			floor := 0.5 * strongest
			if !start(c.obs).Before(trouble) && c.obs.Kind.Source() != signal.SourceLog {
				floor = 0.25 * strongest
			}
			if st >= floor && c.obs.Kind != signal.MetricForecast && (s.onset.IsZero() || start(c.obs).Before(s.onset)) {
				s.onset = start(c.obs)
			}
		}
		s.byKind[c.kind] = max(s.byKind[c.kind], st)
	}
	if s.onset.IsZero() {
		// Only faint clues or forecasts: the earliest of them.
		for _, c := range s.clues {
			if c.role != roleNamed && c.strength() > 0 && (s.onset.IsZero() || start(c.obs).Before(s.onset)) {
				s.onset = start(c.obs)
			}
		}
	}
	if len(named) > 0 {
		// A service that only victims talk about (it crashed and went
		// silent) takes its onset from their complaints.
		for _, c := range s.clues {
			if c.role == roleNamed {
				if !s.fault && (s.onset.IsZero() || start(c.obs).Before(s.onset)) {
					s.onset = start(c.obs)
				}
			}
		}
		keep := 1.0
		for _, v := range sortedKeys(named) {
			keep *= 1 - named[v]
		}
		s.byKind["named"] = min(1-keep, 0.6)
		s.fault = true
	}
}

func (s *suspect) onsetOr(t time.Time) time.Time {
	if s.onset.IsZero() {
		return t
	}
	return s.onset
}

// alarms credits an alarm raised around the incident to its entity, when
// that entity is already a suspect: an alarm alone does not make one.
func alarms(sus map[string]*suspect, events []signal.Event, from, to time.Time) {
	for _, e := range events {
		s := sus[Service(e.Entity)]
		if e.Kind != signal.EventAlarm || s == nil || e.Time.Before(from) || e.Time.After(to) {
			continue
		}
		s.byKind["alarm"] = 0.3
	}
}

// combine is the suspect's own score: the strongest clue of each kind
// counts, and kinds combine as independent evidence (noisy-or), so that many
// symptoms of one kind (p50, p95, p99) do not outweigh one localised clue.
func (s *suspect) combine() {
	keep := 1.0
	for _, k := range sortedKeys(s.byKind) {
		keep *= 1 - s.byKind[k]
	}
	s.own = 1 - keep
}

// opaque gives a dependency that reports no telemetry of its own (an
// external API, a managed service) the symptoms its callers show in calling
// it: when a caller's logs name it in failed calls, the caller's latency
// and errors are the dependency's as seen from the client side, and the
// caller is then explained as its victim. Without a caller naming it, an
// opaque callee stays unblamed: a failing service that happens to call an
// external must not hand its own fault to it.
func opaque(g *Graph, sus map[string]*suspect, list []*suspect, telemetry map[string]bool) {
	for _, x := range list {
		if telemetry[x.name] || !g.Has(x.name) {
			continue
		}
		namedBy := map[string]bool{}
		for _, c := range x.clues {
			if c.role == roleNamed {
				namedBy[c.via] = true
			}
		}
		for _, name := range g.callers[x.name] {
			s := sus[name]
			if s == nil || !namedBy[name] || !s.fault {
				continue
			}
			moved := false
			for _, k := range []string{KindLatency, KindErrors} {
				if s.byKind[k] > x.byKind[k] {
					x.byKind[k] = s.byKind[k]
					moved = true
				}
			}
			if moved && (x.onset.IsZero() || s.onset.Before(x.onset)) {
				x.onset = s.onset
			}
		}
		x.combine()
	}
}

// loads finds where a traffic surge entered (a request-rate rise no caller
// had before it) and discounts the faults downstream that followed it.
func loads(g *Graph, sus map[string]*suspect, list []*suspect, cfg Config) {
	for _, s := range list {
		if s.loadUp < 0.25 {
			continue
		}
		entry := true
		for a := range g.Ancestors(s.name, 0) {
			if p := sus[a]; p != nil && p.loadUp > 0 && !p.loadOnset.After(s.loadOnset.Add(cfg.Slack)) {
				entry = false
				break
			}
		}
		// Callers retry a crashed or unreachable callee: a rate rise that
		// came with (or after) an outage below is the retries, not a surge.
		// So is a rise that errors at or below it had begun before: a
		// surge's own errors come with it or after it.
		// (Errors that are the failing entity's main trouble: a service
		// saturated by a surge fails some requests too, but is mostly slow.)
		retried := func(p *suspect) bool {
			at, e := p.onsetOr(s.loadOnset), p.byKind[KindErrors]
			return p.byKind[KindUnavailable] >= 0.5 && !at.After(s.loadOnset.Add(cfg.Slack)) ||
				e >= 0.5 && e >= p.byKind[KindSaturation] && e >= p.byKind[KindLatency] && at.Before(s.loadOnset)
		}
		for d := range g.Descendants(s.name, 0) {
			if p := sus[d]; p != nil && retried(p) {
				entry = false
				break
			}
		}
		if retried(s) || s.retriedBy(g.callers[s.name], s.loadOnset.Add(cfg.Slack)) {
			entry = false
		}
		if !entry {
			continue
		}
		// A surge explains the faults that began with it or soon after,
		// and whose worst came soon after too: a backend that slowed a
		// little with the surge and failed minutes later failed on its own.
		follows := func(p *suspect) bool {
			return p.fault && !p.onset.Before(s.loadOnset.Add(-cfg.Slack)) && !p.onset.After(s.loadOnset.Add(cfg.LoadLag)) &&
				!p.peak.After(s.loadOnset.Add(cfg.LoadLag))
		}
		down := []string{}
		if follows(s) {
			down = append(down, s.name)
		}
		for _, d := range sortedKeys(g.Descendants(s.name, 0)) {
			if p := sus[d]; p != nil && follows(p) {
				down = append(down, d)
			}
		}
		if len(down) == 0 {
			continue
		}
		s.loadEntry = true
		s.loadDown = down
		s.byKind[KindLoad] = min(1, s.loadUp*1.8)
		s.combine()
		for _, d := range down {
			if p := sus[d]; p != s {
				if by := min(1, s.own/math.Max(p.own, 1e-9)); by > p.victimBy {
					p.victimOf, p.victimBy, p.victimGap = s.name, by, p.onset.Sub(s.loadOnset)
				}
			}
		}
	}
}

// victims discounts every entity whose anomalies a callee's earlier (or
// simultaneous) anomalies explain, and records whom each entity explains.
func victims(g *Graph, sus map[string]*suspect, list []*suspect, cfg Config) {
	for _, s := range list {
		if !s.fault {
			continue
		}
		for _, d := range sortedKeys(g.Descendants(s.name, 0)) {
			p := sus[d]
			if p == nil || !p.fault || p.own < 0.15 {
				continue
			}
			// A callee whose own symptoms were convicted later still
			// explains a caller that logged failed calls naming it from
			// the start (however late its own conviction): a sparse
			// dependency (an external API called a few times a minute)
			// shows in its callers' errors long before its own telemetry
			// has enough calls to judge.
			if p.onset.After(s.onset.Add(cfg.Slack)) && !p.retriedBy([]string{s.name}, s.onset.Add(cfg.LoadLag)) {
				continue
			}
			// Trouble spreads to callers within a minute or two: a callee
			// that has been anomalous for far longer, and at its worst
			// long before, did not cause what its caller just began.
			if from := s.onset.Add(-cfg.Propagation); p.onset.Before(from) && p.peak.Before(from) {
				continue
			}
			if p.victimOf != "" && sus[p.victimOf].loadEntry && p.victimOf == s.name {
				continue // the callee slowed under this one's surge
			}
			p.explains = append(p.explains, s.name)
			by := min(1, p.own/math.Max(s.own, 1e-9))
			if k, v := s.local(resourceKinds...); v >= 0.6 && (k != KindNetwork || p.byKind[k] < 0.5*v) {
				// Its own resource trouble is not the callee's doing: a
				// disk or memory is its own even when the callee's fills
				// too. Retransmits are the callee's when it retransmits
				// too: both ends of a lossy link see them.
				by *= 1 - v
			}
			if by > s.victimBy {
				s.victimOf, s.victimBy, s.victimGap = d, by, s.onset.Sub(p.onset)
			}
		}
	}
}

// retriedBy tells whether one of callers logged failed calls naming the
// suspect by the time at: they were retrying it.
func (s *suspect) retriedBy(callers []string, at time.Time) bool {
	for _, c := range s.clues {
		if c.role == roleNamed && slices.Contains(callers, c.via) && !start(c.obs).After(at) {
			return true
		}
	}
	return false
}

// resourceKinds are the kinds of evidence that stay where the fault is: a
// caller waiting on a slow callee does not fill its own disk or burn its own
// CPU, so a callee's trouble does not explain them.
// Saturation is left out: a caller's CPU and connection pool do rise while
// it retries and waits on a failing callee.
var resourceKinds = []string{KindDisk, KindMemory, KindNetwork}

// local is the suspect's strongest evidence of the given kinds and its kind.
func (s *suspect) local(kinds ...string) (string, float64) {
	best, v := "", 0.0
	for _, k := range kinds {
		if s.byKind[k] > v {
			best, v = k, s.byKind[k]
		}
	}
	return best, v
}

// hosts discounts a host whose resource anomaly a service shows too: a
// service's disk filling or CPU saturating shows on the hosts its replicas
// run on, and the service is the more specific cause. A host whose trouble
// no service shares keeps its score: then the host is the cause.
func hosts(list []*suspect) {
	for _, h := range list {
		if !strings.HasPrefix(h.name, "host:") {
			continue
		}
		kind, v := h.local(KindDisk, KindMemory, KindSaturation)
		if v == 0 {
			continue
		}
		for _, s := range list {
			if strings.HasPrefix(s.name, "host:") || s.byKind[kind] < 0.5*v {
				continue
			}
			if by := min(1, s.byKind[kind]/v); by > h.victimBy {
				h.victimOf, h.victimBy, h.victimGap = s.name, by, h.onsetOr(s.onset).Sub(s.onset)
			}
		}
	}
}

func isChange(k signal.EventKind) bool {
	switch k {
	case signal.EventDeploy, signal.EventConfig, signal.EventUpgrade, signal.EventRollback, signal.EventScale:
		return true
	}
	return false
}

// lastChange is the change to the suspect nearest before its onset.
// Failing that, the change made after the onset shortly before the
// suspect's worst symptoms began: a deploy that broke a service already
// slowed by something else. It returns the change and the time it came
// before.
func lastChange(changes []signal.Event, s *suspect, first time.Time, cfg Config) (*signal.Event, time.Time) {
	onset := s.onsetOr(first)
	if onset.IsZero() {
		return nil, time.Time{}
	}
	find := func(from, to time.Time) *signal.Event {
		var best *signal.Event
		for i := range changes {
			e := &changes[i]
			if Service(e.Entity) != s.name || e.Time.After(to) || e.Time.Before(from) {
				continue
			}
			if best == nil || e.Time.After(best.Time) {
				best = e
			}
		}
		return best
	}
	if e := find(onset.Add(-cfg.ChangeWindow), onset.Add(cfg.Slack)); e != nil {
		return e, onset
	}
	if s.peak.After(onset.Add(cfg.Slack)) {
		from := s.peak.Add(-cfg.LoadLag)
		if from.Before(onset.Add(cfg.Slack)) {
			from = onset.Add(cfg.Slack + 1)
		}
		if e := find(from, s.peak.Add(cfg.Slack)); e != nil {
			return e, s.peak
		}
	}
	return nil, time.Time{}
}

// pickKind names the fault from the suspect's own evidence: an outage beats
// a surge, a surge beats a resource, a resource beats the latency or errors
// it causes; a change just before the onset beats them all.
func (s *suspect) pickKind() string {
	k := s.byKind
	switch {
	case s.change != nil:
		return KindChange
	case k[KindUnavailable] >= 0.5:
		return KindUnavailable
	case s.loadEntry:
		return KindLoad
	}
	best, bestScore := "", 0.39
	for _, kind := range []string{KindMemory, KindDisk, KindNetwork, KindSaturation} {
		if k[kind] > bestScore {
			best, bestScore = kind, k[kind]
		}
	}
	if best != "" {
		return best
	}
	best, bestScore = "", 0
	for _, kind := range []string{KindLatency, KindErrors, KindUnavailable, KindMemory, KindDisk, KindSaturation, "named"} {
		if k[kind] > bestScore {
			best, bestScore = kind, k[kind]
		}
	}
	if best == "named" {
		// Only victims speak of it: their complaint says what kind.
		for _, c := range s.clues {
			if c.role == roleNamed {
				return c.kind
			}
		}
	}
	return best
}

func start(o *signal.Observation) time.Time {
	if o.Start.IsZero() || o.Start.After(o.Time) && !o.Time.IsZero() {
		return o.Time
	}
	return o.Start
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// evidence is the chain of reasoning for one suspect, in sentences that
// name the facts an operator can check.
func (s *suspect) evidence(sus map[string]*suspect, first time.Time) []string {
	var out []string
	own := make([]clue, 0, len(s.clues))
	for _, c := range s.clues {
		if c.role == roleFault && c.strength() > 0 {
			own = append(own, c)
		}
	}
	slices.SortStableFunc(own, func(a, b clue) int { return cmp.Compare(b.strength(), a.strength()) })
	seen := make(map[string]bool)
	for _, c := range own {
		key := string(c.obs.Kind) + "/" + c.obs.Name
		if seen[key] || len(seen) == 3 {
			continue
		}
		seen[key] = true
		out = append(out, fmt.Sprintf("%s: %s [%s], first at %s", c.obs.Entity, describe(c.obs), c.obs.Kind, clock(start(c.obs))))
	}
	if s.loadEntry {
		out = append(out, fmt.Sprintf("request rate into %s rose at %s, before %s slowed or failed: traffic surge",
			s.name, clock(s.loadOnset), list(s.loadDown, s.name)))
	}
	var blamers []string
	var quote string
	for _, c := range s.clues {
		if c.role == roleNamed && !slices.Contains(blamers, c.via) {
			blamers = append(blamers, c.via)
			if quote == "" {
				quote = c.obs.Summary
			}
		}
	}
	if len(blamers) > 0 {
		slices.Sort(blamers)
		line := fmt.Sprintf("%s log failed calls naming %s", list(blamers, ""), s.name)
		if quote != "" {
			line += fmt.Sprintf(": %q", cut(quote, 80))
		}
		out = append(out, line)
	}
	if s.fault && !first.IsZero() {
		if gap := s.onset.Sub(first); gap <= 0 {
			out = append(out, fmt.Sprintf("%s's anomalies began first, at %s", s.name, clock(s.onset)))
		} else {
			out = append(out, fmt.Sprintf("%s's anomalies began at %s, %s after the incident's first", s.name, clock(s.onset), gap))
		}
	}
	if len(s.explains) > 0 {
		slices.SortFunc(s.explains, func(a, b string) int {
			return cmp.Or(sus[a].onset.Compare(sus[b].onset), cmp.Compare(a, b))
		})
		lo := sus[s.explains[0]].onset.Sub(s.onset)
		hi := sus[s.explains[len(s.explains)-1]].onset.Sub(s.onset)
		when := fmt.Sprintf("%s later", lo)
		if hi != lo {
			when = fmt.Sprintf("%s to %s later", lo, hi)
		}
		verb := map[string]string{KindLatency: "slowed", KindErrors: "failed", KindUnavailable: "failed"}[s.kind]
		if verb == "" {
			verb = "turned anomalous"
		}
		out = append(out, fmt.Sprintf("%s %s %s and depend on %s: victims", list(s.explains, ""), verb, when, s.name))
	}
	if s.victimOf != "" {
		rel := "depends on"
		if sus[s.victimOf].loadEntry {
			rel = "is called by"
		}
		out = append(out, fmt.Sprintf("%s %s %s, anomalous %s before it: likely a victim", s.name, rel, s.victimOf, s.victimGap))
	}
	if s.change != nil {
		what := "its onset"
		if !s.changeTo.Equal(s.onsetOr(first)) {
			what = "its worst symptoms"
		}
		line := fmt.Sprintf("%s on %s at %s, %s before %s", s.change.Kind, s.change.Entity, clock(s.change.Time), s.changeTo.Sub(s.change.Time), what)
		if s.change.Text != "" {
			line += ": " + cut(s.change.Text, 80)
		}
		out = append(out, line)
	} else {
		out = append(out, "no change event on "+s.name)
	}
	return out
}

// describe is what an observation saw, its own summary when it has one.
func describe(o *signal.Observation) string {
	if o.Summary != "" {
		return o.Summary
	}
	what := o.Name
	if o.Kind == signal.TraceLatency {
		what = "own latency"
		if o.Name != "" {
			what += " of " + o.Name
		}
		return fmt.Sprintf("%s %.4g vs expected %.4g (trace self time)", what, o.Actual, o.Expected)
	}
	if o.Actual == 0 && o.Expected == 0 {
		return fmt.Sprintf("%s %s", what, o.Direction())
	}
	return fmt.Sprintf("%s %s: %.4g vs expected %.4g", what, o.Direction(), o.Actual, o.Expected)
}

// list writes names as "a, b, c (+2 more)", leaving out skip.
func list(names []string, skip string) string {
	var kept []string
	for _, n := range names {
		if n != skip {
			kept = append(kept, n)
		}
	}
	if len(kept) == 0 {
		return skip
	}
	if len(kept) > 4 {
		return fmt.Sprintf("%s (+%d more)", strings.Join(kept[:4], ", "), len(kept)-4)
	}
	return strings.Join(kept, ", ")
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func clock(t time.Time) string { return t.UTC().Format(time.TimeOnly) }
