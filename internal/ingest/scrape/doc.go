// Package scrape pulls metrics from the Prometheus /metrics endpoints of
// configured targets, as Prometheus itself would, and turns them into
// samples the detectors read: gauges as they are, counters as per-second
// rates, histograms as the rate and quantiles of what they observed since
// the previous scrape. Every scrape also yields `up` (1 when the target
// answered, 0 when not) and `scrape_duration_seconds`, which is how a
// target that hangs or dies shows up at all.
package scrape
