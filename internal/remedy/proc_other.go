//go:build !unix

package remedy

import (
	"os/exec"

	"github.com/seerops/seer/internal/remedy/runbook"
)

func setGroup(*exec.Cmd) {}

func sendSignal(*runbook.Signal) result {
	return result{StatusFailed, "signal steps need a Unix system"}
}
