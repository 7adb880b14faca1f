// Package sim is a simulated microservice world that produces realistic
// telemetry (metrics, logs, traces, events) with faults injected on demand
// and a record of the ground truth.
//
// It exists so that seer's detectors and root-cause analysis can be tested
// end to end, and demonstrated, without a real platform: every simulated
// request walks the call graph, so latency composes along the path, errors,
// timeouts and retries propagate to callers, crashed services refuse
// connections and a leak ends in an OOM kill, and the signals carry the
// sampling noise real ones do. The world runs on simulated time only and is
// deterministic: the same Config, topology and Inject calls give the same
// batches, byte for byte.
//
// Worlds: NewShop is the demo's eleven-service shop, whose output is frozen
// (testdata/legacy.sha256) because the engine's tuned tests run on it; New
// builds a world from a Topology: Shop ("bigshop", seventeen services with
// replicas on six hosts, two queues, two external dependencies), one decoded
// from YAML (package sim/scenario), or Random (N services, depth, fan-out,
// seed). Services are web, app, db, cache, queue or external; calls are
// synchronous with timeouts and retries, or asynchronous through a queue
// that a consumer drains.
//
// Every MetricInterval each service (the entity) reports request_rate,
// error_ratio, latency_p50_ms, latency_p95_ms, latency_p99_ms,
// cpu_utilization, memory_utilization, gc_pause_ms and up, a queue also
// queue_depth; a service that is down reports only up = 0 and
// request_rate = 0; an external dependency reports nothing. With
// Config.Detail a service also reports disk_utilization, tcp_retransmits,
// pool_in_use and pool_utilization (when it calls stores) and lock_waits (a
// database); each replica reports up, request_rate, error_ratio,
// latency_p99_ms, cpu_utilization and memory_utilization with the labels
// instance and host; each host ("host:node-N") cpu_utilization,
// memory_utilization and disk_utilization. Config.Traffic adds daily and
// weekly cycles, noise and bursts. Faults act from the first step that
// begins at or after their start.
//
// Ground truth: Truth names the fault's kind, its target (the root-cause
// entity), start, end and the services it can move. The kinds, which are
// also the root_cause.kind values of an exported case:
//
//	latency     the target answers Magnitude ms slower
//	errors      the target fails a fraction of its requests
//	crash       the target (or, with Instance, one replica) is down
//	cpu         the target's CPU is saturated, its work slower
//	leak        the target's memory ramps to an OOM kill and restart
//	disk        the target's disk fills; once full its writes fail
//	net_loss    packets between target and Peer are lost: retransmits, timeouts
//	partition   calls between target and Peer all time out
//	slow_query  the target database is slow and its queries wait on locks
//	pool        the target leaks pooled connections until callers wait and fail
//	surge       the traffic at the target, an entry service, multiplies
//	deploy      a deploy event on the target, then errors and a slow-down
//	config      a config event on the target, then errors
//	external    the target, an external dependency, fails and is slow
//
// World.Change schedules change events that cause nothing: the noise a
// diagnosis must see past.
package sim
