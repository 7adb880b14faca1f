//go:build unix

package remedy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/seerops/seer/internal/remedy/runbook"
)

// setGroup runs the command in a process group of its own and makes a
// cancelled context kill the whole group, so that a hanging script's
// children die with it.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

var signalNumbers = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "KILL": syscall.SIGKILL,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "TERM": syscall.SIGTERM, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
}

// sendSignal signals the step's process: by pid, by the pid in a file, or
// every process of a name.
func sendSignal(s *runbook.Signal) result {
	sig, ok := signalNumbers[s.Signal]
	if !ok {
		return result{StatusFailed, fmt.Sprintf("unknown signal %q", s.Signal)}
	}
	var pids []int
	switch {
	case s.PID > 0:
		pids = []int{s.PID}
	case s.PIDFile != "":
		b, err := os.ReadFile(s.PIDFile)
		if err != nil {
			return result{StatusFailed, "reading the pid file: " + err.Error()}
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			return result{StatusFailed, fmt.Sprintf("pid file %s does not hold a pid: %q", s.PIDFile, clip(string(b)))}
		}
		pids = []int{pid}
	default:
		var err error
		if pids, err = findProcesses(s.Process); err != nil {
			return result{StatusFailed, err.Error()}
		}
		if len(pids) == 0 {
			return result{StatusFailed, fmt.Sprintf("no process named %q is running", s.Process)}
		}
	}
	var b strings.Builder
	status := StatusSucceeded
	for _, pid := range pids {
		if pid == os.Getpid() || pid == 1 {
			fmt.Fprintf(&b, "pid %d: refused, it is seer itself or init\n", pid)
			status = StatusFailed
			continue
		}
		if err := syscall.Kill(pid, sig); err != nil {
			fmt.Fprintf(&b, "pid %d: SIG%s: %v\n", pid, s.Signal, err)
			status = StatusFailed
			continue
		}
		fmt.Fprintf(&b, "pid %d: sent SIG%s\n", pid, s.Signal)
	}
	return result{status, b.String()}
}

// findProcesses lists the pids whose command name or program file is
// name, from /proc.
func findProcesses(name string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("finding process %q needs /proc (use pid or pidfile instead): %w", name, err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		if strings.TrimSpace(string(comm)) == name || argv0 != "" && filepath.Base(argv0) == name {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
