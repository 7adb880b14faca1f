// Package engine assembles seer's pipeline: it opens the knowledge store,
// starts the bus, subscribes the detectors, inference and the remediation
// planner, and serves the HTTP API. It holds no analysis of its own; each
// stage is a package of its own, wired here in the order of the data flow:
//
//	ingest ─► bus(signals) ─► detect ─► bus(observations) ─► knowledge ─► infer ─► remedy
//
// Time comes from the signals and from Tick, never from the wall clock
// inside a stage, so the same engine runs live (Run ticks it every second)
// or under a simulated world much faster than real time (the caller ticks
// it with the world's clock).
package engine
