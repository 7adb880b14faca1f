package main

import (
	"context"
	"errors"
	"io"
)

// runSim: seer sim is written by the simulator issue (3).
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("seer sim: not built yet")
}
