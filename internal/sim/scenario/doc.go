// Package scenario describes runs of the simulated world as YAML files — a
// topology, traffic, a fault schedule and a seed — runs them, and generates
// suites of labelled cases on random topologies for the RCA evaluation.
// The same scenario gives the same signals, byte for byte.
package scenario
