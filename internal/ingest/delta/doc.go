// Package delta turns cumulative series into what seer's detectors read: a
// counter into its per-second rate, a histogram into the quantiles (p50,
// p95, p99) and the rate of the observations made since its last point.
//
// Both OTLP (cumulative sums and histograms) and Prometheus remote_write
// (counters and classic histograms) send running totals; a Tracker keeps
// the previous point of each series, bounded in number, and handles counter
// resets the way Prometheus's rate() does: a drop means the counter
// restarted from zero.
package delta
