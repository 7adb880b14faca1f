package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seerops/seer/internal/ingest/binarytest"
)

// TestSimulatorFeedsSeerRunOverOTLP is the integration the issue asks for:
// a separately started `seer run`, fed by `seer sim --live` over OTLP/gRPC
// (the history backfilled at once, then real time), diagnoses the injected
// fault as the in-process demo does: catalog first.
func TestSimulatorFeedsSeerRunOverOTLP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs half a minute in real time; run without -short")
	}
	dir := t.TempDir()
	otlpAddr := binarytest.FreeAddr(t)
	base, stop := startSeer(t, filepath.Join(dir, "data"), "--otlp-grpc", otlpAddr)
	defer stop()

	scenario := filepath.Join(dir, "latency.yaml")
	if err := os.WriteFile(scenario, []byte(`name: live-latency
seed: 1
duration: 20m25s
topology: {builtin: shop}
config: {metric_interval: 5s, trace_sampling: 0.1}
faults:
  - {kind: latency, target: catalog, at: 20m}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"sim", "--scenario", scenario, "--live", "--otlp", otlpAddr}, nil, &out, &errOut); err != nil {
		t.Fatalf("seer sim: %v\n%s", err, errOut.String())
	}
	fault := began // the first fault happens as the live run starts

	var got struct {
		Incidents []struct {
			ID     int64     `json:"id"`
			Title  string    `json:"title"`
			Onset  time.Time `json:"onset"`
			Opened time.Time `json:"opened"`
			Causes []struct {
				Entity string `json:"entity"`
				Kind   string `json:"kind"`
			} `json:"causes"`
		} `json:"incidents"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/api/v1/incidents")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range got.Incidents {
			if in.Opened.Before(fault.Add(-2*time.Second)) || len(in.Causes) == 0 {
				continue
			}
			if in.Causes[0].Entity != "catalog" || in.Causes[0].Kind != "latency" {
				t.Fatalf("incident %d: top cause %+v, want catalog (latency) as in-process", in.ID, in.Causes[0])
			}
			t.Logf("over OTLP: incident %d opened %.1fs after the fault, top cause catalog (latency)", in.ID, in.Opened.Sub(fault).Seconds())
			return
		}
		if time.Now().After(deadline) {
			for _, in := range got.Incidents {
				t.Logf("incident %d %q: onset %+.1fs, opened %+.1fs from the fault, causes %+v", in.ID, in.Title,
					in.Onset.Sub(fault).Seconds(), in.Opened.Sub(fault).Seconds(), in.Causes)
			}
			t.Fatal("no incident opened after the fault")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
