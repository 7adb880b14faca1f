package main

import (
	"context"
	"errors"
	"io"
)

// runEvalNAB is written by the NAB harness (issue 4).
func runEvalNAB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("seer eval nab: not built yet")
}
