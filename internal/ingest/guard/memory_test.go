package guard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/memlimit"
)

// TestMemoryLimit: bodies held by requests in progress count against the
// memory budget; above its soft limit a request is refused with 429 and
// Retry-After before its body is read, and once the bodies are released
// requests are taken again.
func TestMemoryLimit(t *testing.T) {
	mem, err := memlimit.New(memlimit.Config{LimitBytes: 256 << 10, SpikeBytes: 64 << 10, CheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mem.SetHeap(func() int64 { return 0 }) // the bytes counted, not this test process's heap
	cfg := DefaultConfig()
	cfg.MaxInFlight = 100
	cfg.Memory = mem
	g, err := New("test", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var held []*Body
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 40<<10)))
		w := httptest.NewRecorder()
		g.Serve(w, req, func() error {
			b, err := g.Read(req, false)
			if err != nil {
				return err
			}
			held = append(held, b) // a slow pipeline: the body stays held
			w.WriteHeader(http.StatusOK)
			return nil
		})
		return w
	}
	var refused *httptest.ResponseRecorder
	for range 20 {
		if w := post(); w.Code != http.StatusOK {
			refused = w
			break
		}
	}
	if refused == nil {
		t.Fatalf("20 bodies of 40 KiB held (%d bytes) and none refused; want a refusal above the soft limit of 192 KiB", mem.Queued())
	}
	if refused.Code != http.StatusTooManyRequests || refused.Header().Get("Retry-After") == "" || !strings.Contains(refused.Body.String(), "memory limit") {
		t.Errorf("refusal: %d %q (Retry-After %q); want 429 naming the memory limit, with Retry-After", refused.Code, refused.Body.String(), refused.Header().Get("Retry-After"))
	}
	if q := mem.Queued(); q < 192<<10 || q > 256<<10+64<<10 {
		t.Errorf("%d bytes held when refused; want between the soft limit and the limit plus one body", q)
	}
	for _, b := range held {
		b.Release()
	}
	if q := mem.Queued(); q != 0 {
		t.Errorf("%d bytes still counted after every body was released", q)
	}
	if w := post(); w.Code != http.StatusOK {
		t.Errorf("after the bodies were released: %d %s; want the request taken", w.Code, w.Body.String())
	}
}
