// Package binarytest starts real outside programs (Prometheus,
// Alertmanager) for tests of seer's integrations: it finds the binary or
// skips the test saying how to install it, runs it on loopback with a temp
// directory, and stops it when the test ends.
package binarytest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/seerops/seer/internal/loopback"
)

// RequireEnv, when set, turns a missing binary from a skip into a failure,
// so that CI cannot pass without running the real-client tests.
const RequireEnv = "SEER_REQUIRE_BINARIES"

// Find returns the path of the first of names found on PATH or as a path,
// or skips t naming the Debian package to install.
func Find(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("none of %v is installed and %s is set; .ci/install-deps installs the Debian package %s", names, RequireEnv, pkg)
	}
	t.Skipf("none of %v is installed; install the Debian package %s (apt-get install %s, or run .ci/install-deps) to run this test", names, pkg, pkg)
	return ""
}

// FreeAddr is a free 127.0.0.1:port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	a, err := loopback.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Buffer is a goroutine-safe buffer for a process's output.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs bin with args and waits until GET http://addr+ready answers
// 200 (within 30 s); the process is killed when the test ends, and its
// output is logged if the test failed.
func Start(t testing.TB, bin, addr, ready string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("output of %s:\n%s", bin, out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited early:\n%s", bin, out.String())
		default:
		}
		resp, err := client.Get("http://" + addr + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s after 30s (last error %v):\n%s", bin, addr, err, out.String())
		}
		// Polling a starting process: a short pause between tries.
		time.Sleep(50 * time.Millisecond)
	}
}

// Write writes content to a new file named name in dir and returns its path.
func Write(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(fmt.Errorf("writing %s: %w", p, err))
	}
	return p
}
