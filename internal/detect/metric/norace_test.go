//go:build !race

package metric

// raceOn shortens the simulated runs, which the race detector slows
// tenfold; the full acceptance runs without it.
const raceOn = false
