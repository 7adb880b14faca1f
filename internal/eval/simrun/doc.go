// Package simrun closes seer's loop on the simulated world: it drives a
// simulated shop and the engine with one clock, injects a fault, and reports
// when the fault was detected, what the engine ranked as its root cause and
// which runbook it nominated. `seer demo` and the end-to-end tests run on it.
//
// It is one of the two places (with cmd/) allowed to join sim and the engine.
package simrun
