package rca

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/seerops/seer/internal/semconv"
	"github.com/seerops/seer/internal/signal"
)

// InvestigateConfig tunes an investigation: the windows it compares and the
// few weights with which it fuses the kinds of evidence.
type InvestigateConfig struct {
	// Lookback is how far before the investigated time the baseline
	// reaches; whatever history exists within it is used.
	Lookback time.Duration `yaml:"lookback"`
	// Lead is how long before the investigated time trouble may already
	// have begun (an alert fires after its symptom): the window after is
	// [at-Lead, at+Horizon], the baseline ends at at-Lead.
	Lead time.Duration `yaml:"lead"`
	// Horizon is how far after the investigated time the signals are read.
	Horizon time.Duration `yaml:"horizon"`
	// Floor is the robust change score (in robust standard deviations)
	// below which a change is noise.
	Floor float64 `yaml:"floor"`
	// SpreadWeight is how much symptoms that spread along the call graph
	// (latency, errors, traffic) count against local ones (resources, self
	// time, the gap in front of a callee, errors that begin there).
	SpreadWeight float64 `yaml:"spread_weight"`
	// ChangeWeight is how much a deploy or config change of a troubled
	// entity within the window counts.
	ChangeWeight float64 `yaml:"change_weight"`
}

// DefaultInvestigateConfig is the configuration used for zero fields.
func DefaultInvestigateConfig() InvestigateConfig {
	return InvestigateConfig{Lookback: 30 * time.Minute, Lead: 30 * time.Second, Horizon: 5 * time.Minute, Floor: 3, SpreadWeight: 0.6, ChangeWeight: 0.3}
}

// WithDefaults fills zero fields from DefaultInvestigateConfig.
func (c InvestigateConfig) WithDefaults() InvestigateConfig {
	d := DefaultInvestigateConfig()
	c.Lookback = cmp.Or(c.Lookback, d.Lookback)
	c.Lead = cmp.Or(c.Lead, d.Lead)
	c.Horizon = cmp.Or(c.Horizon, d.Horizon)
	c.Floor = cmp.Or(c.Floor, d.Floor)
	c.SpreadWeight = cmp.Or(c.SpreadWeight, d.SpreadWeight)
	c.ChangeWeight = cmp.Or(c.ChangeWeight, d.ChangeWeight)
	return c
}

// Validate reports every field out of range.
func (c InvestigateConfig) Validate() error {
	var errs []error
	if c.Lookback < 0 || c.Lead < 0 || c.Horizon < 0 {
		errs = append(errs, fmt.Errorf("investigate: lookback, lead and horizon must not be negative"))
	}
	for name, w := range map[string]float64{"spread_weight": c.SpreadWeight, "change_weight": c.ChangeWeight} {
		if w < 0 || w > 1 {
			errs = append(errs, fmt.Errorf("investigate.%s must be in [0,1], got %g", name, w))
		}
	}
	if c.Floor < 0 {
		errs = append(errs, fmt.Errorf("investigate.floor must not be negative, got %g", c.Floor))
	}
	return errors.Join(errs...)
}

// SeriesData is one series' recent points, for an investigation.
type SeriesData struct {
	Entity string
	Name   string
	Labels map[string]string
	Points []Point
}

// Investigation is what an investigation reads.
type Investigation struct {
	// At is the time asked about (an alert's, an operator's).
	At       time.Time
	Series   []SeriesData
	Events   []signal.Event
	Topology signal.Topology
	// Focus, when set, keeps the suspects to that entity's service and
	// what it depends on.
	Focus string
	// FocusMetric, when set, is the metric the trouble was seen in (an
	// alert's): the causes are looked for in series of the same family
	// (latency, errors, traffic, resources), as the symptom spreads along
	// the call path in its own kind.
	FocusMetric string
	// Table reads the series' names (nil: the built-in one).
	Table *semconv.Table
}

// Fact kinds.
const (
	FactChange = "change" // a series changed in its bad direction
	FactCanary = "canary" // new instances differ from the old ones of the same service
	FactDeploy = "deploy" // a change event of the suspect within the window
	FactVictim = "victim" // the suspect's spreading symptoms are explained by a dependency
)

// finding is one scored series about one suspect.
type finding struct {
	fact  signal.Fact
	local bool
}

// Investigate ranks the causes of trouble around in.At: every series is
// scored by a robust change score of the window after against the baseline
// before (in the direction the semantics table calls bad), the scores are
// gathered per suspect (service or host; a client-side series of calls to a
// peer speaks of the peer), and fused: local evidence (resources, self time,
// the gap in front of a callee, errors that begin there, new instances that
// differ from old ones) counts fully, symptoms that spread along the call
// graph count by SpreadWeight and only as far as no dependency of the
// suspect (a callee, transitively, or the host it runs on) shows trouble as
// strong, and a change of the suspect within the window adds ChangeWeight.
func Investigate(in Investigation, cfg InvestigateConfig) []signal.Cause {
	cfg = cfg.WithDefaults()
	table := in.Table
	if table == nil {
		table = semconv.Default
	}
	from, cut, to := in.At.Add(-cfg.Lookback), in.At.Add(-cfg.Lead), in.At.Add(cfg.Horizon)
	byEntity := map[string][]finding{}
	hostOf := map[string][]string{} // service → hosts
	instHost := map[string]string{} // "svc/instance" → host
	for _, p := range in.Topology.Placements {
		if p.Host == "" {
			continue
		}
		if !slices.Contains(hostOf[p.Service], p.Host) {
			hostOf[p.Service] = append(hostOf[p.Service], p.Host)
		}
		if p.Instance != "" {
			instHost[p.Service+"/"+p.Instance] = p.Host
		}
	}
	residents := map[string][]string{} // host → services on it
	for svc, hs := range hostOf {
		for _, h := range hs {
			residents[h] = append(residents[h], svc)
		}
	}
	family := ""
	if in.FocusMetric != "" {
		family = table.Of(in.FocusMetric, nil).Quantity.Family()
	}
	for i := range in.Series {
		sd := &in.Series[i]
		m := table.Of(sd.Name, sd.Labels)
		if family != "" && family != "other" && m.Quantity.Family() != family && !m.Quantity.Local() {
			continue
		}
		suspect := Service(sd.Entity)
		switch {
		case m.Peer != "":
			suspect = Service(m.Peer)
		case m.Host && !strings.HasPrefix(sd.Entity, "host:"):
			// The host's trouble is the host's: an instance's node
			// metrics speak of the host it runs on (named by the
			// placement, or else the instance's own unnamed host).
			suspect = cmp.Or(instHost[sd.Entity], first(hostOf[Service(sd.Entity)]), "host:"+sd.Entity)
			if svc := Service(sd.Entity); !slices.Contains(residents[suspect], svc) {
				residents[suspect] = append(residents[suspect], svc)
			}
		}
		if suspect == "" {
			continue
		}
		z, f, ok := change(sd, m, from, cut, to)
		if !ok || z <= cfg.Floor {
			continue
		}
		st := strength(z, cfg.Floor)
		f.Entity = suspect
		f.Quantity = string(m.Quantity)
		f.Score = st
		byEntity[suspect] = append(byEntity[suspect], finding{fact: f, local: m.Quantity.Local() && m.Peer == ""})
	}
	for svc, fs := range canaries(in, table, from, to, cfg.Floor) {
		byEntity[svc] = append(byEntity[svc], fs...)
	}
	type sus struct {
		name          string
		local, spread float64
		facts         []signal.Fact
		explainedBy   string
		explained     float64
		change        *signal.Event
		score         float64
	}
	all := map[string]*sus{}
	for e, fs := range byEntity {
		s := &sus{name: e}
		type kind struct {
			quantity string
			local    bool
		}
		best := map[kind]finding{} // per quantity and locality, the strongest
		for _, f := range fs {
			k := kind{f.fact.Quantity, f.local}
			if b, ok := best[k]; !ok || f.fact.Score > b.fact.Score {
				best[k] = f
			}
		}
		keepL, keepS := 1.0, 1.0
		for _, f := range best {
			if f.local {
				keepL *= 1 - f.fact.Score
			} else {
				keepS *= 1 - f.fact.Score
			}
			s.facts = append(s.facts, f.fact)
		}
		// A fixed order keeps the sums and the facts the same on every run.
		slices.SortFunc(s.facts, func(a, b signal.Fact) int {
			return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Quantity, b.Quantity), cmp.Compare(a.Series, b.Series))
		})
		s.local, s.spread = 1-keepL, 1-keepS
		all[e] = s
	}
	g := NewGraph(in.Topology)
	// A host's trouble that a service on it shows too is the service's:
	// the service is the more specific cause.
	for _, svc := range slices.Sorted(maps.Keys(hostOf)) {
		s := all[svc]
		for _, h := range hostOf[svc] {
			hh := all[h]
			if hh == nil || s == nil || hh.local == 0 || s.local < 0.5*hh.local {
				continue
			}
			if by := min(1, s.local/hh.local); by > hh.explained {
				hh.explainedBy, hh.explained = svc, by
			}
		}
	}
	// A suspect's spreading symptoms are explained by a dependency (a callee,
	// transitively, or its host) whose own trouble, local or spreading, is as
	// strong.
	for _, s := range all {
		if s.spread == 0 || strings.HasPrefix(s.name, "host:") {
			continue
		}
		deps := g.Descendants(s.name, 0) // a fresh map
		for _, h := range hostOf[s.name] {
			deps[h] = 1
		}
		for _, d := range slices.Sorted(maps.Keys(deps)) {
			ds := all[d]
			if ds == nil || ds.explainedBy == s.name {
				continue
			}
			if by := min(1, max(ds.local, ds.spread)/s.spread); by > s.explained {
				s.explained, s.explainedBy = by, d
			}
		}
	}
	changes := map[string]*signal.Event{}
	for i := range in.Events {
		e := &in.Events[i]
		if !isChange(e.Kind) || e.Time.Before(from) || e.Time.After(to) {
			continue
		}
		svc := Service(e.Entity)
		if c := changes[svc]; c == nil || e.Time.After(c.Time) && !e.Time.After(in.At) {
			changes[svc] = e
		}
	}
	var focus map[string]int
	if in.Focus != "" && g.Has(Service(in.Focus)) {
		focus = g.Descendants(Service(in.Focus), 0)
		focus[Service(in.Focus)] = 0
		for _, h := range hostOf[Service(in.Focus)] {
			focus[h] = 1
		}
	}
	list := make([]*sus, 0, len(all))
	for _, s := range all {
		if focus != nil {
			if _, ok := focus[s.name]; !ok {
				continue
			}
		}
		hostDiscount := 1.0
		if strings.HasPrefix(s.name, "host:") {
			// A host is a cause only as far as it has victims: a busy
			// node whose services serve as before caused no trouble.
			victims := 0.0
			for _, r := range residents[s.name] {
				if rs := all[r]; rs != nil {
					victims = max(victims, rs.spread)
				}
			}
			hostDiscount = (1 - s.explained) * victims
		}
		spread := cfg.SpreadWeight * s.spread
		if !strings.HasPrefix(s.name, "host:") {
			spread *= 1 - s.explained
		}
		s.score = 1 - (1-s.local*hostDiscount)*(1-spread)
		if c := changes[s.name]; c != nil && s.score > 0 {
			s.change = c
			s.score = 1 - (1-s.score)*(1-cfg.ChangeWeight)
		}
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b *sus) int { return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.name, b.name)) })
	out := make([]signal.Cause, 0, min(10, len(list)))
	for _, s := range list {
		if len(out) == 10 || s.score <= 0 {
			break
		}
		facts := s.facts // strongest first
		if len(facts) > 5 {
			facts = facts[:5]
		}
		if s.explainedBy != "" && s.explained > 0 {
			facts = append(facts, signal.Fact{Kind: FactVictim, Entity: s.name, Peer: s.explainedBy, Score: s.explained})
		}
		if s.change != nil {
			facts = append(facts, signal.Fact{Kind: FactDeploy, Entity: s.name, Time: s.change.Time, Series: string(s.change.Kind), Text: s.change.Text})
		}
		c := signal.Cause{Entity: s.name, Kind: kindOf(facts), Score: s.score, Facts: facts}
		c.Evidence = RenderFacts(facts)
		out = append(out, c)
	}
	return out
}

// kindOf names the fault by the strongest local fact, else the strongest.
func kindOf(facts []signal.Fact) string {
	for _, f := range facts {
		if f.Kind == FactDeploy {
			return KindChange
		}
	}
	for _, f := range facts {
		if f.Kind == FactChange || f.Kind == FactCanary {
			q := semconv.Quantity(f.Quantity)
			switch q.Family() {
			case "resource":
				if q == semconv.Memory || q == semconv.GC {
					return KindMemory
				}
				if q == semconv.Disk {
					return KindDisk
				}
				if q == semconv.Retransmits || q == semconv.Network {
					return KindNetwork
				}
				return KindSaturation
			case "latency":
				if q == semconv.NetDelay {
					return KindNetwork
				}
				return KindLatency
			case "errors":
				if q == semconv.Up {
					return KindUnavailable
				}
				return KindErrors
			case "traffic":
				return KindLoad
			}
		}
	}
	return ""
}

// RenderFacts writes facts as sentences an operator can check.
func RenderFacts(facts []signal.Fact) []string {
	out := make([]string, 0, len(facts))
	for _, f := range facts {
		switch f.Kind {
		case FactChange:
			out = append(out, fmt.Sprintf("%s: %s (%s) went %s from %.4g to %.4g from %s (robust change score %.1f)",
				f.Entity, f.Series, f.Quantity, f.Direction, f.Before, f.After, clock(f.Time), f.Z))
		case FactCanary:
			out = append(out, fmt.Sprintf("%s: new instance %s's %s (%s) is %.4g against %.4g on the old instances (robust score %.1f)",
				f.Entity, f.Peer, f.Series, f.Quantity, f.After, f.Before, f.Z))
		case FactVictim:
			out = append(out, fmt.Sprintf("%s depends on %s, whose trouble is as strong: its latency and errors may be %s's (explained %.0f%%)",
				f.Entity, f.Peer, f.Peer, 100*f.Score))
		case FactDeploy:
			line := fmt.Sprintf("%s on %s at %s", f.Series, f.Entity, clock(f.Time))
			if f.Text != "" {
				line += ": " + cut(f.Text, 80)
			}
			out = append(out, line)
		}
	}
	return out
}

// Strength is strength, for the sweep.
func Strength(z, floor float64) float64 { return strength(z, floor) }

// SeriesName is a series' name with its labels, as facts write it.
func SeriesName(sd *SeriesData) string { return seriesName(sd) }

// strength maps a robust change score to [0,1] on a log scale from the
// floor: a change of 30 counts half, one of a thousand fully.
func strength(z, floor float64) float64 {
	if z <= floor {
		return 0
	}
	return clamp01(math.Log1p(z-floor) / math.Log1p(1000))
}

// change scores one series: the baseline is its points in [from, cut), the
// window after those in [cut, to]; the statistic is the upper quartile of
// the deviations after in the bad direction (robust to one spike, while a
// fault that lasts a quarter of the window still shows), over the
// baseline's robust scale.
func change(sd *SeriesData, m semconv.Meaning, from, cut, to time.Time) (float64, signal.Fact, bool) {
	bad := m.Bad
	// A coarse series (a point every five minutes) is read after the cut
	// over at least afterPoints of its own step: one point is no window.
	if step := stepOf(sd.Points); step > 0 {
		if t := cut.Add(afterPoints * step); t.After(to) {
			to = t
		}
	}
	var base, after []Point
	for _, p := range sd.Points {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) || p.Time.Before(from) || p.Time.After(to) {
			continue
		}
		if p.Time.Before(cut) {
			base = append(base, p)
		} else {
			after = append(after, p)
		}
	}
	if len(base) == 0 || len(after) == 0 {
		return 0, signal.Fact{}, false
	}
	vals := make([]float64, len(base))
	for i, p := range base {
		vals[i] = p.Value
	}
	med, scale := robustScale(vals)
	scale = max(scale, m.Floor())
	if len(vals) < coldPoints {
		// Cold start: judged with wider bounds rather than not at all.
		scale = max(scale, coldScale*math.Abs(med))
	}
	type dev struct {
		d float64
		p Point
	}
	devs := make([]dev, len(after))
	for i, p := range after {
		devs[i] = dev{badward(p.Value-med, bad), p}
	}
	slices.SortFunc(devs, func(a, b dev) int { return cmp.Compare(b.d, a.d) })
	pick := devs[len(devs)/4]
	if pick.d <= 0 {
		return 0, signal.Fact{}, false
	}
	z := pick.d / scale
	// The change began at the first point after that went halfway there.
	start := pick.p.Time
	for _, p := range after {
		if badward(p.Value-med, bad) >= pick.d/2 {
			start = p.Time
			break
		}
	}
	dir := "up"
	if pick.p.Value < med {
		dir = "down"
	}
	return z, signal.Fact{Kind: FactChange, Series: seriesName(sd), Time: start, Before: med, After: pick.p.Value, Z: z, Direction: dir}, true
}

func seriesName(sd *SeriesData) string {
	if len(sd.Labels) == 0 {
		return sd.Name
	}
	keys := slices.Sorted(maps.Keys(sd.Labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + sd.Labels[k]
	}
	return sd.Name + "{" + strings.Join(parts, ",") + "}"
}

// canaries compares, per service, the instances that appeared within the
// window (a rollout's new version) with those that were there before them,
// over the same minutes: the new version's own telemetry, under the same
// traffic as its old siblings, is the most specific evidence a change can
// leave. An instance is new when its first point comes more than two minutes
// after the service's first.
func canaries(in Investigation, table *semconv.Table, from, to time.Time, floor float64) map[string][]finding {
	out := map[string][]finding{}
	for svc, g := range rollouts(in.Series, from, to) {
		// The old instances' series by name, for each new one to meet.
		old := map[string][]*SeriesData{}
		for _, o := range g.olds {
			for _, sd := range o.series {
				old[seriesName(sd)] = append(old[seriesName(sd)], sd)
			}
		}
		for _, nw := range g.news {
			for _, sd := range nw.series {
				m := table.Of(sd.Name, sd.Labels)
				if m.Peer != "" || m.Host {
					continue // another's telemetry: the peer's, the node's
				}
				if f, ok := canary(svc, nw, sd, old[seriesName(sd)], m, from, to, floor); ok {
					out[svc] = append(out[svc], finding{fact: f, local: true})
				}
			}
		}
	}
	return out
}

// instance is one instance of a service and its series in the window.
type instance struct {
	name   string
	first  time.Time // its first point in the window
	series []*SeriesData
}

// rollout is a service's instances split into those there from the start
// and those that appeared later.
type rollout struct{ olds, news []*instance }

// rollouts groups the series of instances ("svc/instance") per service and
// splits each service's instances into old and new; services with no new
// instance, or no old one, are left out.
func rollouts(series []SeriesData, from, to time.Time) map[string]rollout {
	bySvc := map[string]map[string]*instance{}
	svcFirst := map[string]time.Time{}
	for i := range series {
		sd := &series[i]
		svc, name, ok := strings.Cut(sd.Entity, "/")
		if !ok || strings.HasPrefix(sd.Entity, "host:") || svc == "" || name == "" {
			continue
		}
		k, _ := slices.BinarySearchFunc(sd.Points, from, func(p Point, t time.Time) int { return p.Time.Compare(t) })
		if k == len(sd.Points) || sd.Points[k].Time.After(to) {
			continue
		}
		first := sd.Points[k].Time
		if bySvc[svc] == nil {
			bySvc[svc] = map[string]*instance{}
		}
		it := bySvc[svc][sd.Entity]
		if it == nil {
			it = &instance{name: sd.Entity, first: first}
			bySvc[svc][sd.Entity] = it
		}
		it.first = minTime(it.first, first)
		it.series = append(it.series, sd)
		if f, ok := svcFirst[svc]; !ok || first.Before(f) {
			svcFirst[svc] = first
		}
	}
	out := map[string]rollout{}
	for svc, insts := range bySvc {
		var r rollout
		for _, k := range slices.Sorted(maps.Keys(insts)) {
			if it := insts[k]; it.first.After(svcFirst[svc].Add(2 * time.Minute)) {
				r.news = append(r.news, it)
			} else {
				r.olds = append(r.olds, it)
			}
		}
		if len(r.olds) > 0 && len(r.news) > 0 {
			out[svc] = r
		}
	}
	return out
}

// canary compares one series of a new instance with the same series of the
// old instances: the median of the new one's points against the median of
// the old ones' over the same minutes, in the robust scale of the old ones'
// points before the new instance came.
func canary(svc string, nw *instance, sd *SeriesData, olds []*SeriesData, m semconv.Meaning, from, to time.Time, floor float64) (signal.Fact, bool) {
	var nv, ov, ob []float64 // new; old over the same minutes; old before
	for _, p := range sd.Points {
		if !p.Time.Before(nw.first) && !p.Time.After(to) {
			nv = append(nv, p.Value)
		}
	}
	for _, o := range olds {
		for _, p := range o.Points {
			switch {
			case p.Time.Before(from) || p.Time.After(to):
			case p.Time.Before(nw.first):
				ob = append(ob, p.Value)
			default:
				ov = append(ov, p.Value)
			}
		}
	}
	if len(nv) == 0 || len(ov) == 0 || len(ob) < 3 {
		return signal.Fact{}, false
	}
	nm, om := median(nv), median(ov)
	_, scale := robustScale(ob)
	z := badward(nm-om, m.Bad) / max(scale, m.Floor())
	if z <= floor {
		return signal.Fact{}, false
	}
	return signal.Fact{Kind: FactCanary, Entity: svc, Peer: nw.name, Series: seriesName(sd), Quantity: string(m.Quantity),
		Time: nw.first, Before: om, After: nm, Z: z, Score: strength(z, floor)}, true
}

// badward is a deviation seen in the direction that is bad: as it is for a
// rise, negated for a fall, its size where either is.
func badward(d float64, bad semconv.Direction) float64 {
	switch bad {
	case semconv.Rise:
		return d
	case semconv.Fall:
		return -d
	}
	return math.Abs(d)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Baseline ranks the entities of the series by the largest robust change
// score of any of their own series (in either direction) around at: the
// simplest honest method, printed beside seer's figures.
func Baseline(at time.Time, series []SeriesData, cfg InvestigateConfig) []string {
	cfg = cfg.WithDefaults()
	from, cut, to := at.Add(-cfg.Lookback), at.Add(-cfg.Lead), at.Add(cfg.Horizon)
	best := map[string]float64{}
	for i := range series {
		e := Service(series[i].Entity)
		if z, _, ok := change(&series[i], semconv.Meaning{}, from, cut, to); ok && e != "" && z > best[e] {
			best[e] = z
		}
	}
	out := slices.Collect(maps.Keys(best))
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(best[b], best[a]), cmp.Compare(a, b)) })
	return out
}

// ChangeScore is the robust change score of one series (see Investigate).
func ChangeScore(sd *SeriesData, m semconv.Meaning, from, cut, to time.Time) (float64, signal.Fact, bool) {
	return change(sd, m, from, cut, to)
}

// A baseline of fewer than coldPoints points (a series seen for a minute or
// two) has no scale of its own worth trusting: a change of coldScale of its
// level is then one robust standard deviation.
const (
	coldPoints = 5
	coldScale  = 0.1
)

// afterPoints is the least number of its own steps a series is read over
// after the cut.
const afterPoints = 2

// robustScale is the median of the values and their robust scale: the MAD
// (as a standard deviation), or the upper quartile of the absolute
// deviations where more than half the values sit at the median (a sparse
// series), or their mean where even that is zero; never below levelFloor
// of the median's magnitude. The baseline may hold an earlier fault: a
// scale robust to a quarter of outliers keeps it from hiding the next.
func robustScale(vals []float64) (med, scale float64) {
	med = median(vals)
	devs := make([]float64, len(vals))
	sum := 0.0
	for i, v := range vals {
		devs[i] = math.Abs(v - med)
		sum += devs[i]
	}
	slices.Sort(devs)
	scale = 1.4826 * median(devs)
	if scale == 0 {
		scale = devs[(3*len(devs))/4] / 1.15
	}
	if scale == 0 {
		scale = sum / float64(len(devs))
	}
	return med, max(scale, levelFloor*math.Abs(med), 1e-9)
}

// first is the first of xs, or "".
func first(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}

// stepOf is the median gap between the points (0 with fewer than two).
func stepOf(pts []Point) time.Duration {
	if len(pts) < 2 {
		return 0
	}
	gaps := make([]time.Duration, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		gaps = append(gaps, pts[i].Time.Sub(pts[i-1].Time))
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}
