package main

import (
	"context"
	"errors"
	"io"
)

// runEvalRCA: seer eval rca is written by the inference issue (8).
func runEvalRCA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("seer eval rca: not built yet")
}
