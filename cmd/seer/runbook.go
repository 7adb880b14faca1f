package main

import (
	"fmt"
	"io"

	"github.com/seerops/seer/internal/remedy/runbook"
)

// runRunbook validates runbooks the way promtool checks rules: each problem
// as file:line: reason, and a non-zero exit when there is one.
func runRunbook(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: give seer runbook check FILE|DIR", errUsage)
	}
	fs := newFlagSet("runbook check", stderr)
	paths, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("%w: give the runbook files or directories to check", errUsage)
	}
	errs := runbook.Check(paths...)
	for _, err := range errs {
		fmt.Fprintln(stdout, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d problem(s) in the runbooks", len(errs))
	}
	fmt.Fprintln(stdout, "SUCCESS: runbooks are valid")
	return nil
}
