package metric

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
}

// Stage runs one Detector per series and turns their alarms into
// observations. It is safe for concurrent use.
type Stage struct {
	cfg    Config
	log    *slog.Logger
	mu     sync.Mutex
	series map[key]*series
	stats  Stats
	full   bool // MaxSeries was reached and logged
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
	return &Stage{cfg: cfg, log: logger, series: make(map[key]*series)}
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
			delete(s.series, k)
			n++
		}
	}
	if n > 0 {
		s.full = false
	}
	return n
}

// Process scores the samples in order and returns the observations they
// raise: one when a series becomes anomalous, then at most one per Repeat
// while it stays so, and one per exhaustion forecast.
func (s *Stage) Process(samples []signal.Sample) []signal.Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []signal.Observation
	for i := range samples {
		smp := &samples[i]
		s.stats.Samples++
		k := key{entity: smp.Entity, name: smp.Name}
		if len(smp.Labels) > 0 {
			k.labels = smp.SeriesKey()
		}
		ser := s.series[k]
		if ser == nil {
			if len(s.series) >= s.cfg.MaxSeries {
				s.stats.Dropped++
				if !s.full {
					s.full = true
					s.log.Warn("too many metric series, new ones are dropped", "max_series", s.cfg.MaxSeries)
				}
				continue
			}
			cfg := s.cfg
			cfg.Forecast = cfg.ForecastSuffix != "" && strings.HasSuffix(smp.Name, cfg.ForecastSuffix)
			if !slices.ContainsFunc(cfg.ForecastRampNames, func(w string) bool { return strings.Contains(smp.Name, w) }) {
				cfg.ForecastRamp = 0
			}
			d, err := NewDetector(cfg)
			if err != nil { // cannot happen: NewStage validated cfg
				s.stats.Dropped++
				continue
			}
			ser = &series{d: d}
			s.series[k] = ser
		}
		skipped, ooo := ser.d.skipped, ser.d.outOfOrder
		r := ser.d.Observe(smp.Time, smp.Value)
		if ser.d.skipped != skipped {
			s.stats.NonFinite++
			continue
		}
		if ser.d.outOfOrder != ooo {
			s.stats.OutOfOrder++
			continue
		}
		ser.lastSeen = smp.Time
		if r.New {
			ser.emitted, ser.peak = false, 0
		}
		// A run is reported once a Repeat, and at once when it worsens well
		// beyond what was reported (ReportGain times its score): a disk
		// filling fast first leaves its range faintly, and the correlator
		// must hear of it when it is beyond doubt, not a minute later.
		if r.Anomalous && (!ser.emitted || smp.Time.Sub(ser.lastEmit) >= s.cfg.Repeat || r.Score >= s.cfg.ReportGain*ser.peak) {
			ser.emitted, ser.lastEmit, ser.peak = true, smp.Time, max(ser.peak, r.Score)
			s.stats.Anomalies++
			out = append(out, anomaly(smp, r))
		}
		if r.Forecast.Fired {
			s.stats.Forecasts++
			out = append(out, s.forecast(smp, r.Forecast))
		}
	}
	return out
}

func anomaly(smp *signal.Sample, r Result) signal.Observation {
	where := "above"
	if r.Direction == Down {
		where = "below"
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
		Evidence: map[string]string{"feature": r.Feature, "direction": r.Direction},
	}
}

func (s *Stage) forecast(smp *signal.Sample, f Forecast) signal.Observation {
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
		High:     s.cfg.ForecastLimit,
		Summary: fmt.Sprintf("%s %s rising %s/min, reaches %s in %s (trend)", smp.Name, num(smp.Value),
			num(perMin), num(s.cfg.ForecastLimit), f.ETA),
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
