//go:build !race

package trace

const raceOn = false
