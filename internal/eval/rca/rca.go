package rca

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seerops/seer/internal/detect/trace"
	"github.com/seerops/seer/internal/engine"
	"github.com/seerops/seer/internal/eval/cases"
	"github.com/seerops/seer/internal/infer"
	"github.com/seerops/seer/internal/semconv"
	"github.com/seerops/seer/internal/signal"
	"go.yaml.in/yaml/v3"
)

// Result is one case's diagnosis.
type Result struct {
	Name string `json:"name"`
	Set  string `json:"set"`
	Root string `json:"root"`
	// Ranked are the ranked cause entities.
	Ranked []string `json:"ranked"`
	// Rank is the root's 1-based position in Ranked, 0 when absent.
	Rank int `json:"rank"`
	// DiagnosedAfter is the simulated time from the onset to the final
	// diagnosis (engine replays only; -1 otherwise).
	DiagnosedAfter time.Duration `json:"diagnosed_after_ns"`
	// EffectAfter is the time from the onset to the fault taking effect,
	// when the case says (a deploy's regression begins once the new
	// version serves); 0 otherwise.
	EffectAfter time.Duration `json:"effect_after_ns,omitempty"`
	// Baseline is the simplest honest ranking (the largest robust change
	// of an entity's own series; alerted protocol only) and BaselineRank
	// the root's position in it.
	Baseline     []string `json:"baseline,omitempty"`
	BaselineRank int      `json:"baseline_rank,omitempty"`
	// Entities are those of the incident diagnosed (engine replays only):
	// what an operator's verdict on it is remembered with.
	Entities []string `json:"-"`
}

// onTime tells whether the case was replayed and its root cause ranked
// top, finally, within 30 s of the onset plus after (the time the fault
// took to take effect, or 0).
func (r Result) onTime(after time.Duration) bool {
	return r.Rank == 1 && r.DiagnosedAfter >= 0 && r.DiagnosedAfter-after <= 30*time.Second
}

// Scores are the accuracy figures of a set of results.
type Scores struct {
	Cases int     `json:"cases"`
	AC1   float64 `json:"AC@1"`
	AC3   float64 `json:"AC@3"`
	Avg5  float64 `json:"Avg@5"`
	// Of the replayed cases: the median time from onset to diagnosis (the
	// final top cause first ranked top), in seconds; the share whose root
	// cause was ranked top, for good, within 30 s of the onset; and the
	// share within 30 s of the fault taking effect (a deploy's regression
	// begins once the new version serves, after its change event).
	DiagnosisMedianS     float64 `json:"diagnosis_median_s,omitempty"`
	DiagnosedIn30s       float64 `json:"diagnosed_within_30s,omitempty"`
	DiagnosedIn30sEffect float64 `json:"diagnosed_within_30s_of_effect,omitempty"`
}

// Score computes AC@1, AC@3 and Avg@5 (the mean of AC@1..AC@5).
func Score(rs []Result) Scores {
	s := Scores{Cases: len(rs)}
	if len(rs) == 0 {
		return s
	}
	ac := func(k int) float64 {
		n := 0
		for _, r := range rs {
			if r.Rank > 0 && r.Rank <= k {
				n++
			}
		}
		return float64(n) / float64(len(rs))
	}
	s.AC1, s.AC3 = ac(1), ac(3)
	for k := 1; k <= 5; k++ {
		s.Avg5 += ac(k) / 5
	}
	var times []time.Duration
	onTime, afterEffect := 0, 0
	for _, r := range rs {
		if r.DiagnosedAfter < 0 {
			continue
		}
		times = append(times, r.DiagnosedAfter)
		if r.onTime(0) {
			onTime++
		}
		if r.onTime(r.EffectAfter) {
			afterEffect++
		}
	}
	if len(times) > 0 {
		slices.Sort(times)
		s.DiagnosisMedianS = times[len(times)/2].Seconds()
		s.DiagnosedIn30s = float64(onTime) / float64(len(times))
		s.DiagnosedIn30sEffect = float64(afterEffect) / float64(len(times))
	}
	return s
}

// The protocols of an evaluation.
const (
	// Streaming replays the case and scores the incident seer opened
	// itself.
	Streaming = "streaming"
	// Alerted opens an investigation at the case's alert time (its onset
	// when it has none), the protocol of RCAEval, Nezha and PetShop, and
	// scores its ranking.
	Alerted = "alerted"
)

//go:embed semantics.yaml
var semanticsYAML []byte

// Semantics are the rules that map the public sets' column names to
// quantities.
func Semantics() semconv.Config {
	var c semconv.Config
	if err := yaml.Unmarshal(semanticsYAML, &c); err != nil {
		panic(fmt.Sprintf("eval/rca/semantics.yaml: %v", err))
	}
	return c
}

// Options tune an evaluation.
type Options struct {
	// Protocol is Streaming (the default) or Alerted.
	Protocol string
	// Infer is the inference configuration; zero fields take defaults.
	Infer infer.Config
	// Weights are feedback-learned ranking weights to start from.
	Weights infer.Weights
	// Workers is how many cases run at once (0: 4).
	Workers int
	Logger  *slog.Logger
}

// Diagnose ranks the root causes of one case.
func Diagnose(ctx context.Context, c cases.Case, o Options) (Result, error) {
	res := Result{Name: c.Name, Set: c.Set, Root: c.Root, DiagnosedAfter: -1}
	if !c.Effect.IsZero() && c.Effect.After(c.Onset) {
		res.EffectAfter = c.Effect.Sub(c.Onset)
	}
	var causes []signal.Cause
	switch {
	case o.Protocol == Alerted:
		causes, res.Baseline = investigate(c, o)
		res.BaselineRank = rankOf(res.Baseline, c.Root)
	case len(c.Spans) > 0 || len(c.Logs) > 0:
		var err error
		causes, res.Entities, res.DiagnosedAfter, err = replay(ctx, c, o)
		if err != nil {
			return res, err
		}
	default:
		causes = alarm(c, o)
	}
	for _, cs := range causes {
		res.Ranked = append(res.Ranked, cs.Entity)
	}
	res.Rank = rankOf(res.Ranked, c.Root)
	return res, nil
}

// rankOf is the 1-based position of the root among the ranked entities, 0
// when absent. An entity matches only itself, with one exception: when the
// root is one replica ("svc/instance"), naming its service counts, because
// the ranking works on the call graph, whose nodes are services. A link
// fault's root is its target (the callee) alone: naming the peer at the
// other end is a miss, as naming any other victim is.
func rankOf(ranked []string, root string) int {
	svc, _, replica := strings.Cut(root, "/")
	for i, e := range ranked {
		if e == root || replica && e == svc {
			return i + 1
		}
	}
	return 0
}

// alarm diagnoses a metric-only case the way an outside alarm at the onset
// asks seer: the history and the case's samples fill the recent window,
// then the inference ranks the change scores around the onset on the graph.
func alarm(c cases.Case, o Options) []signal.Cause {
	inf := loaded(c, o)
	var sym *infer.Symptom
	if c.Symptom != "" {
		sym = &infer.Symptom{Entity: c.Symptom, Metric: c.SymptomMetric}
	}
	return inf.Diagnose(c.Onset, c.End, sym)
}

// investigate opens an investigation at the case's alert time (its onset
// when it has none) with every signal of the case known, as a user's seer
// would hold them, and returns its ranking. The investigation reads at most
// its horizon past the alert.
func investigate(c cases.Case, o Options) ([]signal.Cause, []string) {
	inf := loaded(c, o)
	return inf.InvestigateMetric(AlertTime(c), c.Symptom, c.SymptomMetric), inf.Baseline(AlertTime(c))
}

// loaded is an Inferrer holding every signal of the case, as a user's seer
// would hold them.
func loaded(c cases.Case, o Options) *infer.Inferrer {
	topo := c.Topology
	inf := infer.New(inferConfig(o), func() signal.Topology { return topo }, o.Logger)
	inf.SetWeights(o.Weights)
	inf.AddSamples(c.History)
	inf.AddSamples(c.Samples)
	inf.AddSamples(traceSeries(c.Spans))
	inf.AddLogs(c.Logs)
	inf.AddEvents(c.Events)
	return inf
}

// traceSeries runs the spans through a trace stage in the order they
// ended, a second at a time, as a running seer receives them, and returns
// the series it derives (signal.Series*).
func traceSeries(spans []signal.Span) []signal.Sample {
	if len(spans) == 0 {
		return nil
	}
	st := trace.NewStage(trace.DefaultConfig(), nil)
	byEnd := make(map[int64][]signal.Span)
	for _, s := range spans {
		byEnd[s.End().Unix()] = append(byEnd[s.End().Unix()], s)
	}
	var out []signal.Sample
	var last time.Time
	for _, sec := range slices.Sorted(maps.Keys(byEnd)) {
		st.Process(byEnd[sec])
		last = time.Unix(sec+1, 0)
		st.Tick(last)
		out = append(out, st.Series(last)...)
	}
	st.Tick(last.Add(time.Hour)) // every trace left completes or times out
	return append(out, st.Series(time.Time{})...)
}

// inferConfig is the options' inference configuration with the rules that
// map the public sets' column names added after the user's.
func inferConfig(o Options) infer.Config {
	cfg := o.Infer
	cfg.Semantics.Rules = append(slices.Clone(cfg.Semantics.Rules), Semantics().Rules...)
	return cfg
}

// AlertTime is when the alerted protocol opens its investigation.
func AlertTime(c cases.Case) time.Time {
	if !c.Alert.IsZero() {
		return c.Alert
	}
	return c.Onset
}

// replay runs the case's signals in time order, a second at a time,
// through an engine with a synchronous bus in a temporary directory, and
// takes the causes of the incident pickIncident chooses.
func replay(ctx context.Context, c cases.Case, o Options) ([]signal.Cause, []string, time.Duration, error) {
	dir, err := os.MkdirTemp("", "seer-eval-rca-")
	if err != nil {
		return nil, nil, -1, err
	}
	defer os.RemoveAll(dir)
	cfg := engine.Default()
	cfg.Bus.Sync = true
	cfg.DataDir = dir
	cfg.Infer = inferConfig(o)
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	seen := newSeen(c.End)
	e, err := engine.New(ctx, cfg, logger, engine.Hooks{Incident: seen.record, Observation: seen.observe})
	if err != nil {
		return nil, nil, -1, err
	}
	defer e.Close()
	if len(o.Weights.Confirmed)+len(o.Weights.Rejected) > 0 {
		e.SetWeights(o.Weights)
	}

	batches := bySecond(c)
	for _, sec := range slices.Sorted(maps.Keys(batches)) {
		if err := ctx.Err(); err != nil {
			return nil, nil, -1, err
		}
		b := batches[sec]
		if err := e.Ingest(ctx, b); err != nil {
			return nil, nil, -1, fmt.Errorf("%s: ingesting: %w", c.Name, err)
		}
		if err := e.Tick(ctx, time.Unix(sec+1, 0).UTC()); err != nil {
			return nil, nil, -1, fmt.Errorf("%s: ticking: %w", c.Name, err)
		}
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	ids := slices.Sorted(maps.Keys(seen.incidents))
	pick := pickIncident(seen.incidents, seen.active, seen.obsTime, ids, c.Onset, c.End)
	if pick == nil {
		return nil, nil, -1, nil
	}
	after := time.Duration(-1)
	if !pick.Diagnosed.IsZero() {
		after = max(0, pick.Diagnosed.Sub(c.Onset))
	}
	return pick.Causes, pick.Entities, after, nil
}

// seen keeps the incidents of a replay as they stood when the fault ended:
// what an operator had to act on while it mattered. After the fault, its
// recovery (a restarted service warming up, a backlog draining) is new
// trouble that may re-rank the causes of an incident still open, and that
// aftermath is not the diagnosis of the fault.
type seen struct {
	end       time.Time // zero: keep every update
	mu        sync.Mutex
	incidents map[int64]signal.Incident
	active    map[int64]time.Time // each incident's newest observation
	obsTime   map[int64]time.Time // each observation's start, by ID
}

func newSeen(end time.Time) *seen {
	return &seen{end: end, incidents: map[int64]signal.Incident{}, active: map[int64]time.Time{}, obsTime: map[int64]time.Time{}}
}

// observe is the engine's observation hook.
func (s *seen) observe(o signal.Observation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := o.Start
	if st.IsZero() || st.After(o.Time) {
		st = o.Time
	}
	s.obsTime[o.ID] = st
}

// record is the engine's incident hook.
func (s *seen) record(in signal.Incident) {
	if !s.end.IsZero() && in.Updated.After(s.end) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.incidents[in.ID] = in
	if in.Status != signal.IncidentResolved && in.Updated.After(s.active[in.ID]) {
		s.active[in.ID] = in.Updated
	}
}

// pickIncident is the incident a case is scored by, chosen without the
// ground truth: of the incidents that were live during the fault (opened
// from a minute before the onset up to its end, or opened earlier and
// still open at the onset), the one holding the most observations that
// began at or after the onset (the fault's own evidence; what noise said
// before it does not count), the earliest on a tie. Incidents resolved
// before the onset, or that nothing joined after it (active holds each
// one's newest observation time), had nothing to do with the fault and are
// never picked.
func pickIncident(incidents map[int64]signal.Incident, active, obsTime map[int64]time.Time, ids []int64, onset, end time.Time) *signal.Incident {
	var pick *signal.Incident
	best := -1
	for _, id := range ids {
		in := incidents[id]
		if !end.IsZero() && in.Opened.After(end) {
			continue
		}
		if in.Opened.Before(onset.Add(-time.Minute)) && (!in.Resolved.IsZero() && in.Resolved.Before(onset) || active[id].Before(onset)) {
			continue
		}
		n := 0
		for _, oid := range in.ObservationIDs {
			if t, ok := obsTime[oid]; !ok || !t.Before(onset) {
				n++
			}
		}
		if pick == nil || n > best {
			pick, best = &in, n
		}
	}
	return pick
}

// bySecond groups the case's signals by the second they belong to.
func bySecond(c cases.Case) map[int64]*signal.Batch {
	out := map[int64]*signal.Batch{}
	get := func(t time.Time) *signal.Batch {
		k := t.Unix()
		b := out[k]
		if b == nil {
			b = &signal.Batch{}
			out[k] = b
		}
		return b
	}
	for _, s := range c.History {
		get(s.Time).Samples = append(get(s.Time).Samples, s)
	}
	for _, s := range c.Samples {
		get(s.Time).Samples = append(get(s.Time).Samples, s)
	}
	for _, l := range c.Logs {
		get(l.Time).Logs = append(get(l.Time).Logs, l)
	}
	for _, s := range c.Spans {
		get(s.End()).Spans = append(get(s.End()).Spans, s)
	}
	for _, e := range c.Events {
		get(e.Time).Events = append(get(e.Time).Events, e)
	}
	return out
}

// Report is an evaluation's outcome, printed as the contract's JSON.
type Report struct {
	Scores
	Layout string            `json:"layout"`
	Sets   map[string]Scores `json:"sets,omitempty"`
	// DiagnosisMaxS is the longest time from onset to diagnosis over the
	// replayed cases, in seconds.
	DiagnosisMaxS float64 `json:"diagnosis_max_s,omitempty"`
	// Protocol is the protocol the figures were made with.
	Protocol string `json:"protocol"`
	// Baseline are the simplest honest ranking's figures on the same cases
	// (alerted protocol).
	Baseline *Scores `json:"baseline,omitempty"`
	// Feedback is the gain from operator feedback (see Feedback).
	Feedback *Gain    `json:"feedback,omitempty"`
	Results  []Result `json:"results,omitempty"`
}

// Run diagnoses every scored case (Split "test") and scores the results.
func Run(ctx context.Context, cs []cases.Case, layout string, o Options) (Report, error) {
	var test []cases.Case
	for _, c := range cs {
		if c.Split == "test" {
			test = append(test, c)
		}
	}
	rs, err := diagnoseAll(ctx, test, o)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Scores: Score(rs), Layout: layout, Results: rs, Sets: map[string]Scores{}, Protocol: cmp.Or(o.Protocol, Streaming)}
	if o.Protocol == Alerted {
		base := make([]Result, len(rs))
		for i, r := range rs {
			base[i] = Result{Rank: r.BaselineRank, DiagnosedAfter: -1}
		}
		b := Score(base)
		rep.Baseline = &b
	}
	bySet := map[string][]Result{}
	for _, r := range rs {
		bySet[r.Set] = append(bySet[r.Set], r)
		rep.DiagnosisMaxS = max(rep.DiagnosisMaxS, r.DiagnosedAfter.Seconds())
	}
	for k, v := range bySet {
		rep.Sets[k] = Score(v)
	}
	return rep, nil
}

func diagnoseAll(ctx context.Context, cs []cases.Case, o Options) ([]Result, error) {
	workers := o.Workers
	if workers <= 0 {
		workers = 4
	}
	out := make([]Result, len(cs))
	errs := make([]error, len(cs))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], errs[i] = Diagnose(ctx, cs[i], o)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// Gain is accuracy on held-out cases before and after operators gave
// feedback on the others.
type Gain struct {
	Learned int    `json:"learned_from"`
	Before  Scores `json:"before"`
	After   Scores `json:"after"`
}

// Feedback measures the gain from feedback: the scored cases are split in
// two halves by position; on the first half an operator confirms the true
// root cause and rejects every cause ranked above it, and the weights
// learned are used to diagnose the second half again.
func Feedback(ctx context.Context, cs []cases.Case, o Options) (Gain, error) {
	var a, b []cases.Case
	for _, c := range cs {
		if c.Split != "test" {
			continue
		}
		if (len(a)+len(b))%2 == 0 {
			a = append(a, c)
		} else {
			b = append(b, c)
		}
	}
	ra, err := diagnoseAll(ctx, a, o)
	if err != nil {
		return Gain{}, err
	}
	learner := infer.New(o.Infer, nil, nil)
	learner.SetWeights(o.Weights)
	for _, r := range ra {
		f := infer.Feedback{IncidentID: 1, Confirm: r.Root}
		for _, e := range r.Ranked {
			if e == r.Root {
				break
			}
			f.Reject = append(f.Reject, e)
		}
		learner.Learn(f, signal.Incident{Entities: r.Entities})
	}
	before, err := diagnoseAll(ctx, b, o)
	if err != nil {
		return Gain{}, err
	}
	o.Weights = learner.Weights()
	after, err := diagnoseAll(ctx, b, o)
	if err != nil {
		return Gain{}, err
	}
	return Gain{Learned: len(a), Before: Score(before), After: Score(after)}, nil
}
