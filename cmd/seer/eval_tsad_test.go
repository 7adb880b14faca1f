package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalTSAD runs `seer eval tsad` on a small synthetic set and checks
// the JSON contract; then scores a scores file with --scores.
func TestEvalTSAD(t *testing.T) {
	dir := t.TempDir()
	ent := filepath.Join(dir, "toy", "host-1")
	if err := os.MkdirAll(ent, 0o755); err != nil {
		t.Fatal(err)
	}
	var train, test, labels, scores strings.Builder
	train.WriteString("time,m01,m02,m03\n")
	test.WriteString("time,m01,m02,m03\n")
	labels.WriteString("time,label\n")
	scores.WriteString("set,entity,time,score\n")
	for i := range 600 {
		a := 0.5 + 0.2*math.Sin(float64(i)/7)
		fmt.Fprintf(&train, "%d,%.4f,%.4f,%.4f\n", i, a, 1-a, 0.3+0.01*math.Cos(float64(i)))
	}
	for i := range 200 {
		a := 0.5 + 0.2*math.Sin(float64(i+600)/7)
		b, l := 1-a, 0
		if i >= 100 && i < 110 {
			b, l = a, 1 // m02 breaks from m01
		}
		fmt.Fprintf(&test, "%d,%.4f,%.4f,%.4f\n", 600+i, a, b, 0.3+0.01*math.Cos(float64(i)))
		fmt.Fprintf(&labels, "%d,%d\n", 600+i, l)
		fmt.Fprintf(&scores, "toy,host-1,%d,%d\n", 600+i, l)
	}
	for name, body := range map[string]string{"train.csv": train.String(), "test.csv": test.String(), "labels.csv": labels.String()} {
		if err := os.WriteFile(filepath.Join(ent, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := runEvalTSAD(context.Background(), []string{"--data", dir, "--json"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Entities  int                        `json:"entities"`
		Average   map[string]float64         `json:"average"`
		PerEntity map[string]json.RawMessage `json:"per_entity"`
		Sets      map[string]json.RawMessage `json:"sets"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	for _, k := range []string{"best_f1", "precision", "recall", "f1_at_threshold"} {
		if _, ok := rep.Average[k]; !ok {
			t.Errorf("average lacks %q: %s", k, out.String())
		}
	}
	if rep.Entities != 1 || rep.PerEntity["toy/host-1"] == nil || rep.Sets["toy"] == nil {
		t.Errorf("report %s", out.String())
	}
	if rep.Average["best_f1"] < 0.5 {
		t.Errorf("a metric breaking from its partner for 10 rows: best F1 %.3f, want at least 0.5", rep.Average["best_f1"])
	}

	sf := filepath.Join(dir, "scores.csv")
	if err := os.WriteFile(sf, []byte(scores.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runEvalTSAD(context.Background(), []string{"--data", dir, "--scores", sf}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "toy") || !strings.Contains(out.String(), "1.000") {
		t.Errorf("the labels as scores do not score 1:\n%s", out.String())
	}
	for _, args := range [][]string{{}, {"--data", dir, "extra"}, {"--data", filepath.Join(dir, "none")}} {
		if err := runEvalTSAD(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("runEvalTSAD(%q) succeeded", args)
		}
	}
}
