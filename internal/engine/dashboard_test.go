package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/ingest/binarytest"
	"github.com/seerops/seer/internal/signal"
)

// dashboardFile is the provisioned Grafana dashboard, read by its queries.
const dashboardFile = "../../deploy/grafana/seer-dashboard.json"

// dashboardQueries are the PromQL expressions of every panel, with
// Grafana's variables given the values a first load gives them.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s does not load: %v", dashboardFile, err)
	}
	if d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: no uid or no panels", dashboardFile)
	}
	var out []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out = append(out, strings.NewReplacer("$__rate_interval", "1m", "$severity", ".*").Replace(tg.Expr))
		}
	}
	return out
}

// TestDashboard runs a real Prometheus that scrapes seer's /metrics with an
// open incident in the store: the open-incident series arrive, and every
// query of the Grafana dashboard is valid PromQL over them.
func TestDashboard(t *testing.T) {
	queries := dashboardQueries(t)
	bin := binarytest.Find(t, "prometheus", "prometheus", "/usr/bin/prometheus")
	e, base, stop := startEngine(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	at := time.Now().UTC()
	obs := []signal.Observation{
		{Time: at, Start: at, Entity: "cart", Kind: signal.TraceLatency, Name: "GET /cart", Score: 0.9},
		{Time: at, Start: at, Entity: "checkout", Kind: signal.MetricAnomaly, Name: "latency_p99_ms", Score: 0.7},
	}
	if err := e.store.AddObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}
	in := signal.Incident{Status: signal.IncidentOpen, Title: "cart slow", Onset: at, Opened: at, Updated: at,
		Entities: []string{"cart", "checkout"}, ObservationIDs: []int64{obs[0].ID, obs[1].ID},
		Causes: []signal.Cause{{Entity: "cart", Kind: "latency", Score: 0.8}}}
	if err := e.store.PutIncident(ctx, &in); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	addr := binarytest.FreeAddr(t)
	conf := binarytest.Write(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: seer
    static_configs:
      - targets: [%q]
`, strings.TrimPrefix(base, "http://")))
	binarytest.Start(t, bin, addr, "/-/ready", "--config.file="+conf, "--storage.tsdb.path="+dir+"/data",
		"--web.listen-address="+addr)

	query := func(q string) (status string, n int, body string) {
		res, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		_ = json.Unmarshal(b, &r) // an error answer keeps Status empty, which fails below
		return r.Status, len(r.Data.Result), string(b)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, n, _ := query(`seer_open_incidents{service="checkout",severity="critical"}`)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus has no seer_open_incidents for checkout after 60s of scraping")
		}
		time.Sleep(250 * time.Millisecond) // polling Prometheus, which scrapes every second
	}
	f := func(q string, want int) {
		t.Helper()
		if st, n, body := query(q); st != "success" || want >= 0 && n != want {
			t.Errorf("%s: %s with %d results, want %d: %s", q, st, n, want, body)
		}
	}
	f(`seer_open_incident_causes{cause="cart",severity="critical"}`, 1)
	f(`seer_open_incident_entity_score{entity="cart"} == 0.9`, 1)
	f(`seer_open_incident_entity_score{entity="checkout"} == 0.7`, 1)
	for _, q := range queries {
		f(q, -1)
	}
}
