// Package sim is a simulated microservice shop that produces realistic
// telemetry (metrics, logs, traces, events) with faults injected on demand
// and a record of the ground truth.
//
// It exists so that seer's detectors and root-cause analysis can be tested
// end to end, and demonstrated, without a real platform: every simulated
// request walks the shop's call graph, so latency composes along the path,
// errors propagate to callers, crashed services refuse connections and a
// leak ends in an OOM kill, and the signals carry the sampling noise real
// ones do. The world runs on simulated time only and is deterministic: the
// same Config and the same Inject calls give the same batches, byte for byte.
//
// Every MetricInterval each service (the entity) reports request_rate,
// error_ratio, latency_p50_ms, latency_p95_ms, latency_p99_ms,
// cpu_utilization, memory_utilization, gc_pause_ms and up, and the queue
// also queue_depth; a service that is down reports only up = 0 and
// request_rate = 0. Faults act from the first step that begins at or after
// their start. Order notifications travel asynchronously: checkout publishes
// to the queue and notification consumes from it in traces of its own.
package sim
