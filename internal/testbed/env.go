package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/seerops/seer/internal/chaos"
	"github.com/seerops/seer/internal/testbed/shop"
)

var _ chaos.Env = (*Testbed)(nil)

var client = &http.Client{Timeout: 5 * time.Second}

// Proxy is the proxy in front of a service.
func (t *Testbed) Proxy(target string) (*chaos.Proxy, bool) {
	px, ok := t.proxies[target]
	return px, ok
}

func (t *Testbed) proc(target string) (*proc, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.procs[target]
	if !ok {
		return nil, fmt.Errorf("no service %q in the testbed", target)
	}
	return p, nil
}

// Signal sends sig to a service's process group.
func (t *Testbed) Signal(target string, sig syscall.Signal) error {
	p, err := t.proc(target)
	if err != nil {
		return err
	}
	return p.signal(sig)
}

// Alive reports whether a service's process runs (a stopped one does).
func (t *Testbed) Alive(target string) bool {
	p, err := t.proc(target)
	return err == nil && p.alive()
}

// Control posts to a service's control endpoint.
func (t *Testbed) Control(ctx context.Context, target, pathQuery string) error {
	addr, ok := t.addrs[target]
	if !ok {
		return fmt.Errorf("no service %q in the testbed", target)
	}
	return post(ctx, "http://"+addr+pathQuery, "", nil)
}

func post(ctx context.Context, url, ctype string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s answered %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// Restart makes a service run a build: it restarts it when it is down or
// runs another build, and leaves it alone otherwise (undoing a deploy that
// a runbook already rolled back restarts nothing).
func (t *Testbed) Restart(ctx context.Context, target, build string) error {
	t.mu.Lock()
	cur := t.builds[target]
	t.mu.Unlock()
	if cur == build && t.Alive(target) {
		return nil
	}
	return t.restart(ctx, target, build)
}

// restart stops a service (whatever state it is in) and starts it with
// build, waiting until it answers.
func (t *Testbed) restart(ctx context.Context, target, build string) error {
	p, err := t.proc(target)
	if err != nil {
		return err
	}
	if err := p.stop(3 * time.Second); err != nil {
		return fmt.Errorf("stopping %s: %w", target, err)
	}
	t.mu.Lock()
	t.builds[target] = build
	t.mu.Unlock()
	if err := t.startService(target); err != nil {
		return err
	}
	if err := waitHTTP(ctx, "http://"+t.addrs[target]+"/healthz", 20*time.Second); err != nil {
		return fmt.Errorf("%s did not come back: %w", target, err)
	}
	return t.writeState()
}

// Configure writes a service's config.json, bad or good, and has it read
// again; putting back a good config a service already has does nothing.
func (t *Testbed) Configure(ctx context.Context, target string, bad bool) error {
	path := filepath.Join(t.cfg.Dir, target, "config.json")
	cfg := shop.DefaultConfig()
	if bad {
		cfg = shop.BadConfig()
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if old, err := os.ReadFile(path); (err != nil && !bad) || bytes.Equal(old, b) {
		return nil
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	return t.Control(ctx, target, "/control/reload")
}

// Announce sends a change event to seer, as a deploy tool would.
func (t *Testbed) Announce(ctx context.Context, kind, target, text string) error {
	if t.seerAddr == "" {
		return nil
	}
	b, _ := json.Marshal(map[string]any{"entity": target, "kind": kind, "text": text, "source": "testbed"})
	return post(ctx, t.SeerURL()+"/api/v1/events", "application/json", b)
}

// Remedy is what the testbed's runbooks do, through `seer testbed ctl`.
func (t *Testbed) Remedy(ctx context.Context, action, target string) (string, error) {
	if _, err := t.proc(target); err != nil {
		return "", err
	}
	switch action {
	case "restart":
		t.mu.Lock()
		build := t.builds[target]
		t.mu.Unlock()
		return "restarted " + target, t.restart(ctx, target, build)
	case "rollback":
		var errs []string
		if err := t.Configure(ctx, target, false); err != nil {
			errs = append(errs, err.Error())
		}
		// A roll back redeploys the last good build, as a rollout undo
		// replaces the pods: the process is new whatever it was running.
		if err := t.restart(ctx, target, shop.BuildGood); err != nil {
			errs = append(errs, err.Error())
		}
		t.Announce(ctx, "rollback", target, "rollback of "+target+" to v1.0.0 and its last good config")
		if len(errs) > 0 {
			return "", fmt.Errorf("rolling back %s: %s", target, strings.Join(errs, "; "))
		}
		return "rolled back " + target, nil
	case "free-disk":
		return "freed the data directory of " + target, t.Control(ctx, target, "/control/free-disk")
	case "flush":
		return "flushed " + target, t.Control(ctx, target, "/control/flush")
	}
	return "", fmt.Errorf("no action %q: give restart, rollback, free-disk or flush", action)
}
