// Package shop is the testbed's application: a small online shop whose
// services (front end, gateway, catalog, cart, checkout, payment, a SQLite
// database, a cache, a queue and a shipping worker) each run as their own
// OS process, instrumented with the OpenTelemetry Go SDK. Serve is one
// service's process; the testbed supervisor starts one per service by
// re-executing the seer binary with a hidden subcommand.
//
// Every service writes traces, metrics and request logs over OTLP/HTTP,
// exposes Prometheus metrics at /metrics (process CPU and memory, and the
// use of its data directory and memory against its quotas), answers
// /healthz, writes its lifecycle and failures to a log file, and has a
// control endpoint (/control/...) through which the fault injector makes
// trouble from inside: a CPU hog, a memory leak, a disk filling, a slow
// database, a configuration reload. Every inside fault carries its own
// deadline, so it ends even when the injector that asked for it is gone.
package shop
