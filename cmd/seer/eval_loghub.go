package main

import (
	"context"
	"errors"
	"io"
)

// runEvalLoghub is written by the Loghub harness (issue 5).
func runEvalLoghub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("seer eval loghub: not built yet")
}
