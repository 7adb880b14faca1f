package trace

import (
	"errors"
	"fmt"
	"time"
)

// Config bounds the stage's memory and sets its detection thresholds. Zero
// fields take the defaults of DefaultConfig.
type Config struct {
	// MaxTraces caps the traces buffered at once; spans of further traces
	// are shed.
	MaxTraces int `yaml:"max_traces"`
	// MaxSpansPerTrace caps one trace; further spans of it are shed.
	MaxSpansPerTrace int `yaml:"max_spans_per_trace"`
	// MaxBufferedSpans caps the spans buffered over all traces.
	MaxBufferedSpans int `yaml:"max_buffered_spans"`
	// MaxAttrs is the largest attribute map accepted whole; a larger one is
	// cut to the attributes the analysis reads.
	MaxAttrs int `yaml:"max_attrs"`
	// MaxFieldLen is the longest id, service or operation accepted.
	MaxFieldLen int `yaml:"max_field_len"`
	// MaxSeries caps the baselines kept (operations, caller→peer pairs).
	MaxSeries int `yaml:"max_series"`
	// MaxEdges caps the edges of the topology.
	MaxEdges int `yaml:"max_edges"`

	// Grace is how long after a trace's newest span ended it is complete.
	Grace time.Duration `yaml:"grace"`
	// CompletionTimeout is the oldest a trace may grow, counted from its
	// first span's start, before it is analysed as incomplete.
	CompletionTimeout time.Duration `yaml:"completion_timeout"`
	// MaxDuration is the longest span accepted.
	MaxDuration time.Duration `yaml:"max_duration"`
	// MaxFuture rejects spans ending this far after the latest Tick.
	MaxFuture time.Duration `yaml:"max_future"`
	// MaxLag rejects spans ending this far before the latest Tick.
	MaxLag time.Duration `yaml:"max_lag"`

	// Window is the span-time window baselines are aggregated in.
	Window time.Duration `yaml:"window"`
	// MinSamples is the fewest spans a window needs to be judged; sparser
	// windows are merged with the next ones, up to MaxMergeWindows.
	MinSamples int `yaml:"min_samples"`
	// MaxMergeWindows is the most windows merged to reach MinSamples.
	MaxMergeWindows int `yaml:"max_merge_windows"`
	// WarmupWindows is how many judged windows a baseline learns before
	// it may raise observations.
	WarmupWindows int `yaml:"warmup_windows"`
	// MemoryWindows is the EWMA memory of a warmed-up baseline.
	MemoryWindows int `yaml:"memory_windows"`
	// SeriesTTL drops a baseline not fed for this long.
	SeriesTTL time.Duration `yaml:"series_ttl"`

	// LatencyZ is how many standard deviations (of the window's mean log
	// self time) count as a latency anomaly.
	LatencyZ float64 `yaml:"latency_z"`
	// LatencyRatio is the least growth of the window's typical self time.
	LatencyRatio float64 `yaml:"latency_ratio"`
	// MinLatencyDelta is the least absolute growth of the typical self time.
	MinLatencyDelta time.Duration `yaml:"min_latency_delta"`
	// ErrorAlpha is the binomial tail probability below which an error (or
	// unreachable, or timeout) count is anomalous.
	ErrorAlpha float64 `yaml:"error_alpha"`
	// MinErrorRatio is the least rise of the ratio over its baseline.
	MinErrorRatio float64 `yaml:"min_error_ratio"`
	// MinErrors is the fewest failures in a window that can be anomalous.
	MinErrors int `yaml:"min_errors"`
	// Repeat is the least time between two observations of one persisting
	// pattern.
	Repeat time.Duration `yaml:"repeat"`

	// EdgeTTL ages out edges not seen for this long.
	EdgeTTL time.Duration `yaml:"edge_ttl"`
	// RateWindow is the recent window of an edge's rate, error ratio and
	// latency quantiles.
	RateWindow time.Duration `yaml:"rate_window"`

	// LocalizeWindow is how far back Localize looks; at most 64 Windows.
	LocalizeWindow time.Duration `yaml:"localize_window"`
	// LocalizeMemory is the memory, in windows, of the localisation
	// baselines (per-trace critical time, error origins, failed calls).
	LocalizeMemory int `yaml:"localize_memory"`
	// StructWarmup is how many executions an operation's fingerprint learns
	// before its deviations count.
	StructWarmup int `yaml:"struct_warmup"`
	// StructMemory is the memory, in executions, of a fingerprint and of
	// the duration sketches of operations and steps.
	StructMemory int `yaml:"struct_memory"`
	// StepBoundFactor scales a step's p99 duration into its time bound.
	StepBoundFactor float64 `yaml:"step_bound_factor"`
	// MaxSteps caps the distinct calls of one operation that are learned
	// and checked.
	MaxSteps int `yaml:"max_steps"`
	// MaxKnownFailures caps the negative fingerprints kept.
	MaxKnownFailures int `yaml:"max_known_failures"`

	// SeriesStep is the step of the series derived from the analysed
	// traces for investigations (signal.Series*: self time, server
	// duration, the gap in front of each callee, error origin, request rate
	// and fan-out per service).
	SeriesStep time.Duration `yaml:"series_step"`
}

// DefaultConfig is the configuration used for zero fields.
func DefaultConfig() Config {
	return Config{
		MaxTraces:         50_000,
		MaxSpansPerTrace:  2_000,
		MaxBufferedSpans:  1_000_000,
		MaxAttrs:          128,
		MaxFieldLen:       256,
		MaxSeries:         20_000,
		MaxEdges:          10_000,
		Grace:             2 * time.Second,
		CompletionTimeout: 30 * time.Second,
		MaxDuration:       24 * time.Hour,
		MaxFuture:         10 * time.Minute,
		MaxLag:            10 * time.Minute,
		Window:            5 * time.Second,
		MinSamples:        8,
		MaxMergeWindows:   12,
		WarmupWindows:     36,
		MemoryWindows:     120,
		SeriesTTL:         6 * time.Hour,
		LatencyZ:          5,
		LatencyRatio:      1.5,
		MinLatencyDelta:   2 * time.Millisecond,
		ErrorAlpha:        1e-6,
		MinErrorRatio:     0.05,
		MinErrors:         3,
		Repeat:            time.Minute,
		EdgeTTL:           15 * time.Minute,
		RateWindow:        time.Minute,
		LocalizeWindow:    time.Minute,
		LocalizeMemory:    720,
		StructWarmup:      200,
		StructMemory:      2000,
		StepBoundFactor:   2,
		MaxSteps:          64,
		MaxKnownFailures:  1000,
		SeriesStep:        time.Minute,
	}
}

// withDefaults fills the zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	setInt(&c.MaxTraces, d.MaxTraces)
	setInt(&c.MaxSpansPerTrace, d.MaxSpansPerTrace)
	setInt(&c.MaxBufferedSpans, d.MaxBufferedSpans)
	setInt(&c.MaxAttrs, d.MaxAttrs)
	setInt(&c.MaxFieldLen, d.MaxFieldLen)
	setInt(&c.MaxSeries, d.MaxSeries)
	setInt(&c.MaxEdges, d.MaxEdges)
	setDur(&c.Grace, d.Grace)
	setDur(&c.CompletionTimeout, d.CompletionTimeout)
	setDur(&c.MaxDuration, d.MaxDuration)
	setDur(&c.MaxFuture, d.MaxFuture)
	setDur(&c.MaxLag, d.MaxLag)
	setDur(&c.Window, d.Window)
	setInt(&c.MinSamples, d.MinSamples)
	setInt(&c.MaxMergeWindows, d.MaxMergeWindows)
	setInt(&c.WarmupWindows, d.WarmupWindows)
	setInt(&c.MemoryWindows, d.MemoryWindows)
	setDur(&c.SeriesTTL, d.SeriesTTL)
	setF(&c.LatencyZ, d.LatencyZ)
	setF(&c.LatencyRatio, d.LatencyRatio)
	setDur(&c.MinLatencyDelta, d.MinLatencyDelta)
	setF(&c.ErrorAlpha, d.ErrorAlpha)
	setF(&c.MinErrorRatio, d.MinErrorRatio)
	setInt(&c.MinErrors, d.MinErrors)
	setDur(&c.Repeat, d.Repeat)
	setDur(&c.EdgeTTL, d.EdgeTTL)
	setDur(&c.RateWindow, d.RateWindow)
	setDur(&c.LocalizeWindow, d.LocalizeWindow)
	setInt(&c.LocalizeMemory, d.LocalizeMemory)
	setInt(&c.StructWarmup, d.StructWarmup)
	setInt(&c.StructMemory, d.StructMemory)
	setF(&c.StepBoundFactor, d.StepBoundFactor)
	setInt(&c.MaxSteps, d.MaxSteps)
	setInt(&c.MaxKnownFailures, d.MaxKnownFailures)
	setDur(&c.SeriesStep, d.SeriesStep)
	return c
}

// Validate reports every field that is out of range; zero fields are valid
// because they take their defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	pos := func(name string, v int64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("trace: %s must be positive, got %d", name, v))
		}
	}
	pos("max_traces", int64(c.MaxTraces))
	pos("max_spans_per_trace", int64(c.MaxSpansPerTrace))
	pos("max_buffered_spans", int64(c.MaxBufferedSpans))
	pos("max_attrs", int64(c.MaxAttrs))
	pos("max_field_len", int64(c.MaxFieldLen))
	pos("max_series", int64(c.MaxSeries))
	pos("max_edges", int64(c.MaxEdges))
	pos("min_samples", int64(c.MinSamples))
	pos("max_merge_windows", int64(c.MaxMergeWindows))
	pos("warmup_windows", int64(c.WarmupWindows))
	pos("memory_windows", int64(c.MemoryWindows))
	pos("min_errors", int64(c.MinErrors))
	pos("localize_memory", int64(c.LocalizeMemory))
	pos("struct_warmup", int64(c.StructWarmup))
	pos("struct_memory", int64(c.StructMemory))
	pos("max_steps", int64(c.MaxSteps))
	pos("max_known_failures", int64(c.MaxKnownFailures))
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"grace", c.Grace}, {"completion_timeout", c.CompletionTimeout},
		{"max_duration", c.MaxDuration}, {"max_future", c.MaxFuture},
		{"max_lag", c.MaxLag}, {"window", c.Window}, {"series_ttl", c.SeriesTTL},
		{"min_latency_delta", c.MinLatencyDelta}, {"repeat", c.Repeat},
		{"edge_ttl", c.EdgeTTL}, {"rate_window", c.RateWindow},
		{"localize_window", c.LocalizeWindow}, {"series_step", c.SeriesStep},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("trace: %s must be positive, got %s", d.name, d.v))
		}
	}
	if c.CompletionTimeout > 0 && c.Grace > 0 && c.CompletionTimeout < c.Grace {
		errs = append(errs, fmt.Errorf("trace: completion_timeout (%s) must not be shorter than grace (%s)", c.CompletionTimeout, c.Grace))
	}
	if c.RateWindow > 0 && c.RateWindow < rateBuckets {
		errs = append(errs, fmt.Errorf("trace: rate_window must be at least %dns, got %s", rateBuckets, c.RateWindow))
	}
	if c.Window > 0 && c.LocalizeWindow > c.Window*locRing/2 {
		errs = append(errs, fmt.Errorf("trace: localize_window (%s) must be at most %d windows (%s)", c.LocalizeWindow, locRing/2, c.Window*locRing/2))
	}
	if !(c.StepBoundFactor >= 1) {
		errs = append(errs, fmt.Errorf("trace: step_bound_factor must be at least 1, got %g", c.StepBoundFactor))
	}
	if !(c.LatencyZ >= 0) {
		errs = append(errs, fmt.Errorf("trace: latency_z must be positive, got %g", c.LatencyZ))
	}
	if !(c.LatencyRatio >= 1) {
		errs = append(errs, fmt.Errorf("trace: latency_ratio must be at least 1, got %g", c.LatencyRatio))
	}
	if !(c.ErrorAlpha > 0 && c.ErrorAlpha < 1) {
		errs = append(errs, fmt.Errorf("trace: error_alpha must be in (0,1), got %g", c.ErrorAlpha))
	}
	if !(c.MinErrorRatio >= 0 && c.MinErrorRatio < 1) {
		errs = append(errs, fmt.Errorf("trace: min_error_ratio must be in [0,1), got %g", c.MinErrorRatio))
	}
	return errors.Join(errs...)
}
