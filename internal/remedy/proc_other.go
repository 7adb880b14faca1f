//go:build !unix

package remedy

import (
	"fmt"
	"os/exec"

	"github.com/seerops/seer/internal/remedy/runbook"
)

func setGroup(*exec.Cmd) {}

func sendSignal(*runbook.Signal) result {
	return result{StatusFailed, "signal steps need a Unix system"}
}

func stopGroup(pgid int, _ string) string {
	return fmt.Sprintf("process group %d left alone: stopping it needs a Unix system", pgid)
}
