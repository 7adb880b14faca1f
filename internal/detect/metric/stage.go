package metric

import (
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seerops/seer/internal/semconv"
	"github.com/seerops/seer/internal/signal"
)

// Stats counts what a Stage has seen and done.
type Stats struct {
	Series     int    `json:"series"`
	Samples    uint64 `json:"samples"`
	NonFinite  uint64 `json:"non_finite"`
	OutOfOrder uint64 `json:"out_of_order"`
	Dropped    uint64 `json:"dropped"` // samples of new series beyond MaxSeries
	Anomalies  uint64 `json:"anomalies"`
	Forecasts  uint64 `json:"forecasts"`
	// EntityCut counts samples of series dropped because their entity had
	// MaxSeriesPerEntity label sets already.
	EntityCut uint64 `json:"entity_cut"`
	// LabelsCut counts labels left off findings beyond MaxLabels.
	LabelsCut uint64 `json:"labels_cut"`
	// OverBudget counts findings a series had no token for (Config.Budget).
	OverBudget uint64 `json:"over_budget"`
	// Unjudged counts the anomalous runs of series whose meaning tells no
	// trouble (semconv.Meaning.Judged), learned and not reported.
	Unjudged uint64 `json:"unjudged"`
	// Derived counts the saturation samples derived from their parts.
	Derived uint64 `json:"derived"`
	// EntityRows counts the rows the entity detectors scored (one per
	// entity and scrape), EntityFindings the joint findings, and
	// EntityFolded the members' own findings folded into them.
	EntityRows     uint64 `json:"entity_rows"`
	EntityFindings uint64 `json:"entity_findings"`
	EntityFolded   uint64 `json:"entity_folded"`
}

// key identifies a series as Sample.SeriesKey does, without building a
// string for the common unlabelled sample.
type key struct {
	entity, name, labels string
}

type series struct {
	d        *Detector
	lastEmit time.Time
	emitted  bool    // an observation was emitted for the current run
	peak     float64 // the highest score emitted for the current run
	lastSeen time.Time
	// negative is set once the series has shown a value below 0: until
	// then its expected range is not drawn below 0 (a rate, a size).
	negative bool
	// tokens is the series' alert budget (Config.Budget); hi and lo are
	// the extremes of its anomalous values so far, the level a run must
	// pass to be reported without a token.
	tokens float64
	hi, lo float64
	seenHi bool
	// free is set for series the budget does not apply to: up and
	// restarts, where every fall or crash is news however often it came.
	free bool
	// judged is set for series whose anomalies are findings (see
	// semconv.Meaning.Judged); the others are learned, not reported. Nor
	// are the anomalies in mute, the direction that is no trouble (Down
	// for a quantity bad when it rises: memory freed, a CPU idle).
	judged bool
	mute   string
}

// partKey identifies the parts of one derived saturation: the entity, the
// ratio's name and the label set the parts share.
type partKey struct {
	entity, ratio, labels string
}

// parts holds the newest free and total values of one derived saturation.
type parts struct {
	free, total     float64
	freeAt, totalAt time.Time
	done            time.Time // the time a sample was last derived for
}

// Stage runs one Detector per series and turns their alarms into
// observations. It is safe for concurrent use.
type Stage struct {
	cfg       Config
	log       *slog.Logger
	table     *semconv.Table
	mu        sync.Mutex
	series    map[key]*series
	perEntity map[string]int
	parts     map[partKey]*parts
	joints    map[string]*joint // by entity (Config.EntityMetrics)
	held      []*joint          // joints holding findings until Process returns
	stats     Stats
	full      bool // MaxSeries was reached and logged
}

// NewStage returns a stage; an invalid cfg is replaced by DefaultConfig and
// logged, since the stage must run regardless.
func NewStage(cfg Config, logger *slog.Logger) *Stage {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "detect.metric")
	if err := cfg.Validate(); err != nil {
		logger.Error("invalid metric detector config, using defaults", "err", err)
		cfg = DefaultConfig()
	}
	return &Stage{cfg: cfg, log: logger, table: semconv.Default, series: make(map[key]*series),
		perEntity: make(map[string]int), parts: make(map[partKey]*parts), joints: make(map[string]*joint)}
}

// UseSemantics makes the stage read series by t (the one semantics table
// of the engine, with the user's rules) instead of the built-in table; it
// applies to series seen from then on.
func (s *Stage) UseSemantics(t *semconv.Table) {
	if t == nil {
		return
	}
	s.mu.Lock()
	s.table = t
	s.mu.Unlock()
}

// Series is the number of series tracked.
func (s *Stage) Series() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.series)
}

// Stats returns the counters.
func (s *Stage) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Series = len(s.series)
	return st
}

// Skipped is the number of samples ignored as NaN, infinite, out of order
// or beyond MaxSeries.
func (s *Stage) Skipped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.NonFinite + s.stats.OutOfOrder + s.stats.Dropped
}

// Forget drops the series not seen since before, returning how many, so
// that the state of departed instances does not accumulate.
func (s *Stage) Forget(before time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, ser := range s.series {
		if ser.lastSeen.Before(before) {
			if j := s.joints[k.entity]; j != nil {
				if _, member := j.members[k]; member {
					delete(s.joints, k.entity) // gathered again from what remains
				}
			}
			delete(s.series, k)
			if s.perEntity[k.entity]--; s.perEntity[k.entity] <= 0 {
				delete(s.perEntity, k.entity)
			}
			n++
		}
	}
	for k, p := range s.parts {
		if p.freeAt.Before(before) && p.totalAt.Before(before) {
			delete(s.parts, k)
		}
	}
	if n > 0 {
		s.full = false
	}
	return n
}

// Process scores the samples in order and returns the observations they
// raise: one when a series becomes anomalous, then at most one per Repeat
// while it stays so (within the series' budget), and one per exhaustion
// forecast. Saturations the semantics table derives from parts
// (node_filesystem_avail_bytes / size_bytes) are scored as series of their
// own, once both parts of a scrape are in.
func (s *Stage) Process(samples []signal.Sample) []signal.Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []signal.Observation
	for i := range samples {
		smp := &samples[i]
		out = s.process(out, smp, true)
		if d, ok := s.derive(smp); ok {
			s.stats.Derived++
			// A derived saturation is a function of its parts, which are
			// members of the entity's joint model already.
			out = s.process(out, &d, false)
		}
	}
	// A row still open keeps no finding past the call: what its members
	// reported goes out now, unfolded.
	for _, j := range s.held {
		out = s.release(out, j)
	}
	clear(s.held)
	s.held = s.held[:0]
	return out
}

// derive returns the saturation smp completes, if it is the second part of
// one to arrive for its time.
func (s *Stage) derive(smp *signal.Sample) (signal.Sample, bool) {
	r, total, ok := s.table.PartOf(smp.Name)
	if !ok || math.IsNaN(smp.Value) || math.IsInf(smp.Value, 0) {
		return signal.Sample{}, false
	}
	k := partKey{entity: smp.Entity, ratio: r.Name}
	if len(smp.Labels) > 0 {
		k.labels = signal.Sample{Labels: smp.Labels}.SeriesKey()
	}
	p := s.parts[k]
	if p == nil {
		if len(s.parts) >= s.cfg.MaxSeries {
			return signal.Sample{}, false
		}
		p = &parts{}
		s.parts[k] = p
	}
	if total {
		p.total, p.totalAt = smp.Value, smp.Time
	} else {
		p.free, p.freeAt = smp.Value, smp.Time
	}
	if !p.freeAt.Equal(p.totalAt) || !p.freeAt.After(p.done) || p.total <= 0 {
		return signal.Sample{}, false
	}
	p.done = p.freeAt
	used := min(1, max(0, 1-p.free/p.total))
	return signal.Sample{Time: smp.Time, Entity: smp.Entity, Name: r.Name, Labels: smp.Labels, Value: used}, true
}

// newSeries starts the detector of a series the stage has not seen, or
// returns nil when a bound keeps it out.
func (s *Stage) newSeries(k key, smp *signal.Sample) *series {
	if len(s.series) >= s.cfg.MaxSeries {
		s.stats.Dropped++
		if !s.full {
			s.full = true
			s.log.Warn("too many metric series, new ones are dropped", "max_series", s.cfg.MaxSeries)
		}
		return nil
	}
	if s.perEntity[k.entity] >= s.cfg.MaxSeriesPerEntity {
		if s.stats.EntityCut == 0 {
			s.log.Warn("an entity has too many metric series, new ones are dropped", "entity", k.entity,
				"max_series_per_entity", s.cfg.MaxSeriesPerEntity)
		}
		s.stats.EntityCut++
		return nil
	}
	cfg := s.cfg
	m := s.table.Of(smp.Name, smp.Labels)
	// A time is not news below what anyone notices (a millisecond): a
	// scrape collector taking 2 ms instead of 0.05 ms is no finding.
	cfg.MinScale = max(cfg.MinScale, m.Floor())
	cfg.Forecast = m.Saturation && m.Bad == semconv.Rise
	if cfg.Forecast {
		cfg.ForecastLimit = m.Limit
	}
	switch m.Quantity {
	case semconv.Memory, semconv.Disk, semconv.Pool, semconv.FileDesc:
	default:
		cfg.ForecastRamp = 0
	}
	d, err := NewDetector(cfg)
	if err != nil { // cannot happen: NewStage validated cfg
		s.stats.Dropped++
		return nil
	}
	s.perEntity[k.entity]++
	ser := &series{d: d, tokens: s.cfg.Budget, free: m.Quantity == semconv.Up || m.Quantity == semconv.Restarts, judged: m.Judged()}
	switch m.Bad {
	case semconv.Rise:
		ser.mute = Down
	case semconv.Fall:
		ser.mute = Up
	}
	return ser
}

// process scores one sample; member tells whether its series may be a
// member of its entity's joint model.
func (s *Stage) process(out []signal.Observation, smp *signal.Sample, member bool) []signal.Observation {
	s.stats.Samples++
	k := key{entity: smp.Entity, name: smp.Name}
	if len(smp.Labels) > 0 {
		k.labels = smp.SeriesKey()
	}
	ser := s.series[k]
	if ser == nil {
		if ser = s.newSeries(k, smp); ser == nil {
			return out
		}
		s.series[k] = ser
	}
	skipped, ooo := ser.d.skipped, ser.d.outOfOrder
	r := ser.d.Observe(smp.Time, smp.Value)
	if ser.d.skipped != skipped {
		s.stats.NonFinite++
		return out
	}
	if ser.d.outOfOrder != ooo {
		s.stats.OutOfOrder++
		return out
	}
	quiet := smp.Time.Sub(ser.lastSeen)
	if ser.lastSeen.IsZero() {
		quiet = 0
	}
	ser.lastSeen = smp.Time
	ser.negative = ser.negative || smp.Value < 0
	var j *joint
	col := -1
	if member {
		j, col = s.jointOf(k, ser, smp)
	}
	if col >= 0 {
		out = s.openRow(out, j, col, smp.Entity)
	}
	if !r.Anomalous && s.cfg.Budget > 0 {
		ser.tokens = min(s.cfg.Budget, ser.tokens+quiet.Seconds()/s.cfg.BudgetRefill.Seconds())
	}
	if r.New {
		ser.emitted, ser.peak = false, 0
	}
	// A run is reported once a Repeat, and at once when it worsens well
	// beyond what was reported (ReportGain times its score): a disk
	// filling fast first leaves its range faintly, and the correlator
	// must hear of it when it is beyond doubt, not a minute later.
	judged := ser.judged && r.Direction != ser.mute
	if r.Anomalous && !judged && r.New {
		s.stats.Unjudged++
	}
	if r.Anomalous && judged && (!ser.emitted || smp.Time.Sub(ser.lastEmit) >= s.cfg.Repeat || r.Score >= s.cfg.ReportGain*ser.peak) {
		if s.spend(ser, smp.Value) {
			ser.emitted, ser.lastEmit, ser.peak = true, smp.Time, max(ser.peak, r.Score)
			s.stats.Anomalies++
			o := anomaly(smp, r, !ser.negative)
			s.labels(&o, smp.Labels)
			if col >= 0 {
				s.hold(j, col, o)
			} else {
				out = append(out, o)
			}
		} else {
			s.stats.OverBudget++
		}
	}
	if r.Anomalous {
		if !ser.seenHi {
			ser.hi, ser.lo, ser.seenHi = smp.Value, smp.Value, true
		}
		ser.hi, ser.lo = max(ser.hi, smp.Value), min(ser.lo, smp.Value)
	}
	if r.Forecast.Fired {
		s.stats.Forecasts++
		o := s.forecast(smp, r.Forecast, ser.d.cfg.ForecastLimit)
		s.labels(&o, smp.Labels)
		out = append(out, o)
	}
	if col >= 0 {
		out = s.fillRow(out, j, col, smp)
	}
	return out
}

// spend takes a token of the series' budget for a finding at value v, or
// lets it through without one when v is a level beyond every anomalous
// value the series has shown.
func (s *Stage) spend(ser *series, v float64) bool {
	switch {
	case s.cfg.Budget <= 0 || ser.free:
		return true
	case ser.tokens >= 1:
		ser.tokens--
		return true
	}
	return !ser.seenHi || v > ser.hi || v < ser.lo
}

// labels puts a series' labels on its finding: in the summary, and one by
// one in the evidence as label.NAME, at most MaxLabels of them in name
// order, the rest counted.
func (s *Stage) labels(o *signal.Observation, labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	keys := slices.Sorted(maps.Keys(labels))
	cut := 0
	if len(keys) > s.cfg.MaxLabels {
		cut = len(keys) - s.cfg.MaxLabels
		keys = keys[:s.cfg.MaxLabels]
		s.stats.LabelsCut += uint64(cut)
		o.Evidence["labels_cut"] = strconv.Itoa(cut)
	}
	for _, k := range keys {
		o.Evidence["label."+k] = labels[k]
	}
	series := seriesString(o.Name, labels, keys, cut)
	o.Evidence["series"] = series
	o.Summary = series + strings.TrimPrefix(o.Summary, o.Name)
}

// seriesString writes a series as findings name it: name{k="v",…} for the
// label names keys (sorted), and how many more were cut.
func seriesString(name string, labels map[string]string, keys []string, cut int) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", k, labels[k])
	}
	if cut > 0 {
		fmt.Fprintf(&b, ",…%d more", cut)
	}
	b.WriteByte('}')
	return b.String()
}

// anomaly is the finding of an anomalous point; nonNeg draws the expected
// range of a series that has never gone below 0 no lower than 0.
func anomaly(smp *signal.Sample, r Result, nonNeg bool) signal.Observation {
	where := "above"
	if r.Direction == Down {
		where = "below"
	}
	if nonNeg {
		r.Low, r.Expected, r.High = max(0, r.Low), max(0, r.Expected), max(0, r.High)
	}
	return signal.Observation{
		Time:     smp.Time,
		Start:    r.Start,
		Entity:   smp.Entity,
		Kind:     signal.MetricAnomaly,
		Name:     smp.Name,
		Score:    r.Score,
		Actual:   smp.Value,
		Expected: r.Expected,
		Low:      r.Low,
		High:     r.High,
		Summary: fmt.Sprintf("%s %s %s expected %s–%s (%s)", smp.Name, num(smp.Value), where,
			num(r.Low), num(r.High), r.Feature),
		Evidence: map[string]string{"feature": r.Feature, "direction": r.Direction,
			"likelihood": strconv.FormatFloat(r.Likelihood, 'f', 3, 64)},
	}
}

func (s *Stage) forecast(smp *signal.Sample, f Forecast, limit float64) signal.Observation {
	// A significant trend that exhausts the resource within half the horizon
	// is as urgent as an outage (score 1); further out it fades to 0.5 at the
	// horizon. Forecasts are strict (see Config.ForecastRise), so an urgent
	// one may open an incident on its own.
	h := s.cfg.ForecastHorizon.Seconds()
	score := 0.5 + 0.5*min(1, max(0, (h-f.ETA.Seconds())/(h/2)))
	perMin := f.Slope * 60
	return signal.Observation{
		Time:     smp.Time,
		Start:    f.Since,
		Entity:   smp.Entity,
		Kind:     signal.MetricForecast,
		Name:     smp.Name,
		Score:    score,
		Actual:   smp.Value,
		Expected: f.Level,
		Low:      f.Level,
		High:     limit,
		Summary: fmt.Sprintf("%s %s rising %s/min, reaches %s in %s (trend)", smp.Name, num(smp.Value),
			num(perMin), num(limit), f.ETA),
		Evidence: map[string]string{
			"feature":       FeatureTrend,
			"direction":     Up,
			"eta":           f.ETA.String(),
			"slope_per_min": strconv.FormatFloat(perMin, 'g', 4, 64),
			"mann_kendall":  strconv.FormatFloat(f.Z, 'f', 2, 64),
		},
	}
}

// num formats a value with about three significant digits, readable for
// both latencies (850) and ratios (0.0052).
func num(v float64) string {
	if a := math.Abs(v); a >= 100 && a < 1e6 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
