package cases

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seerops/seer/internal/signal"
)

func TestLoadNothing(t *testing.T) {
	if _, _, err := Load(t.TempDir()); err == nil {
		t.Error("an empty directory loaded")
	}
}

func FuzzReadPetMetrics(f *testing.F) {
	f.Add("microservice,A,B\nmetric,latency,availability\nstatistic,Average,Average\nunix_timestamp,,\n1681851720.0,0.5,100\n")
	f.Add("a\nb\n")
	f.Fuzz(func(t *testing.T, s string) {
		p := filepath.Join(t.TempDir(), "metrics.csv")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = readPetMetrics(p)
		_, _ = readLong(p)
		_, _ = readWide(p)
		_, _ = readAdjacency(p)
	})
}

func TestLoadSeerGzipHostsAndErrors(t *testing.T) {
	dir := t.TempDir()
	c := filepath.Join(dir, "c1")
	if err := os.MkdirAll(c, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		t.Helper()
		p := filepath.Join(c, name)
		if filepath.Ext(name) == ".gz" {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write([]byte(s))
			zw.Close()
			s = b.String()
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("case.json", `{"onset": 1000, "alert": 1060, "end": 1200, "root_cause": {"entity": "cart", "kind": "cpu"}, "extra": [1,2]}`)
	write("metrics.csv.gz", "time,entity,name,value\n940,cart,cpu,1\n1000,cart,cpu,9\n")
	write("spans.jsonl.gz", `{"trace_id":"t","span_id":"s","service":"cart","start":1000000000000,"duration_ns":5,"new_field":true}`+"\n")
	write("topology.json", `{"edges":[["front","cart"]],"services":[{"name":"cart","instances":["cart-1"],"hosts":["10.0.0.1"]}]}`)
	cs, _, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := cs[0]
	if len(got.Samples) != 2 || len(got.Spans) != 1 || got.Alert.Unix() != 1060 {
		t.Errorf("samples %d spans %d alert %v", len(got.Samples), len(got.Spans), got.Alert)
	}
	if p := got.Topology.Placements; len(p) != 1 || p[0] != (signal.Placement{Service: "cart", Instance: "cart-1", Host: "host:10.0.0.1"}) {
		t.Errorf("placements: %+v", p)
	}
	write("metrics.csv.gz", "time,entity,name,value\n940,cart,cpu,1\n1000,cart,cpu,lots\n")
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "metrics.csv:3") {
		t.Errorf("a bad value: want an error naming metrics.csv:3, got %v", err)
	}
}
