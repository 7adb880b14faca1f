package chaos

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func backend(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func get(c *http.Client, addr string) (time.Duration, error) {
	start := time.Now()
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return time.Since(start), err
}

func TestProxyFaults(t *testing.T) {
	px, err := NewProxy("127.0.0.1:0", backend(t))
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	c := &http.Client{Timeout: 10 * time.Second}
	if _, err := get(c, px.Addr()); err != nil {
		t.Fatalf("healthy: %v", err)
	}
	// Latency holds every request for at least the delay (a lower bound:
	// a loaded machine only adds to it).
	px.Set(&NetFault{Latency: 150 * time.Millisecond})
	for range 3 {
		d, err := get(c, px.Addr())
		if err != nil || d < 150*time.Millisecond {
			t.Fatalf("with 150 ms of latency: took %s, err %v", d, err)
		}
	}
	// Every chunk reset: every request fails, on new connections too.
	px.Set(&NetFault{Reset: 1})
	for range 3 {
		if _, err := get(c, px.Addr()); err == nil {
			t.Fatal("a request went through a proxy resetting every connection")
		}
	}
	// Loss at 100 % holds a chunk for the three retransmission timeouts.
	px.Set(&NetFault{Loss: 1})
	if d, err := get(c, px.Addr()); err != nil || d < 1400*time.Millisecond {
		t.Fatalf("with every packet lost once: took %s, err %v", d, err)
	}
	px.Set(nil)
	if _, err := get(c, px.Addr()); err != nil {
		t.Fatalf("after the fault: %v", err)
	}
}

func TestProxyBackendDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	px, err := NewProxy("127.0.0.1:0", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	if _, err := get(&http.Client{Timeout: 5 * time.Second}, px.Addr()); err == nil {
		t.Fatal("a request through the proxy of a service that is down succeeded")
	}
}

// fakeEnv records what the injector asked for.
type fakeEnv struct {
	mu     sync.Mutex
	px     *Proxy
	calls  []string
	alive  bool
	failOn string
}

func (f *fakeEnv) rec(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	if f.failOn != "" && strings.HasPrefix(s, f.failOn) {
		return errors.New("refused")
	}
	return nil
}
func (f *fakeEnv) Proxy(string) (*Proxy, bool) { return f.px, f.px != nil }
func (f *fakeEnv) Signal(_ string, sig syscall.Signal) error {
	if sig == syscall.SIGKILL {
		f.mu.Lock()
		f.alive = false
		f.mu.Unlock()
	}
	return f.rec("signal " + sig.String())
}
func (f *fakeEnv) Control(_ context.Context, _, pq string) error { return f.rec("control " + pq) }
func (f *fakeEnv) Restart(_ context.Context, _, build string) error {
	f.mu.Lock()
	f.alive = true
	f.mu.Unlock()
	return f.rec("restart " + build)
}
func (f *fakeEnv) Configure(_ context.Context, _ string, bad bool) error {
	if bad {
		return f.rec("configure bad")
	}
	return f.rec("configure good")
}
func (f *fakeEnv) Alive(string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.alive
}
func (f *fakeEnv) Announce(_ context.Context, kind, _, _ string) error {
	return f.rec("announce " + kind)
}
func (f *fakeEnv) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInjectorUndoes(t *testing.T) {
	ctx := context.Background()
	f := func(kind string, want ...string) {
		t.Helper()
		env := &fakeEnv{alive: true}
		journal := filepath.Join(t.TempDir(), "chaos.jsonl")
		j := New(env, journal, nil)
		in, err := j.Inject(ctx, kind, "db", 20*time.Minute, nil)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if _, err := j.Inject(ctx, Hang, "db", 20*time.Minute, nil); err == nil {
			t.Errorf("%s: a second fault on the same target was accepted", kind)
		}
		if _, err := j.Stop(ctx, in.ID, "stopped"); err != nil {
			t.Fatalf("%s: stop: %v", kind, err)
		}
		if got := strings.Join(env.log(), "; "); got != strings.Join(want, "; ") {
			t.Errorf("%s: did %q, want %q", kind, got, strings.Join(want, "; "))
		}
		list, err := ReadJournal(journal)
		if err != nil || len(list) != 1 || list[0].Active() || list[0].Why != "stopped" || list[0].Kind != kind {
			t.Errorf("%s: journal %+v, %v", kind, list, err)
		}
	}
	f(Kill, "signal killed", "restart good")
	f(Hang, "signal stopped (signal)", "signal continued")
	f(CPU, "control /control/cpu?for=20m0s&workers=2", "control /control/stop")
	f(Disk, "control /control/fill?for=20m0s&rate=6291456", "control /control/free-disk")
	f(DBSlow, "control /control/slow?for=20m0s&ms=150", "control /control/stop")
	f(Config, "announce config", "configure bad", "configure good")
	f(Deploy, "announce deploy", "restart faulty", "restart good")
}

func TestInjectorTimeoutAndRecover(t *testing.T) {
	ctx := context.Background()
	px, err := NewProxy("127.0.0.1:0", backend(t))
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	env := &fakeEnv{alive: true, px: px}
	journal := filepath.Join(t.TempDir(), "chaos.jsonl")
	j := New(env, journal, nil)
	if _, err := j.Inject(ctx, Latency, "db", 200*time.Millisecond, map[string]string{"ms": "50"}); err != nil {
		t.Fatal(err)
	}
	if f := px.Fault(); f == nil || f.Latency != 50*time.Millisecond {
		t.Fatalf("proxy fault %+v", f)
	}
	waitUntil(t, 10*time.Second, "the fault to time out", func() bool { return px.Fault() == nil })
	waitUntil(t, 10*time.Second, "the timeout to be recorded", func() bool {
		l := j.List()
		return len(l) == 1 && l[0].Why == "timeout"
	})

	// An injector that died with a fault in force: the next one undoes it.
	crashed := New(env, journal, nil)
	if _, err := crashed.Inject(ctx, Hang, "cart", 20*time.Minute, nil); err != nil {
		t.Fatal(err)
	}
	next := New(env, journal, nil)
	if err := next.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if l := env.log(); l[len(l)-1] != "signal continued" {
		t.Errorf("recover did %v, want SIGCONT last", l)
	}
	list, _ := ReadJournal(journal)
	for _, in := range list {
		if in.Active() {
			t.Errorf("still active after recovery: %+v", in)
		}
	}

	if _, err := j.Inject(ctx, "flood", "db", time.Minute, nil); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestInjectFailureIsUndone(t *testing.T) {
	env := &fakeEnv{alive: true, failOn: "restart faulty"}
	j := New(env, "", nil)
	if _, err := j.Inject(context.Background(), Deploy, "cart", time.Minute, nil); err == nil {
		t.Fatal("a failed deploy was reported injected")
	}
	if l := env.log(); l[len(l)-1] != "restart good" || len(j.List()) != 0 {
		t.Errorf("after a failed injection: did %v, listed %v", l, j.List())
	}
}
