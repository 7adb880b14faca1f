package logs

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/seerops/seer/internal/signal"
)

// exampleMax caps the example line kept as evidence.
const exampleMax = 512

// minRate is the least expected count per window, so that a quiet baseline
// of zero does not make any single record infinitely surprising.
const minRate = 0.1

// Stage recognises log patterns per entity: templates new after the
// entity's warm-up, bursts of one template and bursts of errors. It is safe
// for concurrent use; one miner serves every entity, so template ids are
// shared across services.
type Stage struct {
	mu     sync.Mutex
	cfg    Config
	log    *slog.Logger
	miner  *Miner
	ents   map[string]*entity
	params []string
	// joins is the miner's merge count when the entities' template
	// states were last folded (foldMerged).
	joins int64
}

// entity is the state of one service.
type entity struct {
	first, last time.Time
	// total counts the entity's records, the base of a template's share.
	total int64
	errs  counter
	// errTmpl counts the error templates of the current error window, to
	// name the commonest as the burst's template.
	errTmpl map[uint64]int
	tmpls   map[uint64]*tmplState
}

type tmplState struct {
	first time.Time
	last  time.Time
	c     counter
	// n counts the template's records in the entity.
	n int64
	// base is the baseline count per window as the last record found it,
	// before the silence that follows decays it.
	base float64
	// example is the last record, the evidence of a silence.
	example string
	// rareAt is when the template last fired as rare; silent that it has
	// fired for the silence now going on.
	rareAt time.Time
	silent bool
	// warn is set once the template was logged at warning or worse: its
	// silence is trouble receding (slow requests, retries stopping), not a
	// stall.
	warn bool
}

// counter counts records in fixed windows against an EWMA baseline, and
// keeps the firing state that suppresses repeats.
type counter struct {
	win     int64
	n       int
	start   time.Time
	example string
	ewma    float64
	closed  int
	firing  bool
	held    time.Time
	// hist holds the counts of the last HistoryWindows closed windows,
	// oldest first (saturating at 65535), for showing a finding's counts
	// before and after its onset.
	hist [HistoryWindows]uint16
}

// HistoryWindows is how many closed windows' counts a template keeps (at
// the default 30-s window, the last 20 minutes); 80 bytes a template.
const HistoryWindows = 40

// foldMerged folds the state each entity keeps of a template the miner
// merged into another into that one's: their lines now count under the
// one id, so its baseline is the sum of theirs. Otherwise the merged
// template would fall silent (a false silence) and the one it joined
// would count the lines of both against its own baseline (a false
// burst); and when a merge happens depends on the order in which the
// entities' lines reach the shared miner.
func (s *Stage) foldMerged() {
	for _, e := range s.ents {
		for id, ts := range e.tmpls {
			into, ok := s.miner.MergedInto(id)
			if !ok || into == id {
				continue
			}
			delete(e.tmpls, id)
			if k := e.tmpls[into]; k != nil {
				k.fold(ts, s.cfg.Alpha)
			} else {
				e.tmpls[into] = ts
			}
		}
	}
}

// fold adds o, the state of a template merged into t's, to t.
func (t *tmplState) fold(o *tmplState, alpha float64) {
	if o.first.Before(t.first) {
		t.first = o.first
	}
	if o.last.After(t.last) {
		t.last, t.example = o.last, o.example
	}
	if o.rareAt.After(t.rareAt) {
		t.rareAt = o.rareAt
	}
	t.n += o.n
	t.base += o.base
	t.silent = t.silent && o.silent
	t.warn = t.warn || o.warn
	t.c.fold(&o.c, alpha)
}

// fold adds o's counts and baseline to c's, in c's window.
func (c *counter) fold(o *counter, alpha float64) {
	if o.closed == 0 && o.n == 0 {
		return
	}
	if c.closed == 0 && c.n == 0 && c.win == 0 {
		*c = *o
		return
	}
	switch {
	case o.win > c.win:
		c.advance(o.win, alpha)
		c.n += o.n
	case o.win == c.win:
		c.n += o.n
	} // an older window of o is in its baseline already
	c.ewma += o.ewma
	c.closed = max(c.closed, o.closed)
	c.firing = c.firing || o.firing
	if o.held.After(c.held) {
		c.held = o.held
	}
	for i := range c.hist {
		c.hist[i] = uint16(min(int(c.hist[i])+int(o.hist[i]), math.MaxUint16))
	}
}

// push records a closed window's count.
func (c *counter) push(n int) {
	copy(c.hist[:], c.hist[1:])
	c.hist[HistoryWindows-1] = uint16(min(n, math.MaxUint16))
}

// NewStage returns a stage; fields of cfg out of range take their defaults
// (call cfg.Validate first to reject them instead).
func NewStage(cfg Config, logger *slog.Logger) *Stage {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Validate() != nil {
		cfg = Config{}
	}
	cfg = cfg.withDefaults()
	return &Stage{
		cfg:   cfg,
		log:   logger.With("component", "detect/logs"),
		miner: NewMiner(cfg.Miner),
		ents:  make(map[string]*entity),
	}
}

// Templates returns the templates mined so far, by id.
func (s *Stage) Templates() []Template {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.miner.Templates()
}

// Len is how many templates the stage holds, without copying them.
func (s *Stage) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.miner.Len()
}

// Stats returns the miner's counters: lines mined, and those that were
// empty, truncated or not valid UTF-8.
func (s *Stage) Stats() MinerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.miner.Stats()
}

// Process mines the records' bodies and returns the patterns they complete.
func (s *Stage) Process(recs []signal.LogRecord) []signal.Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var obs []signal.Observation
	for i := range recs {
		obs = s.record(&recs[i], obs)
	}
	return obs
}

func (s *Stage) record(r *signal.LogRecord, obs []signal.Observation) []signal.Observation {
	m := s.miner.AddInto(r.Body, s.params)
	s.params = m.Params[:0]
	if m.ID == 0 {
		return obs
	}
	if j := s.miner.Joins(); j != s.joins {
		s.joins = j
		s.foldMerged()
	}
	e := s.ents[r.Entity]
	if e == nil {
		e = &entity{first: r.Time, tmpls: make(map[uint64]*tmplState)}
		s.ents[r.Entity] = e
	}
	if r.Time.After(e.last) {
		e.last = r.Time
	}
	warm := r.Time.Sub(e.first) >= s.cfg.WarmUp
	ts := e.tmpls[m.ID]
	if ts == nil {
		if len(e.tmpls) >= s.cfg.MaxTemplatesPerEntity {
			e.dropOldest()
		}
		ts = &tmplState{first: r.Time}
		e.tmpls[m.ID] = ts
		if warm {
			obs = append(obs, signal.Observation{
				Time: r.Time, Start: r.Time, Entity: r.Entity, Kind: signal.LogNewTemplate,
				Name: strconv.FormatUint(m.ID, 10), Score: newTemplateScore(r.Severity), Actual: 1,
				Summary:  "new log template: " + truncate(m.Template, 200),
				Evidence: evidence(m.Template, r.Body, 1),
			})
		}
	}
	// A known template that has been rare in the entity's records so far.
	// Rare informational lines (a nightly job, a cache rebuilt) are the
	// daily noise of a healthy service; rare warnings and errors are not.
	if warm && ts.n > 0 && r.Severity.AtLeast(signal.SeverityWarn) && ts.n <= int64(s.cfg.RareMax) && float64(ts.n) < s.cfg.RareShare*float64(e.total) &&
		(ts.rareAt.IsZero() || r.Time.Sub(ts.rareAt) >= s.cfg.Repeat) {
		ts.rareAt = r.Time
		ev := evidence(m.Template, r.Body, int(ts.n)+1)
		ev["share"] = strconv.FormatFloat(float64(ts.n)/float64(e.total), 'g', 3, 64)
		ev["last_seen"] = ts.last.UTC().Format(time.RFC3339)
		obs = append(obs, signal.Observation{
			Time: r.Time, Start: r.Time, Entity: r.Entity, Kind: signal.LogRare,
			Name: strconv.FormatUint(m.ID, 10), Score: newTemplateScore(r.Severity) * 0.8,
			Actual: float64(ts.n) + 1, Expected: float64(ts.n) / float64(e.total),
			Summary:  fmt.Sprintf("rare log template (%d before in %d records): %s", ts.n, e.total, truncate(m.Template, 160)),
			Evidence: ev,
		})
	}
	e.total++
	ts.n++
	ts.silent = false
	ts.warn = ts.warn || r.Severity.AtLeast(signal.SeverityWarn)
	if r.Time.After(ts.last) {
		ts.last = r.Time
		ts.example = strings.Clone(truncate(r.Body, exampleMax))
	}
	w := s.cfg.Window
	ts.c.add(r.Time, w, s.cfg.Alpha, r.Body)
	if ts.c.closed > 0 {
		ts.base = ts.c.ewma
	}
	// A template needs a closed window of its own before its rate means
	// anything; a new one is reported as new, not as a burst.
	if warm && ts.c.closed > 0 {
		if o, ok := s.check(&ts.c, r.Time, s.cfg.MinBurst); ok {
			o.Entity, o.Kind, o.Name = r.Entity, signal.LogBurst, strconv.FormatUint(m.ID, 10)
			o.Summary = fmt.Sprintf("log template burst: %d in %v, expected %.1f: %s", ts.c.n, w, o.Expected, truncate(m.Template, 160))
			o.Evidence = evidence(m.Template, ts.c.example, ts.c.n)
			obs = append(obs, o)
		}
	}
	if r.Severity.AtLeast(signal.SeverityError) {
		if e.errs.add(r.Time, w, s.cfg.Alpha, r.Body) || e.errTmpl == nil {
			e.errTmpl = make(map[uint64]int)
		}
		e.errTmpl[m.ID]++
		if warm {
			if o, ok := s.check(&e.errs, r.Time, s.cfg.MinErrors); ok {
				id, text := s.topError(e)
				o.Entity, o.Kind, o.Name = r.Entity, signal.LogErrorBurst, strconv.FormatUint(id, 10)
				o.Summary = fmt.Sprintf("error logs burst: %d in %v, expected %.1f", e.errs.n, w, o.Expected)
				o.Evidence = evidence(text, e.errs.example, e.errs.n)
				obs = append(obs, o)
			}
		}
	}
	return obs
}

// History is what the stage keeps of one template of an entity, for
// showing a log finding: its text, the counts of its recent windows and
// example lines.
type History struct {
	Template string
	// Window is the counting window's length.
	Window time.Duration
	// Windows are the template's recent windows, oldest first: the closed
	// ones it keeps (HistoryWindows at most, since it was first seen) and
	// the current one.
	Windows []WindowCount
	// Examples are the first line of the current window and the last line
	// seen (one when they are the same).
	Examples []string
}

// WindowCount is how many records of a template came in the window that
// began at Start.
type WindowCount struct {
	Start time.Time
	Count int
}

// History returns what the stage keeps of template id in entity, or false
// when it keeps nothing of it (never seen there, or forgotten as idle).
func (s *Stage) History(entity string, id uint64) (History, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.ents[entity]
	if e == nil {
		return History{}, false
	}
	ts := e.tmpls[id]
	if ts == nil {
		return History{}, false
	}
	h := History{Window: s.cfg.Window}
	if t, ok := s.miner.Template(id); ok {
		h.Template = t.Text
	}
	c := &ts.c
	w := int64(s.cfg.Window)
	first := windowOf(ts.first, s.cfg.Window)
	for k := range HistoryWindows {
		idx := c.win - int64(HistoryWindows-k)
		if idx < first {
			continue
		}
		h.Windows = append(h.Windows, WindowCount{Start: time.Unix(0, idx*w).UTC(), Count: int(c.hist[k])})
	}
	h.Windows = append(h.Windows, WindowCount{Start: time.Unix(0, c.win*w).UTC(), Count: c.n})
	for _, ex := range []string{c.example, ts.example} {
		if ex != "" && !slices.Contains(h.Examples, ex) {
			h.Examples = append(h.Examples, ex)
		}
	}
	return h, true
}

// topError names the commonest error template of the current window.
func (s *Stage) topError(e *entity) (uint64, string) {
	var id uint64
	best := 0
	for k, n := range e.errTmpl {
		if n > best || (n == best && k < id) {
			id, best = k, n
		}
	}
	t, _ := s.miner.Template(id)
	return id, t.Text
}

func (e *entity) dropOldest() {
	var id uint64
	var oldest time.Time
	for k, ts := range e.tmpls {
		if id == 0 || ts.last.Before(oldest) {
			id, oldest = k, ts.last
		}
	}
	delete(e.tmpls, id)
}

// add counts a record at t, closing the windows before it first; it
// reports whether a new window began.
func (c *counter) add(t time.Time, w time.Duration, alpha float64, body string) bool {
	idx := windowOf(t, w)
	began := c.advance(idx, alpha) || c.n == 0
	c.n++
	if c.n == 1 {
		c.start = t
		c.example = strings.Clone(truncate(body, exampleMax))
	}
	return began
}

func windowOf(t time.Time, w time.Duration) int64 {
	ns := t.UnixNano()
	idx := ns / int64(w)
	if ns < 0 && ns%int64(w) != 0 {
		idx--
	}
	return idx
}

// advance closes the windows before idx into the baseline. A window that
// fired teaches the baseline only a little, so that a long burst is not
// learned as normal at once. Records late for a closed window count in the
// current one.
func (c *counter) advance(idx int64, alpha float64) bool {
	if c.closed == 0 && c.n == 0 && c.win == 0 {
		c.win = idx
		return true
	}
	if idx <= c.win {
		return false
	}
	a := alpha
	if c.firing {
		a = alpha / 10
	}
	if c.closed == 0 {
		c.ewma = float64(c.n)
	} else {
		c.ewma += a * (float64(c.n) - c.ewma)
	}
	c.push(c.n)
	for range min(idx-c.win-1, HistoryWindows) {
		c.push(0)
	}
	if gap := idx - c.win - 1; gap > 0 {
		c.ewma *= math.Pow(1-alpha, float64(min(gap, 10000)))
	}
	c.closed += int(min(idx-c.win, 1<<30))
	c.win, c.n, c.example = idx, 0, ""
	return true
}

// check runs the tail test on the current window's count and fires once
// per persisting pattern.
func (s *Stage) check(c *counter, t time.Time, minCount int) (signal.Observation, bool) {
	if c.firing && t.Sub(c.held) >= s.cfg.Repeat {
		c.firing = false
	}
	lambda := max(c.ewma, minRate)
	high := max(float64(minCount), s.cfg.MinRatio*lambda)
	if float64(c.n) < high {
		return signal.Observation{}, false
	}
	lp := poissonLogTail(c.n, lambda)
	if lp > math.Log(s.cfg.PValue) {
		return signal.Observation{}, false
	}
	c.held = t
	if c.firing {
		return signal.Observation{}, false
	}
	c.firing = true
	return signal.Observation{
		Time: t, Start: c.start, Score: tailScore(lp),
		Actual: float64(c.n), Expected: lambda, Low: 0, High: high,
		Evidence: map[string]string{"direction": "up"},
	}, true
}

// poissonLogTail is ln P(X ≥ k) for X ~ Poisson(lambda), summed in log
// space so that huge counts do not underflow to a useless zero.
func poissonLogTail(k int, lambda float64) float64 {
	if k <= 0 {
		return 0
	}
	lg, _ := math.Lgamma(float64(k) + 1)
	term := -lambda + float64(k)*math.Log(lambda) - lg
	// Sum the terms relative to the first: 1 + λ/(k+1) + λ²/((k+1)(k+2)) ...
	sum, r := 1.0, 1.0
	for j := k + 1; j < k+1000; j++ {
		r *= lambda / float64(j)
		sum += r
		if r < 1e-12*sum {
			break
		}
	}
	return min(term+math.Log(sum), 0)
}

// newTemplateScore weighs a never-seen template by its level. Rare code
// paths log new lines in healthy systems too, so a new template alone stays
// below the score at which one observation opens an incident; it
// corroborates other evidence.
func newTemplateScore(sev signal.Severity) float64 {
	switch {
	case sev.AtLeast(signal.SeverityFatal):
		return 0.85
	case sev.AtLeast(signal.SeverityError):
		return 0.75
	case sev.AtLeast(signal.SeverityWarn):
		return 0.6
	default:
		return 0.4
	}
}

// tailScore maps a tail probability to [0,1]: 1e-6 scores about 0.45,
// 1e-20 about 0.86.
func tailScore(logP float64) float64 {
	decades := -logP / math.Ln10
	return math.Max(0, math.Min(1, 1-math.Exp(-decades/10)))
}

// Tick closes the windows that ended by now, reports steady templates gone
// silent, ends the suppression of patterns that stopped, and drops entities
// and templates idle longer than IdleTTL. Bursts are recognised as records
// arrive; silence can only be seen here.
func (s *Stage) Tick(now time.Time) []signal.Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := windowOf(now, s.cfg.Window)
	var obs []signal.Observation
	for name, e := range s.ents {
		if now.Sub(e.last) > s.cfg.IdleTTL {
			delete(s.ents, name)
			continue
		}
		e.errs.tick(idx, now, s.cfg)
		// A template is silent only while its entity still logs: a
		// service that stopped logging altogether is another matter.
		active := now.Sub(e.last) < s.cfg.Window
		for id, ts := range e.tmpls {
			if now.Sub(ts.last) > s.cfg.IdleTTL {
				delete(e.tmpls, id)
				continue
			}
			ts.c.tick(idx, now, s.cfg)
			if active && !ts.silent && now.Sub(e.first) >= s.cfg.WarmUp {
				if o, ok := s.silence(name, id, ts, now); ok {
					obs = append(obs, o)
				}
			}
		}
	}
	slices.SortFunc(obs, func(a, b signal.Observation) int {
		return strings.Compare(a.Entity+"/"+a.Name, b.Entity+"/"+b.Name)
	})
	return obs
}

// silence reports a steady template with no record for so many windows
// that a Poisson count at its baseline would almost never be zero that
// long: P(0) = exp(-base·k) below PValue. Only a template of routine lines
// can fall silent: warnings and errors stopping is good news.
func (s *Stage) silence(entity string, id uint64, ts *tmplState, now time.Time) (signal.Observation, bool) {
	if ts.base < s.cfg.SilenceMin || ts.c.closed < 3 || ts.warn {
		return signal.Observation{}, false
	}
	k := float64(now.Sub(ts.last)) / float64(s.cfg.Window)
	if k < 2 || -ts.base*k > math.Log(s.cfg.PValue) {
		return signal.Observation{}, false
	}
	ts.silent = true
	text := ""
	if t, ok := s.miner.Template(id); ok {
		text = t.Text
	}
	ev := evidence(text, ts.example, 0)
	ev["direction"] = "down"
	ev["silent_for"] = now.Sub(ts.last).String()
	ev["baseline_per_window"] = strconv.FormatFloat(ts.base, 'f', 1, 64)
	return signal.Observation{
		Time: now, Start: ts.last, Entity: entity, Kind: signal.LogSilence,
		Name: strconv.FormatUint(id, 10), Score: tailScore(-ts.base * k),
		Actual: 0, Expected: ts.base, Low: 0, High: ts.base,
		Summary:  fmt.Sprintf("log template silent for %v, expected %.1f per %v: %s", now.Sub(ts.last).Round(time.Second), ts.base, s.cfg.Window, truncate(text, 160)),
		Evidence: ev,
	}, true
}

func (c *counter) tick(idx int64, now time.Time, cfg Config) {
	if c.closed > 0 || c.n > 0 {
		c.advance(idx, cfg.Alpha)
	}
	if c.firing && now.Sub(c.held) >= cfg.Repeat {
		c.firing = false
	}
}

func evidence(template, example string, n int) map[string]string {
	return map[string]string{
		"template": template,
		"example":  strings.Clone(truncate(example, exampleMax)),
		"count":    strconv.Itoa(n),
	}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
