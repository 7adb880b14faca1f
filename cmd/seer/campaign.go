package main

import (
	"context"
	"errors"
	"io"
)

func testbedCampaign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not yet")
}
