// Package testbed runs the shop (package shop) as real processes on
// 127.0.0.1 with seer watching it, and is the place faults are injected
// (package chaos) and campaigns of them are judged.
//
// Start brings up, in its directory: `seer run` (OTLP/HTTP receiver, the
// API, scraping every service's /metrics, probing its /healthz, tailing its
// log file, with runbooks that act on the testbed's processes), a TCP proxy
// in front of every service (where network faults are made), every service
// as its own process (the seer binary re-executed as `seer testbed serve`),
// a load generator, and a control API for the fault injector and the
// runbooks. Close brings it all down; children die with the supervisor
// however it ends, and `seer testbed down` cleans up after a supervisor
// that was killed.
package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seerops/seer/internal/chaos"
	"github.com/seerops/seer/internal/loopback"
	"github.com/seerops/seer/internal/testbed/shop"
)

// Config is one testbed.
type Config struct {
	// Dir holds everything the testbed writes; it is emptied at start.
	Dir string
	// Bin is the seer binary, started as `Bin run` and `Bin testbed serve`.
	Bin string
	// Env is added to every child's environment.
	Env []string
	// Day is how long a compressed day of traffic lasts; Peak is the user
	// sessions a second at its busiest.
	Day  time.Duration
	Peak float64
	// Scrape is how often seer scrapes the services' /metrics, Probe how
	// often it probes their /healthz.
	Scrape, Probe time.Duration
	// MemQuota and DiskQuota are every service's limits.
	MemQuota, DiskQuota int64
	// NoSeer starts the shop without seer (telemetry goes nowhere).
	NoSeer bool
	// SeerYAML is added to seer's generated configuration (top-level keys
	// it does not set).
	SeerYAML string
	// Log reports progress.
	Log *slog.Logger
}

// DefaultConfig is a testbed under dir.
func DefaultConfig(dir, bin string) Config {
	return Config{Dir: dir, Bin: bin, Day: 10 * time.Minute, Peak: 4, Scrape: 5 * time.Second, Probe: time.Second,
		MemQuota: 192 << 20, DiskQuota: 128 << 20}
}

// State is what `testbed up` writes to DIR/testbed.json for the commands
// that act on a running testbed.
type State struct {
	PID      int                     `json:"pid"`
	Control  string                  `json:"control"`
	Seer     string                  `json:"seer"`
	OTLP     string                  `json:"otlp"`
	Services map[string]ServiceState `json:"services"`
}

// ServiceState is one service's addresses and process.
type ServiceState struct {
	Addr  string `json:"addr"`
	Proxy string `json:"proxy"`
	PID   int    `json:"pid"`
	Build string `json:"build"`
}

// Testbed is a running testbed.
type Testbed struct {
	cfg   Config
	log   *slog.Logger
	spawn *spawner
	env   []string

	seer     *proc
	seerAddr string
	otlpAddr string

	mu      sync.Mutex
	procs   map[string]*proc
	builds  map[string]string
	addrs   map[string]string
	proxies map[string]*chaos.Proxy

	injector *chaos.Injector
	load     *Load
	control  *http.Server
	ctlAddr  string
	cancel   context.CancelFunc
	bg       sync.WaitGroup
}

// Start brings the testbed up and returns once every service answers.
func Start(ctx context.Context, cfg Config) (tb *Testbed, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Bin == "" || cfg.Dir == "" {
		return nil, errors.New("testbed: Bin and Dir are required")
	}
	if err := clean(cfg.Dir); err != nil {
		return nil, err
	}
	t := &Testbed{cfg: cfg, log: cfg.Log, spawn: newSpawner(), procs: map[string]*proc{}, builds: map[string]string{},
		addrs: map[string]string{}, proxies: map[string]*chaos.Proxy{}}
	t.env = append(append(os.Environ(), cfg.Env...), markEnv+"="+cfg.Dir)
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	for _, s := range shop.Specs() {
		if t.addrs[s.Name], err = loopback.FreeAddr(); err != nil {
			return nil, err
		}
		px, err := chaos.NewProxy("127.0.0.1:0", t.addrs[s.Name])
		if err != nil {
			return nil, fmt.Errorf("proxy of %s: %w", s.Name, err)
		}
		t.proxies[s.Name] = px
		t.builds[s.Name] = shop.BuildGood
	}
	if !cfg.NoSeer {
		if err := t.startSeer(ctx); err != nil {
			return nil, err
		}
	}
	// Callees first, so that callers find them up.
	specs := shop.Specs()
	for i := len(specs) - 1; i >= 0; i-- {
		if err := t.startService(specs[i].Name); err != nil {
			return nil, err
		}
	}
	for _, s := range specs {
		if err := waitHTTP(ctx, "http://"+t.addrs[s.Name]+"/healthz", 30*time.Second); err != nil {
			return nil, fmt.Errorf("%s did not come up: %w (see %s)", s.Name, err, filepath.Join(cfg.Dir, s.Name, "stderr.log"))
		}
	}
	t.injector = chaos.New(t, filepath.Join(cfg.Dir, "chaos.jsonl"), cfg.Log.With("component", "chaos"))
	if err := t.serveControl(); err != nil {
		return nil, err
	}
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.cancel = cancel
	t.load = NewLoad(LoadConfig{URL: "http://" + t.proxies["frontend"].Addr(), Day: cfg.Day, Peak: cfg.Peak})
	t.bg.Add(1)
	go func() { defer t.bg.Done(); t.load.Run(bctx) }()
	if err := t.writeState(); err != nil {
		return nil, err
	}
	t.log.Info("testbed up", "dir", cfg.Dir, "seer", t.seerAddr, "control", t.ctlAddr)
	return t, nil
}

// clean empties a testbed directory, after making sure no testbed is
// running from it.
func clean(dir string) error {
	if st, err := ReadState(dir); err == nil && processAlive(st.PID) {
		return fmt.Errorf("a testbed (pid %d) is running from %s: run seer testbed down --dir %s", st.PID, dir, dir)
	}
	Reap(dir)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("emptying %s: %w", dir, err)
	}
	return os.MkdirAll(dir, 0o755)
}

func (t *Testbed) out(name string) (io.Writer, error) {
	d := filepath.Join(t.cfg.Dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(d, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

func (t *Testbed) startService(name string) error {
	spec, _ := shop.Lookup(name)
	var peers []string
	for _, c := range spec.Calls {
		peers = append(peers, c+"="+t.proxies[c].Addr())
	}
	args := []string{"testbed", "serve", "--name", name, "--listen", t.addrs[name],
		"--dir", filepath.Join(t.cfg.Dir, name), "--build", t.builds[name],
		"--mem-quota", strconv.FormatInt(t.cfg.MemQuota, 10), "--disk-quota", strconv.FormatInt(t.cfg.DiskQuota, 10)}
	if t.otlpAddr != "" {
		args = append(args, "--otlp", t.otlpAddr)
	}
	if len(peers) > 0 {
		args = append(args, "--peers", strings.Join(peers, ","))
	}
	out, err := t.out(name)
	if err != nil {
		return err
	}
	p, err := t.spawn.spawn(name, t.cfg.Bin, args, t.env, out)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.procs[name] = p
	t.mu.Unlock()
	return nil
}

// Close brings everything down: the load, the services, seer, the
// proxies, with every fault undone first.
func (t *Testbed) Close() error {
	var errs []error
	if t.cancel != nil {
		t.cancel()
	}
	t.bg.Wait()
	if t.injector != nil {
		errs = append(errs, t.injector.StopAll(context.Background(), "stopped"))
	}
	if t.control != nil {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		t.control.Shutdown(c)
		cancel()
	}
	t.mu.Lock()
	procs := make([]*proc, 0, len(t.procs))
	for _, p := range t.procs {
		procs = append(procs, p)
	}
	t.mu.Unlock()
	var wg sync.WaitGroup
	stopErrs := make([]error, len(procs))
	for i, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); stopErrs[i] = p.stop(5 * time.Second) }()
	}
	wg.Wait()
	errs = append(errs, stopErrs...)
	if t.seer != nil {
		errs = append(errs, t.seer.stop(10*time.Second))
	}
	for _, px := range t.proxies {
		px.Close()
	}
	os.Remove(filepath.Join(t.cfg.Dir, "testbed.json"))
	return errors.Join(errs...)
}

// SeerURL is seer's API.
func (t *Testbed) SeerURL() string { return "http://" + t.seerAddr }

// ControlURL is the testbed's control API.
func (t *Testbed) ControlURL() string { return "http://" + t.ctlAddr }

// Injector is the testbed's fault injector.
func (t *Testbed) Injector() *chaos.Injector { return t.injector }

// Load is the load generator.
func (t *Testbed) Load() *Load { return t.load }

// Services lists the services' names.
func (t *Testbed) Services() []string {
	var out []string
	for _, s := range shop.Specs() {
		out = append(out, s.Name)
	}
	return out
}

// Called is the set of services another service calls.
func Called() map[string]bool {
	m := map[string]bool{}
	for _, s := range shop.Specs() {
		for _, c := range s.Calls {
			m[c] = true
		}
	}
	return m
}

func (t *Testbed) writeState() error {
	st := State{PID: os.Getpid(), Control: t.ctlAddr, Seer: t.seerAddr, OTLP: t.otlpAddr, Services: map[string]ServiceState{}}
	t.mu.Lock()
	for name, p := range t.procs {
		st.Services[name] = ServiceState{Addr: t.addrs[name], Proxy: t.proxies[name].Addr(), PID: p.cmd.Process.Pid, Build: t.builds[name]}
	}
	t.mu.Unlock()
	b, _ := json.MarshalIndent(st, "", "  ")
	tmp := filepath.Join(t.cfg.Dir, "testbed.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(t.cfg.Dir, "testbed.json"))
}

// ReadState reads a running testbed's state file.
func ReadState(dir string) (State, error) {
	var st State
	b, err := os.ReadFile(filepath.Join(dir, "testbed.json"))
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

func processAlive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// Reap kills what a testbed that did not end cleanly left running from
// dir: every process whose environment carries the testbed's mark for dir
// (so that a pid reused by another program is left alone). It returns how
// many it killed.
func Reap(dir string) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	mark := []byte(markEnv + "=" + dir + "\x00")
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append(env, 0), mark) {
			continue
		}
		syscall.Kill(pid, syscall.SIGCONT)
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("waited %s: %v", limit, last)
}

// FrontURL is the shop's front end, through its proxy.
func (t *Testbed) FrontURL() string { return "http://" + t.proxies["frontend"].Addr() }
