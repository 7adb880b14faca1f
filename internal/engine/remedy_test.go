package engine

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/ingest/scrape"
)

func TestRemedyConfig(t *testing.T) {
	dir := t.TempDir()
	f := func(yaml string, want ...string) {
		t.Helper()
		p := filepath.Join(dir, "seer.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if len(want) == 0 && err != nil {
			t.Errorf("Load(%q): %v", yaml, err)
		}
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%q) = %v, want %q", yaml, err, w)
			}
		}
	}
	f("remedy: {dry_run: true, cooldown: 5m, max_percent: 0.5}\nscrape: {interval: 5s, timeout: 2s, targets: [{url: 'http://a:9100/metrics', entity: a}]}\nprobe: {targets: [{url: 'http://a/healthz', entity: a/a-1}]}\n")
	f("remedy: {max_percent: 2, settle: 0s}\n", "max_percent must be in [0,1]", "remedy: settle must be positive")
	f("scrape: {targets: [{url: 'x'}]}\n", `scrape: targets[0].url "x"`, "targets[0].entity is empty")
	f("probe: {interval: 1s, timeout: 2s}\n", "probe: timeout must be positive and at most the interval")
	f("remedy: {cooldwn: 1m}\n", "cooldwn")
}

func TestInstancesAndApprovalRoutes(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Scrape.Targets = []scrape.Target{scrapeTarget("shop/a"), scrapeTarget("shop/b"), scrapeTarget("shop"), scrapeTarget("other/a")}
	if n := (&Engine{cfg: cfg}).instances("shop"); n != 2 {
		t.Errorf("instances(shop) = %d, want 2", n)
	}
	_, base, stop := startEngine(t, t.TempDir())
	defer stop()
	resp, err := http.Post(base+"/api/v1/incidents/1/approve", "application/json", strings.NewReader(`{"by":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("approving a missing incident: %d, want 404", resp.StatusCode)
	}
	if code := get(t, base+"/api/v1/executions?incident=1", nil); code != 200 {
		t.Errorf("executions: %d", code)
	}
}

func scrapeTarget(entity string) scrape.Target {
	return scrape.Target{URL: "http://" + entity + "/metrics", Entity: entity}
}
