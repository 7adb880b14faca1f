package testbed

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// proc is one child process in its own process group. It dies with the
// supervisor twice over: the kernel kills it when the thread that started
// it ends (Pdeathsig; every child is started from one locked thread that
// lives as long as the supervisor), and a child reads its end of a pipe
// the supervisor holds (WatchParent), which closes when the supervisor
// exits however it exits.
type proc struct {
	name string
	cmd  *exec.Cmd
	life *os.File // the supervisor's end of the pipe
	done chan struct{}
	err  error // how it exited, once done is closed
}

// spawner starts processes from one goroutine locked to its OS thread, so
// that Pdeathsig (which fires when the starting thread ends) fires only
// when the supervisor ends.
type spawner struct{ reqs chan spawnReq }

type spawnReq struct {
	cmd   *exec.Cmd
	reply chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq)}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the process
		for r := range s.reqs {
			r.reply <- r.cmd.Start()
		}
	}()
	return s
}

func (s *spawner) start(cmd *exec.Cmd) error {
	reply := make(chan error, 1)
	s.reqs <- spawnReq{cmd: cmd, reply: reply}
	return <-reply
}

// markEnv names the testbed a process belongs to, in its environment:
// `testbed down` kills a crashed supervisor's leftovers only when they
// carry it.
const markEnv = "SEER_TESTBED_DIR"

// lifeFD is the file descriptor of the pipe a child watches.
const lifeFD = 3

func (s *spawner) spawn(name string, bin string, args, env []string, out io.Writer) (*proc, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{r} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = s.start(cmd)
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, life: w, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) signal(sig syscall.Signal) error {
	if !p.alive() {
		return fmt.Errorf("%s is not running", p.name)
	}
	// The whole group: a child's own children go too.
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// stop ends the process: SIGCONT (a stopped process cannot act on
// SIGTERM) and SIGTERM to its group, SIGKILL after grace.
func (p *proc) stop(grace time.Duration) error {
	defer p.life.Close()
	if !p.alive() {
		return nil
	}
	pg := -p.cmd.Process.Pid
	syscall.Kill(pg, syscall.SIGCONT)
	syscall.Kill(pg, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		syscall.Kill(pg, syscall.SIGKILL)
		<-p.done
	}
	// Anything left in the group (a grandchild) goes now.
	if err := syscall.Kill(pg, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// WatchParent calls stop when the supervisor that started this process is
// gone (its end of the pipe on fd 3 closed). It does nothing in a process
// not started by a testbed.
func WatchParent(stop func()) {
	if os.Getenv(markEnv) == "" {
		return
	}
	f := os.NewFile(lifeFD, "testbed-life")
	if f == nil {
		return
	}
	go func() {
		io.Copy(io.Discard, f)
		stop()
		// A service that does not end within a few seconds is ended.
		time.Sleep(5 * time.Second)
		os.Exit(1)
	}()
}
