//go:build race

package trace

// raceOn shortens the long simulator tests, which the race detector slows
// tenfold.
const raceOn = true
