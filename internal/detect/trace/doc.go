// Package trace turns distributed-trace spans into observations and into the
// service dependency graph.
//
// Spans are buffered per trace until the trace has quietly ended (no new span
// for a grace period) or timed out. Each completed trace is analysed on its
// own: every span's exclusive (self) time, which span an error originated in,
// which calls never reached their peer. Those facts feed per-operation
// baselines kept in fixed windows of span time, so that a fault deep in the
// call graph is blamed on the service where it happens rather than on every
// caller that waits for it. The same traces feed the Topology: who calls whom,
// how often, how slowly and how badly.
//
// Everything is driven by the spans' own timestamps and the now given to
// Tick; nothing reads the wall clock, so a simulated world replays
// deterministically at any speed.
package trace
