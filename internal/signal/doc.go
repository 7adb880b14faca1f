// Package signal is seer's vocabulary: the telemetry it reads (samples, log
// records, spans), the change and alarm events it is told about, and what it
// makes of them (observations, incidents, rules, executions).
//
// It is a leaf: it imports only the standard library, so that every stage of
// the pipeline (ingest, detect, knowledge, infer, remedy, api) and the
// simulator can share these types without depending on one another.
//
// Entities are named by plain strings. A service is its name ("checkout"); an
// instance is "service/instance" ("checkout/checkout-1"); a host is
// "host:NAME". Every signal carries the entity it is about.
package signal
