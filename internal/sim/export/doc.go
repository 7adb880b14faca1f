// Package export writes what the simulated world produces to places outside
// the process: a case directory in the layout `seer eval rca` reads
// (case.json, metrics.csv, logs.jsonl, spans.jsonl, events.jsonl,
// topology.json), or an OTLP endpoint over HTTP or gRPC, so that the world
// can feed a running `seer run` or any OpenTelemetry collector.
//
// In metrics.csv a replica's series carries the entity "service/instance"
// (cart/cart-1) and a host's "host:NAME"; times in metrics.csv, logs.jsonl,
// events.jsonl and case.json are unix seconds (fractional for logs and
// events), span starts unix nanoseconds.
package export
