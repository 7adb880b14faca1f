//go:build race

package nab

// raceEnabled trims the corpus-sized tests, which the race detector slows
// tenfold without finding anything in the sequential scorer.
const raceEnabled = true
