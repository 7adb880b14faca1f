// Package promrw receives Prometheus remote_write (version 1: a
// snappy-compressed protobuf WriteRequest, as Prometheus and its agents
// send it) and hands the samples to the pipeline as seer's signals.
//
// The entity of a series is its "service" label, else its "job", else its
// "instance", else "unknown"; that label is not repeated among the
// sample's labels, and __name__ becomes the sample's name.
//
// Series are read by their name, as Prometheus's conventions have them:
//   - NAME_total, NAME_count and NAME_sum are counters, turned into their
//     per-second rate NAME_rate, NAME_count_rate and NAME_sum_rate (a drop
//     counts as a restart from zero);
//   - NAME_bucket series with an "le" label are a classic histogram, turned
//     into NAME_p50, NAME_p95, NAME_p99 and NAME_rate once every bucket of a
//     scrape has arrived (buckets may come in different requests);
//   - everything else is a gauge, passed on as it is.
//
// Staleness markers and other NaN values are dropped; native histograms are
// counted as unsupported.
package promrw
