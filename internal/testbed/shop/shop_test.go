package shop

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/ingest/binarytest"
)

// start serves one service in process and returns its base URL.
func start(t *testing.T, opt Options) string {
	t.Helper()
	opt.Listen = binarytest.FreeAddr(t)
	if opt.Dir == "" {
		opt.Dir = filepath.Join(t.TempDir(), opt.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, opt) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", opt.Name, err)
		}
	})
	base := "http://" + opt.Listen
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start", opt.Name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestShopCallsThroughPeers(t *testing.T) {
	db := start(t, Options{Name: "db", DiskQuota: 4 << 20})
	cache := start(t, Options{Name: "cache"})
	catalog := start(t, Options{Name: "catalog", Peers: map[string]string{
		"db": strings.TrimPrefix(db, "http://"), "cache": strings.TrimPrefix(cache, "http://")}})
	for range 2 { // a miss, then a hit
		if st, body := do(t, "GET", catalog+"/products/7", ""); st != 200 || !strings.Contains(body, `"product 7"`) {
			t.Fatalf("catalog: %d %s", st, body)
		}
	}
	if st, _ := do(t, "GET", cache+"/kv/product:7", ""); st != 200 {
		t.Errorf("the catalog did not fill the cache: %d", st)
	}
	if st, body := do(t, "POST", db+"/orders", `{"user":"u1","amount":120}`); st != 200 || !strings.Contains(body, `"id"`) {
		t.Fatalf("order: %d %s", st, body)
	}
	// The disk filling: writes fail at the quota, and work again once
	// the fill is gone.
	if st, _ := do(t, "POST", db+"/control/fill?for=1m&rate=8388608", ""); st != http.StatusNoContent {
		t.Fatalf("fill: %d", st)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := do(t, "POST", db+"/orders", `{"user":"u1","amount":120}`)
		if st == http.StatusInsufficientStorage {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orders still answered %d with the disk full", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, body := do(t, "POST", db+"/control/free-disk", ""); st != 200 || !strings.Contains(body, "freed") {
		t.Fatalf("free-disk: %d %s", st, body)
	}
	if st, _ := do(t, "POST", db+"/orders", `{"user":"u1","amount":120}`); st != 200 {
		t.Errorf("after freeing the disk: %d", st)
	}
	if _, body := do(t, "GET", db+"/control/state", ""); body != "{}\n" {
		t.Errorf("faults left in force: %s", body)
	}
}

func TestBadConfigAndFaultyBuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	cache := start(t, Options{Name: "cache", Dir: dir})
	b, _ := json.Marshal(BadConfig())
	os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
	if st, _ := do(t, "POST", cache+"/control/reload", ""); st != http.StatusNoContent {
		t.Fatalf("reload: %d", st)
	}
	// With one request at a time and 20 ms of queueing, a slow request
	// makes the next ones wait and be refused.
	do(t, "POST", cache+"/control/slow?for=1m&ms=300", "")
	results := make(chan int, 8)
	for range 8 {
		go func() { st, _ := do(t, "GET", cache+"/kv/x", ""); results <- st }()
	}
	refused := 0
	for range 8 {
		if <-results == http.StatusServiceUnavailable {
			refused++
		}
	}
	if refused == 0 {
		t.Error("a pool of one refused nothing of 8 concurrent requests")
	}
	log, _ := os.ReadFile(filepath.Join(dir, "cache.log"))
	if !strings.Contains(string(log), "config loaded: max_in_flight=1") {
		t.Errorf("the reload is not in the log:\n%s", log)
	}

	faulty := start(t, Options{Name: "cache", Build: BuildFaulty})
	failed := 0
	for range 50 {
		if st, _ := do(t, "GET", faulty+"/kv/x", ""); st == http.StatusInternalServerError {
			failed++
		}
	}
	if failed < 5 || failed > 30 {
		t.Errorf("the faulty build failed %d of 50 requests, want about 15", failed)
	}
}
