package remedy

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/seerops/seer/internal/remedy/runbook"
)

// Environments this machine offers runbook steps, found the way the tools
// themselves find them.
func detectEnvironments() []string {
	var out []string
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" || os.Getenv("KUBECONFIG") != "" || fileExists(filepath.Join(os.Getenv("HOME"), ".kube", "config")) {
		if _, err := exec.LookPath("kubectl"); err == nil {
			out = append(out, "kubernetes")
		}
	}
	if fileExists("/run/systemd/system") {
		out = append(out, "systemd")
	}
	if fileExists("/var/run/docker.sock") {
		out = append(out, "docker")
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// missing is what of the runbook's needs the environments lack.
func missing(rb *runbook.Runbook, envs []string) []string {
	var out []string
	for _, n := range rb.Needs() {
		if !slices.Contains(envs, n) {
			out = append(out, n)
		}
	}
	return out
}
