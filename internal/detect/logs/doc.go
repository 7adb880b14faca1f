// Package logs recognises patterns in log streams. It turns each log line
// into a template with an online Drain-family miner (the variable parts
// masked by hand-written scanners), and watches per entity for templates
// never seen before, for bursts of one template and for bursts of errors,
// emitting them as observations.
//
// Nothing here reads the wall clock: windows and warm-up are driven by the
// records' own times and by the now passed to Tick, so that a simulated world
// replayed faster than real time gives the same results.
package logs
