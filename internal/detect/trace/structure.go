package trace

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seerops/seer/internal/signal"
)

// The kinds of deviation from an operation's fingerprint.
const (
	// DevMissing: a call made in nearly every execution was not made, and
	// no failure explains its absence.
	DevMissing = "missing"
	// DevNew: a call never (or almost never) made before was made.
	DevNew = "new"
	// DevRetry: a call was repeated more often than it ever is normally.
	DevRetry = "retry"
	// DevSlow: a call took longer than its learned time bound while none of
	// its own calls did, so the time was lost in it.
	DevSlow = "slow"
	// DevOrder: the calls were all known but made in an order never seen.
	DevOrder = "order"
)

// Thresholds of the fingerprint, as shares of an operation's executions.
const (
	// commonStep: a step seen in at least this share is expected every time;
	// not higher, so that the executions learned before an alarm is raised
	// do not make the step look optional.
	commonStep = 0.95
	// rareStep: a step seen in less than this share is new.
	rareStep = 0.001
	// rareRetry: a repeat count seen in less than this share of the
	// executions that make the call is a retry storm.
	rareRetry = 0.005
	// minBoundSamples is the fewest durations of a step before its time
	// bound is trusted; rebound is how often the bound is recomputed.
	minBoundSamples = 50
	rebound         = 64
	// maxSeqs is the most call orders an operation may have before its
	// order is taken as free (parallel calls) and no longer checked.
	maxSeqs = 64
)

// stepKey is one call of an operation: the callee and its operation.
type stepKey struct{ service, op string }

func (k stepKey) String() string { return k.service + "/" + k.op }

// step is what an operation's executions have shown of one of its calls.
type step struct {
	key stepKey
	// present, twice, thrice: decayed counts of executions making the call
	// at least once, twice and three times.
	present, twice, thrice float64
	dur                    qsketch
	bound                  int64 // ns; 0 until known
	sinceBound             int
}

// fingerprint is the normal execution of one (service, operation): which
// calls it makes, how often, in which order and how long each takes.
type fingerprint struct {
	execs     float64
	steps     map[stepKey]*step
	list      []*step // in the order first seen, for deterministic checks
	seqs      map[uint64]float64
	unordered bool
}

// stepUse is one step as made in one execution.
type stepUse struct {
	key           stepKey
	st            *step
	count         int
	dur           int64
	slow, failed  bool
	over          bool // some call of the step was over its bound
	firstChildIdx int32
}

// deviation is one departure of one execution from its fingerprint.
type deviation struct {
	kind     string
	caller   stepKey // the executing operation
	step     stepKey
	count    int
	entity   string // the service blamed
	traceID  string
	examples int32
}

// fact is the form a deviation (or an error) takes in a trace's fact set and
// in a KnownFailure: "missing:checkout/POST /checkout>payment/POST /charge".
func (d *deviation) fact() string {
	return d.kind + ":" + d.caller.String() + ">" + d.step.String()
}

// structure checks execution p of a trace against its operation's
// fingerprint, records its deviations and, unless the operation is in
// alarm, learns from it. lo and hi bound p's children in s.links.
func (s *Stage) structure(t *trace, p int, sr *series, lo, hi int32) {
	c := &s.cfg
	if sr.fp == nil {
		sr.fp = &fingerprint{steps: make(map[stepKey]*step), seqs: make(map[uint64]float64)}
	}
	fp := sr.fp
	agg := s.agg[:0]
	for j := lo; j < hi; j++ {
		ci := s.links[j].child
		csr := s.ser[ci]
		if csr == nil {
			continue
		}
		k := stepKey{csr.key.a, csr.key.b}
		at := -1
		for x := range agg {
			if agg[x].key == k {
				at = x
				break
			}
		}
		if at < 0 {
			if len(agg) >= c.MaxSteps {
				s.st.StructureSkipped++
				s.agg = agg
				return
			}
			agg = append(agg, stepUse{key: k, st: fp.steps[k], firstChildIdx: ci})
			at = len(agg) - 1
		}
		u := &agg[at]
		cs := &t.spans[ci]
		u.count++
		u.dur = max(u.dur, cs.end-cs.start)
		u.failed = u.failed || cs.err
		u.over = u.over || s.flags[ci]&flagSlow != 0
		u.slow = u.slow || (s.flags[ci]&flagSlow != 0 && s.flags[ci]&flagSlowKid == 0)
	}
	s.agg = agg
	sp := &t.spans[p]
	caller := stepKey{sr.key.a, sr.key.b}
	// The order's hash is the same in every process (FNV-1a, not a seeded
	// maphash), so that the orders learned survive a restart (snapshot.go).
	// An operation keeps at most maxSeqs orders: no flooding to fear.
	seq := uint64(fnvOffset)
	for i := range agg {
		seq = fnvAdd(fnvAdd(seq, agg[i].key.service), agg[i].key.op)
	}

	deviant := false
	if fp.execs >= float64(c.StructWarmup) {
		dev := func(kind string, k stepKey, count int, entity string) {
			deviant = true
			s.deviate(sr, deviation{kind: kind, caller: caller, step: k, count: count, entity: entity, traceID: t.id})
		}
		for i := range agg {
			u := &agg[i]
			switch {
			case u.st == nil || u.st.present < rareStep*fp.execs:
				dev(DevNew, u.key, u.count, caller.service)
			case u.count >= 2 && s.repeatRare(u.st, u.count):
				dev(DevRetry, u.key, u.count, u.key.service)
			case u.slow:
				dev(DevSlow, u.key, u.count, u.key.service)
			}
		}
		// A failure explains the calls not made after it: the error is
		// reported by the error baselines, not as a change of structure.
		if !sp.err && s.flags[p]&flagChildErr == 0 {
			for _, st := range fp.list {
				if st.present < commonStep*fp.execs {
					continue
				}
				if !slices.ContainsFunc(agg, func(u stepUse) bool { return u.key == st.key }) {
					dev(DevMissing, st.key, 0, caller.service)
				}
			}
		}
		if !deviant && !fp.unordered && len(agg) > 1 && fp.seqs[seq] == 0 {
			dev(DevOrder, agg[0].key, 0, caller.service)
		}
	}
	sr.b.addDeviant(deviant)

	if sr.alerts[alertStruct].active {
		return // a fault's executions must not become normal
	}
	fp.execs++
	for i := range agg {
		u := &agg[i]
		st := u.st
		if st == nil {
			if len(fp.list) >= c.MaxSteps {
				continue
			}
			st = &step{key: u.key, dur: newQsketch(float64(c.StructMemory))}
			fp.steps[u.key] = st
			fp.list = append(fp.list, st)
		}
		st.present++
		if u.count >= 2 {
			st.twice++
		}
		if u.count >= 3 {
			st.thrice++
		}
		// Calls over the bound are not learned, so that a slow-down cannot
		// raise the bound it is judged by; the bound follows the median
		// and p90, which a lasting change does move.
		if !u.failed && !u.over {
			st.dur.add(u.dur)
			st.sinceBound++
			if st.sinceBound >= rebound || (st.bound == 0 && st.dur.count() >= minBoundSamples) {
				st.sinceBound = 0
				if st.dur.count() >= minBoundSamples {
					st.bound = stepBound(&st.dur, c.StepBoundFactor, c.MinLatencyDelta)
				}
			}
		}
	}
	if !fp.unordered && len(agg) > 1 {
		fp.seqs[seq]++
		if len(fp.seqs) > maxSeqs {
			fp.unordered, fp.seqs = true, nil
		}
	}
	if fp.execs >= 2*float64(c.StructMemory) {
		fp.execs /= 2
		for _, st := range fp.list {
			st.present /= 2
			st.twice /= 2
			st.thrice /= 2
		}
		for k := range fp.seqs {
			fp.seqs[k] /= 2
		}
	}
}

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvAdd hashes s and a 0 byte after it into h.
func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h * fnvPrime // ^ 0
}

// stepBound is a step's time bound in ns: the far tail (p99.97 for a
// log-normal step) extrapolated from the median and p90, which a fault of a
// few minutes, learned before its alarm is raised, cannot move as it moves
// the p99; scaled by factor and at least minDelta above the p90.
func stepBound(q *qsketch, factor float64, minDelta time.Duration) int64 {
	p50, p90 := q.quantile(0.5), q.quantile(0.9)
	if p50 <= 0 {
		return int64(p90*1e6) + int64(minDelta)
	}
	r := p90 / p50
	tail := p50 * r * r * r
	return int64(max(factor*tail*1e6, p90*1e6+float64(minDelta)))
}

// repeatRare tells whether making a call count times is rare among the
// executions that make it.
func (s *Stage) repeatRare(st *step, count int) bool {
	n := st.twice
	if count >= 3 {
		n = st.thrice
	}
	return n < rareRetry*st.present
}

// deviate records one deviation of an execution: in the window's tally of
// its operation and in the trace's facts.
func (s *Stage) deviate(sr *series, d deviation) {
	s.exKeep = true
	s.facts = append(s.facts, d.fact())
	if sr.devs == nil {
		sr.devs = make(map[string]*deviation)
	}
	f := d.fact()
	if x := sr.devs[f]; x != nil {
		x.examples++
		return
	}
	if len(sr.devs) >= s.cfg.MaxSteps {
		return
	}
	d.examples = 1
	sr.devs[f] = &d
}

// dominant is the most frequent deviation of sr's window, ties broken by
// fact, so that an observation names one step.
func dominant(sr *series) *deviation {
	var best *deviation
	for _, d := range sr.devs {
		if best == nil || d.examples > best.examples || (d.examples == best.examples && d.fact() < best.fact()) {
			best = d
		}
	}
	return best
}

func (s *Stage) structureObs(sr *series, ratio, pBase float64) signal.Observation {
	b := &sr.b
	score := min(1, max(0, 0.5+0.5*(ratio-pBase)/max(1e-9, 1-pBase)))
	o := signal.Observation{
		Entity: sr.key.a, Kind: signal.TraceStructure, Name: sr.key.b,
		Score: score, Actual: ratio, Expected: pBase, Low: 0,
		High: min(1, max(pBase, ratioFloor)+s.cfg.MinErrorRatio),
		Evidence: map[string]string{
			"direction":  "up",
			"deviant":    fmt.Sprint(b.kd),
			"executions": fmt.Sprint(b.n),
			"operation":  sr.key.a + "/" + sr.key.b,
		},
	}
	d := dominant(sr)
	if d == nil {
		o.Summary = fmt.Sprintf("%d of %d executions of %s deviated from its usual calls", b.kd, b.n, sr.key.b)
		return o
	}
	o.Entity = d.entity
	if d.entity == d.step.service {
		o.Name = d.step.op
	}
	o.Evidence["deviation"] = d.kind
	o.Evidence["step"] = d.step.String()
	o.Evidence["trace_id"] = d.traceID
	o.Evidence["facts"] = d.fact()
	what := map[string]string{
		DevMissing: "did not call", DevNew: "newly called", DevRetry: "repeated calls to",
		DevSlow: "waited past its time bound on", DevOrder: "changed the order of its calls, first",
	}[d.kind]
	o.Summary = fmt.Sprintf("%d of %d executions of %s deviated: %s %s (%d examples)",
		b.kd, b.n, caller(sr), what, d.step, d.examples)
	return o
}

func caller(sr *series) string { return sr.key.a + "/" + sr.key.b }

// KnownFailure is a negative fingerprint: the facts of a trace of a failure
// seen before (typically a confirmed incident), so that a trace showing all
// of them is diagnosed at once, without waiting for a baseline to move.
type KnownFailure struct {
	// Name identifies it ("payment-db-pool-exhausted").
	Name string `json:"name"`
	// Entity is the service to blame; empty means the first fact's.
	Entity string `json:"entity,omitempty"`
	// Cause says what the failure was, for the operator.
	Cause string `json:"cause,omitempty"`
	// Facts must all appear in a trace: deviations as
	// "KIND:service/op>callee/op" (KIND one of missing, new, retry, slow,
	// order), "error:service/op" for an error that originated in an
	// operation, "unreachable:caller>callee" for a call that never arrived.
	Facts []string `json:"facts"`
}

// Errors of AddKnownFailure.
var (
	ErrKnownFailureName  = errors.New("trace: a known failure needs a name")
	ErrKnownFailureFacts = errors.New("trace: a known failure needs at least one fact")
	ErrKnownFailureFull  = errors.New("trace: too many known failures")
)

// known is a KnownFailure with its firing state.
type known struct {
	kf    KnownFailure
	alert alert
	seen  int64
}

// AddKnownFailure keeps (or replaces, by name) a negative fingerprint. The
// facts are those of the "facts" evidence of a trace observation, or of
// Facts.
func (s *Stage) AddKnownFailure(kf KnownFailure) error {
	var errs []error
	if strings.TrimSpace(kf.Name) == "" {
		errs = append(errs, ErrKnownFailureName)
	}
	facts := slices.Compact(slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(kf.Facts), func(f string) bool {
		return strings.TrimSpace(f) == ""
	}))))
	if len(facts) == 0 {
		errs = append(errs, ErrKnownFailureFacts)
	}
	for _, f := range facts {
		kind, _, ok := strings.Cut(f, ":")
		if !ok || !slices.Contains([]string{DevMissing, DevNew, DevRetry, DevSlow, DevOrder, "error", "unreachable"}, kind) {
			errs = append(errs, fmt.Errorf("trace: known failure %q: fact %q is not KIND:subject", kf.Name, f))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	kf.Facts = facts
	if kf.Entity == "" {
		kf.Entity = factEntity(facts[0])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.known, func(k *known) bool { return k.kf.Name == kf.Name })
	if i >= 0 {
		s.known[i] = &known{kf: kf}
		return nil
	}
	if len(s.known) >= s.cfg.MaxKnownFailures {
		return fmt.Errorf("%w (max_known_failures %d)", ErrKnownFailureFull, s.cfg.MaxKnownFailures)
	}
	s.known = append(s.known, &known{kf: kf})
	return nil
}

// RemoveKnownFailure forgets a negative fingerprint; it reports whether
// there was one of that name.
func (s *Stage) RemoveKnownFailure(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.known)
	s.known = slices.DeleteFunc(s.known, func(k *known) bool { return k.kf.Name == name })
	return len(s.known) != n
}

// KnownFailures lists the negative fingerprints kept, by name.
func (s *Stage) KnownFailures() []KnownFailure {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]KnownFailure, 0, len(s.known))
	for _, k := range s.known {
		kf := k.kf
		kf.Facts = slices.Clone(kf.Facts)
		out = append(out, kf)
	}
	slices.SortFunc(out, func(a, b KnownFailure) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// KnownFailureFrom makes a negative fingerprint of a trace observation,
// for an operator confirming an incident: its facts are the observation's.
func KnownFailureFrom(name, cause string, o signal.Observation) (KnownFailure, error) {
	facts := strings.Split(o.Evidence["facts"], "\n")
	kf := KnownFailure{Name: name, Entity: o.Entity, Cause: cause, Facts: facts}
	if o.Evidence["facts"] == "" {
		return kf, fmt.Errorf("%w: observation %s has no facts evidence", ErrKnownFailureFacts, o.Kind)
	}
	return kf, nil
}

// factEntity is the service a fact blames.
func factEntity(f string) string {
	kind, rest, _ := strings.Cut(f, ":")
	from, to, hasTo := strings.Cut(rest, ">")
	switch {
	case kind == DevRetry || kind == DevSlow || kind == "unreachable":
		if hasTo {
			from = to
		}
	}
	svc, _, _ := strings.Cut(from, "/")
	return svc
}

// matchKnown raises an observation for each known failure whose facts all
// appear in the trace's (s.facts, sorted here).
func (s *Stage) matchKnown(t *trace, now int64) {
	if len(s.known) == 0 || len(s.facts) == 0 {
		return
	}
	slices.Sort(s.facts)
	for _, k := range s.known {
		all := true
		for _, f := range k.kf.Facts {
			if _, ok := slices.BinarySearch(s.facts, f); !ok {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		a := &k.alert
		if a.active && now-k.seen > 2*int64(s.cfg.Repeat) {
			a.active = false // a new episode
		}
		k.seen = now
		if a.active && now-a.last < int64(s.cfg.Repeat) {
			continue
		}
		if !a.active {
			a.active, a.onset = true, t.oldest
		}
		a.last = now
		s.exKeep = true
		s.out = append(s.out, signal.Observation{
			Time: time.Unix(0, now).UTC(), Start: time.Unix(0, a.onset).UTC(),
			Entity: k.kf.Entity, Kind: signal.TraceStructure, Name: k.kf.Name, Score: 1,
			Summary: fmt.Sprintf("trace %s matches known failure %s", t.id, k.kf.Name) + causeSuffix(k.kf.Cause),
			Evidence: map[string]string{
				"known_failure": k.kf.Name, "trace_id": t.id, "direction": "up",
				"facts": strings.Join(k.kf.Facts, "\n"),
			},
		})
	}
}

func causeSuffix(c string) string {
	if c == "" {
		return ""
	}
	return ": " + c
}
