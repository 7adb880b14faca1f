// Package metric is seer's streaming metric detector: it scores every point
// of every metric series causally (no look-ahead), turns the raw deviations
// into a probability-like score, and emits an Observation when a series leaves
// its expected range (metric.anomaly) or when a utilization series is forecast
// to reach its limit (metric.forecast).
//
// A Detector scores one series in O(1) amortised time and bounded memory by
// blending cheap scorers: a robust Holt level with side-specific EWMA scales
// (spike), a short EWMA of the standardised residual (level shift), and a
// seasonal residual once a period has been found in the data by
// autocorrelation of bucket means.
//
// Real series are not Gaussian: error ratios at low request rates are 0 most
// of the time with blips of 1/n, p99 latencies and GC pauses are heavy-tailed.
// So each scorer is gated by an empirical tail: a decaying log-spaced
// histogram of the series' own past deviations. A point is anomalous only
// when it is both improbable for a Gaussian and more than TailK times the
// largest deviation the series has shown recently. Blips that come and go
// within two points are learned as the series' behaviour; a lasting change is
// not, and stays anomalous until the slowed level has followed it.
//
// Score stays high for as long as a series is out of range; Result.Level
// and Result.Range are its two feature families' scores. Alerting once per
// anomaly for NAB's scorer (records, habits, repeat discounts) is done
// around the Detector in eval/nab, not here.
//
// An Entity scores the metrics of one entity (a host, a service) jointly:
// each row's residuals off the running principal subspace of the
// range-scaled metrics and each metric's departure from its recent level,
// combined by their root mean square and calibrated as a p-value against
// the entity's own recent scores, so that one threshold holds on every
// entity.
//
// Utilization series also keep a decimated window whose Theil-Sen slope and
// Mann-Kendall statistic give a time to exhaustion, reported only when the
// fitted rise stands out from both the residual noise and the long-run range
// of the series (a GC sawtooth rises steadily too, but within its range). A
// Stage keeps one Detector per series and rate-limits the observations it
// emits.
package metric
