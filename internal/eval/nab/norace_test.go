//go:build !race

package nab

const raceEnabled = false
