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
	"time"

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

// stopGroup kills the process group pgid if one of its live processes
// carries marker in its environment, and waits (up to 5 s) until none is
// left; it says what it found and did. Without /proc (not Linux) the
// marker cannot be read, and the recorded group is killed as it is.
func stopGroup(pgid int, marker string) string {
	members, err := groupMembers(pgid)
	if err != nil {
		if kerr := syscall.Kill(-pgid, syscall.SIGKILL); kerr != nil {
			return fmt.Sprintf("process group %d not killed: %v", pgid, kerr)
		}
		return fmt.Sprintf("process group %d killed", pgid)
	}
	if len(members) == 0 {
		return fmt.Sprintf("process group %d had already ended", pgid)
	}
	ours := false
	for _, pid := range members {
		env, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
		for v := range strings.SplitSeq(string(env), "\x00") {
			ours = ours || v == marker
		}
	}
	if !ours {
		return fmt.Sprintf("process group %d now belongs to other processes; left alone", pgid)
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		return fmt.Sprintf("process group %d (%d processes) not killed: %v", pgid, len(members), err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if left, _ := groupMembers(pgid); len(left) == 0 {
			return fmt.Sprintf("process group %d (%d processes) killed", pgid, len(members))
		}
		time.Sleep(20 * time.Millisecond) // polling the kernel; there is nothing to wait on
	}
	return fmt.Sprintf("process group %d (%d processes) sent SIGKILL but not gone after 5s", pgid, len(members))
}

// groupMembers lists the live (not zombie) processes of group pgid, from
// /proc.
func groupMembers(pgid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
