package overload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seerops/seer/internal/loopback"
)

// child is `seer run` started as its own process.
type child struct {
	cmd      *exec.Cmd
	out      *tailBuffer
	exited   chan struct{}
	api      string // base URL of the API (and remote_write)
	otlpHTTP string // base URL of OTLP/HTTP
	otlpGRPC string // host:port of OTLP/gRPC
}

// startChild runs bin as `seer run` on three free loopback ports with a
// memory limit of limit bytes (refusing above limit-spike) and waits until
// it is ready.
func startChild(ctx context.Context, bin string, env []string, dir string, limit, spike int64) (*child, error) {
	addrs, err := loopback.FreeAddrs(3)
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "seer.yaml")
	yaml := fmt.Sprintf("memory:\n  limit_bytes: %d\n  spike_bytes: %d\n", limit, spike)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	c := &child{out: &tailBuffer{max: 64 << 10}, exited: make(chan struct{}),
		api: "http://" + addrs[0], otlpHTTP: "http://" + addrs[1], otlpGRPC: addrs[2]}
	c.cmd = exec.Command(bin, "run", "--config", conf, "--data-dir", filepath.Join(dir, "data"),
		"--http", addrs[0], "--otlp-http", addrs[1], "--otlp-grpc", addrs[2], "--log-level", "warn")
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s run: %w", bin, err)
	}
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-c.exited:
			return nil, fmt.Errorf("seer exited before it was ready: %s\n%s", c.cmd.ProcessState, c.out.String())
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		default:
		}
		resp, err := http.Get(c.api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("seer was not ready within 60 s:\n%s", c.out.String())
		}
		time.Sleep(100 * time.Millisecond) // polling another process
	}
}

// alive reports whether the process still runs.
func (c *child) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// stop ends seer with SIGTERM, or SIGKILL after 30 s.
func (c *child) stop() {
	if !c.alive() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// memory is a reading of /proc/PID/status: the resident set now (all of
// it, its anonymous pages and its file pages: the binary's, mostly) and
// its peak.
type memory struct{ rss, anon, file, hwm int64 }

// readMemory reads VmRSS and VmHWM of pid, in bytes.
func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		var into *int64
		switch k {
		case "VmRSS":
			into = &m.rss
		case "VmHWM":
			into = &m.hwm
		case "RssAnon":
			into = &m.anon
		case "RssFile":
			into = &m.file
		}
		if !ok || into == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
		*into = kb << 10
	}
	return m, sc.Err()
}

// cpuSeconds is the user and system CPU time of pid (from /proc/PID/stat).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it are fixed.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	const hz = 100 // USER_HZ on Linux
	return float64(utime+stime) / hz, nil
}

// selfCPU is this process's CPU time: the generator's.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// sampler reads seer's memory every interval until stopped, keeping the
// peak and when it was reached.
type sampler struct {
	mu      sync.Mutex
	peak    memory
	peakAt  time.Time
	samples int
	err     error
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			m, err := readMemory(pid)
			s.mu.Lock()
			if err != nil {
				if s.err == nil {
					s.err = err
				}
			} else {
				s.samples++
				if m.rss > s.peak.rss {
					s.peak.rss, s.peakAt = m.rss, time.Now()
				}
				s.peak.hwm = max(s.peak.hwm, m.hwm)
			}
			s.mu.Unlock()
			select {
			case <-t.C:
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

// result stops the sampler (once; it may be called again) and returns the
// peaks seen.
func (s *sampler) result() (memory, time.Time, int) {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak, s.peakAt, s.samples
}

// scrapeCounters reads seer's /metrics and sums the samples of the named
// families by the value of label (all other labels summed over).
func scrapeCounters(base, family, label string) (map[string]float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, family+"{") && !strings.HasPrefix(line, family+" ") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		key := ""
		if j := strings.Index(line, label+`="`); j >= 0 {
			rest := line[j+len(label)+2:]
			key = rest[:strings.IndexByte(rest, '"')]
		}
		out[key] += v
	}
	return out, sc.Err()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

var _ io.Writer = (*tailBuffer)(nil)
