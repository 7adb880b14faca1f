// Package logs recognises patterns in log streams. It turns each log line
// into a template with an online Drain-family miner (the variable parts
// masked by hand-written scanners, templates refined as lines arrive), and
// watches per entity for templates never seen before, rare ones coming
// back, steady ones going silent, and bursts of one template or of errors,
// emitting them as observations. The whole state can be saved and restored
// (Stage.MarshalBinary) so that a restart keeps its baselines.
//
// Nothing here reads the wall clock: windows and warm-up are driven by the
// records' own times and by the now passed to Tick, so that a simulated world
// replayed faster than real time gives the same results.
package logs
