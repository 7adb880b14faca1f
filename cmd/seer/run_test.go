package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/ingest/binarytest"
)

// startSeer runs `seer run` in-process until the returned stop is called.
func startSeer(t *testing.T, dataDir string, extra ...string) (base string, stop func()) {
	t.Helper()
	addr := binarytest.FreeAddr(t)
	args := []string{"run", "--data-dir", dataDir, "--http", addr, "--otlp-grpc", binarytest.FreeAddr(t), "--otlp-http", "off", "--log-level", "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, append(args, extra...), nil, &bytes.Buffer{}, &logs)
	}()
	base = "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("seer run did not become ready: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("seer run stopped with %v\n%s", err, logs.String())
		}
	}
}

func TestRunTakesEventsAndKeepsThemAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	base, stop := startSeer(t, dir)
	var out bytes.Buffer
	err := run(context.Background(), []string{"event", "deploy", "--service", "checkout", "--text", "v1.4.2", "--server", base, "--attr", "commit=abc123"}, nil, &out, &bytes.Buffer{})
	if err != nil || !strings.Contains(out.String(), "sent deploy event for checkout") {
		t.Fatalf("seer event: %v, %q", err, out.String())
	}
	stop() // graceful: drains the bus and closes the store
	if _, err := os.Stat(filepath.Join(dir, "seer.db")); err != nil {
		t.Fatalf("no knowledge store on disk: %v", err)
	}

	base, stop = startSeer(t, dir)
	defer stop()
	resp, err := http.Get(base + "/api/v1/observations?entity=checkout")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Observations []struct {
			Kind    string `json:"kind"`
			Summary string `json:"summary"`
		} `json:"observations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Observations) != 1 || got.Observations[0].Kind != "change" || !strings.Contains(got.Observations[0].Summary, "v1.4.2") {
		t.Fatalf("after a restart, checkout's observations are %+v; want the deploy", got.Observations)
	}
}

func TestEventToNoServerSaysWhatToCheck(t *testing.T) {
	err := run(context.Background(), []string{"event", "deploy", "--service", "cart", "--server", "http://" + binarytest.FreeAddr(t)}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "is seer running?") {
		t.Fatalf("err = %v, want a hint that seer is not running", err)
	}
}

func TestRunbookCheck(t *testing.T) {
	dir := t.TempDir()
	good := "name: ok\nwhen: cause.kind == \"latency\"\nactions:\n  - name: restart\n    exec: [\"systemctl\", \"restart\", \"{{ .Target }}\"]\n"
	bad := "name: broken\nwhen: cause.kind ==\nactions: []\n"
	os.WriteFile(filepath.Join(dir, "good.yaml"), []byte(good), 0o600)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"runbook", "check", dir}, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("a valid runbook failed the check: %v\n%s", err, out.String())
	}
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o600)
	out.Reset()
	err := run(context.Background(), []string{"runbook", "check", dir}, nil, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(out.String(), "bad.yaml:2:") {
		t.Fatalf("a bad runbook: err %v, output %q; want a failure naming bad.yaml:2", err, out.String())
	}
}

// TestRunbookCheckRefusesInjection checks the runbook of issue 17's attack:
// its secret went to a host the caller chose and its shell step ran the
// caller's command. Both lines are reported.
func TestRunbookCheckRefusesInjection(t *testing.T) {
	dir := t.TempDir()
	rb := `name: restart
when: cause.kind == "unavailable"
mode: auto
diagnostics:
  - name: health
    http: {url: "http://{{ .Target }}:8080/healthz", headers: {Authorization: "Bearer {{ env \"OPS_TOKEN\" }}"}}
actions:
  - name: restart
    exec: ["/bin/sh", "-c", "echo restarting {{ .Target }}"]
`
	os.WriteFile(filepath.Join(dir, "restart.yaml"), []byte(rb), 0o600)
	var out bytes.Buffer
	err := run(context.Background(), []string{"runbook", "check", dir}, nil, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(out.String(), "restart.yaml:6: diagnostics[0].http.url") ||
		!strings.Contains(out.String(), "restart.yaml:9: actions[0].exec[2] is shell code") {
		t.Fatalf("err %v, output %q; want both lines reported", err, out.String())
	}
}
