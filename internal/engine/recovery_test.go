package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seerops/seer/internal/ingest/binarytest"
	"github.com/seerops/seer/internal/ingest/probe"
	"github.com/seerops/seer/internal/ingest/scrape"
	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/signal"
)

// restartScript kills the service by its pid file and starts a new
// instance, as an operator's restart script would.
const restartScript = `#!/bin/sh
bin="$1"; addr="$2"; pidfile="$3"; log="$4"
old=$(cat "$pidfile")
kill -9 "$old" 2>/dev/null
i=0
while kill -0 "$old" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
rm -f "$pidfile"
nohup "$bin" -addr "$addr" -pidfile "$pidfile" >>"$log" 2>&1 </dev/null &
i=0
while [ ! -s "$pidfile" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo "restarted: pid $old -> $(cat "$pidfile")"
`

// TestRealProcessRecovery closes the loop on a real process: seer scrapes
// and probes a small HTTP service running as its own OS process, the
// service hangs, and seer must detect it, name it as the cause, restart it
// with an auto runbook and verify the recovery — within a minute.
func TestRealProcessRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("real-process test: builds and runs a service; run without -short")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh for the restart script")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "flaky")
	build := exec.Command("go", "build", "-o", bin, "./testdata/flaky")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the service: %v\n%s", err, out)
	}
	addr := binarytest.FreeAddr(t)
	pidfile, svcLog := filepath.Join(dir, "flaky.pid"), filepath.Join(dir, "flaky.log")
	script := filepath.Join(dir, "restart.sh")
	if err := os.WriteFile(script, []byte(restartScript), 0o755); err != nil {
		t.Fatal(err)
	}

	// The first instance, started by the test itself.
	logf, err := os.Create(svcLog)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	first := exec.Command(bin, "-addr", addr, "-pidfile", pidfile)
	first.Stdout, first.Stderr = logf, logf
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan struct{})
	go func() { first.Wait(); close(firstDone) }()
	t.Cleanup(func() {
		// Whatever instance is running last is stopped, even on failure.
		if pid := readPID(pidfile); pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		first.Process.Kill()
		<-firstDone
		if t.Failed() {
			b, _ := os.ReadFile(svcLog)
			t.Logf("service log:\n%s", b)
		}
	})
	base := "http://" + addr
	waitFor(t, 10*time.Second, "the service to start", func() bool { return httpOK(base + "/healthz") })

	// The service owners' runbook: restart it when it is unavailable.
	rbDir := filepath.Join(dir, "runbooks")
	os.Mkdir(rbDir, 0o755)
	runbookYAML := fmt.Sprintf(`name: restart-flaky
description: The owners' restart of the flaky service.
when: cause.entity == "flaky" && cause.kind == "unavailable"
priority: 100
mode: auto
diagnostics:
  - name: evidence
    collect: {metrics: 5m, logs: 20, events: 1h}
  - name: health
    http: {url: "%s/healthz", timeout: 300ms}
actions:
  - name: restart
    exec: ["sh", %q, %q, %q, %q, %q]
    timeout: 15s
verify: {within: 30s}
`, base, script, bin, addr, pidfile, svcLog)
	if err := os.WriteFile(filepath.Join(rbDir, "flaky.yaml"), []byte(runbookYAML), 0o644); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(t, t.TempDir())
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Tick = 100 * time.Millisecond
	cfg.RunbookDir = rbDir
	cfg.Metric.WarmUp = 20
	cfg.Metric.Repeat = 2 * time.Second
	cfg.Infer.Correlate.ResolveAfter = 5 * time.Second
	cfg.Scrape.Interval, cfg.Scrape.Timeout = 250*time.Millisecond, 200*time.Millisecond
	cfg.Scrape.Targets = []scrape.Target{{URL: base + "/metrics", Entity: "flaky"}}
	cfg.Probe.Interval, cfg.Probe.Timeout = 250*time.Millisecond, 200*time.Millisecond
	cfg.Probe.Targets = []probe.Target{{URL: base + "/healthz", Entity: "flaky"}}
	cfg.Remedy.Settle = 2 * time.Second
	cfg.Remedy.Cooldown = time.Minute
	cfg.Remedy.Stable = time.Second // a hung service's diagnosis settles at once
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	e, err := New(context.Background(), cfg, logger, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if rbs := e.Remedy().Runbooks(); rbs[0].Name != "restart-flaky" {
		t.Fatalf("the owners' runbook did not load: first is %s", rbs[0].Name)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()

	// Healthy first, long enough for the detectors to learn it.
	waitFor(t, 20*time.Second, "the detectors' warm-up", func() bool {
		return e.scraper.Stats().Scrapes >= uint64(cfg.Metric.WarmUp)+8
	})
	store := e.Store()
	bg := context.Background()
	if n := restarts(t, store); n != 0 {
		t.Fatalf("%d restarts before any fault", n)
	}
	oldPID := readPID(pidfile)

	// The fault: the service hangs.
	fault := time.Now()
	if !httpOK(base + "/fault/hang") {
		t.Fatal("could not make the service hang")
	}

	// The hang is diagnosed in an incident opened for it, or in one that
	// load-made noise opened before and the hang joined or reopened: what
	// counts is a diagnosis made after the fault naming flaky unavailable.
	var in signal.Incident
	var seen []signal.Incident
	t.Cleanup(func() {
		if t.Failed() {
			for _, x := range seen {
				t.Logf("incident %d %s opened %s updated %s: %s %v", x.ID, x.Status, x.Opened.Sub(fault), x.Updated.Sub(fault), x.Title, x.Causes)
			}
		}
	})
	waitFor(t, 20*time.Second, "an incident naming flaky unavailable", func() bool {
		seen, _ = store.Incidents(bg, knowledge.IncidentQuery{Limit: 50})
		for _, x := range seen {
			if c := x.Top(); c.Entity == "flaky" && c.Kind == "unavailable" && x.Status != signal.IncidentResolved && !x.Updated.Before(fault) {
				in = x
				return true
			}
		}
		return false
	})
	detected := time.Now()
	var verified, restarted time.Time
	waitFor(t, 50*time.Second, "the restart to be verified", func() bool {
		ex, _ := store.Executions(bg, in.ID)
		for _, x := range ex {
			switch {
			case x.Step == "restart" && x.Status == "succeeded" && restarted.IsZero():
				restarted = time.Now()
			case x.Step == "verify" && x.Status == "succeeded":
				verified = time.Now()
				return true
			case x.Step == "verify" && x.Status == "failed", x.Step == "restart" && (x.Status == "failed" || x.Status == "timed-out"):
				t.Fatalf("remediation failed: %+v", x)
			}
		}
		return false
	})
	recovery := verified.Sub(fault)
	t.Logf("fault → detected %.1fs → restarted %.1fs → verified %.1fs (time to verified recovery: %.1fs; target < 60s)",
		detected.Sub(fault).Seconds(), restarted.Sub(fault).Seconds(), verified.Sub(fault).Seconds(), recovery.Seconds())
	if recovery >= 60*time.Second {
		t.Errorf("time to verified recovery %s, want under 60s", recovery)
	}

	// The service really is a new, healthy process.
	if pid := readPID(pidfile); pid == oldPID || pid <= 0 || !httpOK(base+"/healthz") {
		t.Errorf("after the restart: pid %d (was %d), healthy %v", pid, oldPID, httpOK(base+"/healthz"))
	}
	// The audit trail: who, what, what it printed, how it ended.
	ex, _ := store.Executions(bg, in.ID)
	got := map[string]signal.Execution{}
	for _, x := range ex {
		got[x.Step] = x
	}
	if r := got["restart"]; r.Trigger != "policy" || r.Mode != "auto" || !strings.Contains(r.Output, "restarted: pid "+strconv.Itoa(oldPID)) || !strings.Contains(r.Input, "restart.sh") {
		t.Errorf("restart record %+v", r)
	}
	if r := got["health"]; r.Status != "timed-out" {
		t.Errorf("the health diagnostic of a hung service: %+v, want timed-out", r)
	}
	// Which symptom is seen first (the probe timing out, up falling to 0)
	// is a race within a second; the evidence must hold one of flaky's.
	if r := got["evidence"]; r.Status != "succeeded" || !strings.Contains(r.Output, "metric.anomaly flaky/") {
		t.Errorf("the evidence diagnostic: %+v, want an anomaly of flaky in it", r)
	}
	if n := restarts(t, store); n != 1 {
		t.Errorf("%d restarts, want exactly 1", n)
	}
	// What worked is remembered for the pattern.
	rules, _ := store.Rules(bg)
	learned := false
	for _, r := range rules {
		learned = learned || r.Action == "restart-flaky" && r.Cause == "unavailable" && r.Confidence == 1
	}
	if !learned {
		t.Errorf("the outcome was not learned: %+v", rules)
	}
}

// restarts counts the restart steps run, over every incident.
func restarts(t *testing.T, store knowledge.Store) int {
	t.Helper()
	list, err := store.Incidents(context.Background(), knowledge.IncidentQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range list {
		ex, _ := store.Executions(context.Background(), in.ID)
		for _, x := range ex {
			if x.Step == "restart" && x.Status != "planned" && x.Status != "skipped" {
				n++
			}
		}
	}
	return n
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

var quick = &http.Client{Timeout: 500 * time.Millisecond}

func httpOK(url string) bool {
	resp, err := quick.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// waitFor polls cond on a ticker: the real process runs in real time, so
// the test can only watch it.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		<-tick.C
	}
}
