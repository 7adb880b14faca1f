//go:build race

package main

// raceEnabled skips the overload test under the race detector: seer would
// run as the race-instrumented test binary, whose shadow memory the
// resident set counts and whose speed is a tenth. CI runs that test on its
// own, without -race.
const raceEnabled = true
