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
// autocorrelation of bucket means. Utilization series also keep a decimated
// window whose Theil-Sen slope and Mann-Kendall statistic give a time to
// exhaustion. A Stage keeps one Detector per series and rate-limits the
// observations it emits.
package metric
