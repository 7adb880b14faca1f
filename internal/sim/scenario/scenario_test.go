package scenario

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/signal"
)

func TestTestdataScenarios(t *testing.T) {
	files, _ := filepath.Glob("../testdata/scenarios/*.yaml")
	if len(files) < 5 {
		t.Fatalf("want the suite of scenarios, found %v", files)
	}
	for _, f := range files {
		sc, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		w, err := sc.Build()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(w.Truth()) != len(sc.Faults) || len(sc.Faults) == 0 {
			t.Errorf("%s: %d truths for %d faults", f, len(w.Truth()), len(sc.Faults))
		}
	}
}

func TestParseErrors(t *testing.T) {
	f := func(yml string, want ...string) {
		t.Helper()
		sc, err := Parse([]byte(yml))
		if err == nil {
			_, err = sc.Build()
		}
		if err == nil {
			t.Fatalf("%q: want an error", yml)
		}
		for _, s := range want {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not mention %q", err, s)
			}
		}
	}
	f("nmae: x", "nmae")
	f("topology: {builtin: mainframe}", "mainframe")
	f("faults: [{kind: explode, target: db, at: 1m}, {kind: latency, target: nowhere, at: 2m}]", "explode", "nowhere")
	f("duration: 10m\nfaults: [{kind: latency, target: db, at: 20m}]", "outside the run")
	f("changes: [{kind: reboot, target: db}]", "reboot")
}

// TestCaseDeterminism writes the same suite case twice and compares the
// files byte for byte, and checks that the ground truth is what was injected.
func TestCaseDeterminism(t *testing.T) {
	scs, err := Suite(15, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, sc := range scs {
		seen[string(sc.Faults[0].Kind)] = true
	}
	if len(seen) != 14 {
		t.Errorf("15 cases cover %d kinds of fault, want 14", len(seen))
	}
	sc := scs[6] // a network fault, the most intricate truth
	sc.Duration = 22 * time.Minute
	sc.Faults[0].Duration = time.Minute
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := WriteCase(context.Background(), sc, dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"case.json", "metrics.csv", "logs.jsonl", "spans.jsonl", "events.jsonl", "topology.json"} {
		x, err1 := os.ReadFile(filepath.Join(a, sc.Name, name))
		y, err2 := os.ReadFile(filepath.Join(b, sc.Name, name))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs of the same seed (%v, %v)", name, err1, err2)
		}
	}
	js, _ := os.ReadFile(filepath.Join(a, sc.Name, "case.json"))
	onset := sc.Start.Add(sc.Faults[0].At).Unix()
	for _, want := range []string{`"onset": ` + itoa(onset), `"entity": "` + sc.Faults[0].Target + `"`, `"kind": "` + string(sc.Faults[0].Kind) + `"`, `"end": ` + itoa(onset+60)} {
		if !strings.Contains(string(js), want) {
			t.Errorf("case.json lacks %s:\n%s", want, js)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(a, sc.Name, "metrics.csv"))
	if !strings.HasPrefix(string(csv), "time,entity,name,value\n") || !strings.Contains(string(csv), ",frontend,request_rate,") {
		t.Errorf("metrics.csv does not look right: %.200s", csv)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRunSpeed(t *testing.T) {
	sc, err := Parse([]byte("duration: 30s\ntopology: {builtin: shop}"))
	if err != nil {
		t.Fatal(err)
	}
	var slept time.Duration
	n := 0
	_, err = sc.Run(context.Background(), 10, func(_ context.Context, d time.Duration) error { slept += d; return nil },
		func(b signal.Batch) error { n += b.Len(); return nil })
	if err != nil || slept != 3*time.Second || n == 0 {
		t.Errorf("speed 10 over 30 s slept %s (want 3s), %d signals, err %v", slept, n, err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/scenarios/*.yaml")
	for _, p := range files {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse(data)
		if err != nil {
			return
		}
		sc.Duration = min(max(sc.Duration, time.Second), 5*time.Second)
		if w, err := sc.Build(); err == nil {
			w.Step()
		}
	})
}

// TestSuiteOneSystem: a one-system suite puts every case on the same
// random topology, and still covers every kind of fault.
func TestSuiteOneSystem(t *testing.T) {
	scs, err := Suite(28, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, sc := range scs {
		kinds[string(sc.Faults[0].Kind)]++
		if r, r0 := sc.Topology, scs[0].Topology; r.Random == nil || *r.Random != *r0.Random || r.RandomSeed != r0.RandomSeed {
			t.Fatalf("%s is on %+v, %s on %+v", sc.Name, r, scs[0].Name, r0)
		}
	}
	if len(kinds) != 14 {
		t.Errorf("28 cases cover %d kinds of fault, want 14: %v", len(kinds), kinds)
	}
	other, err := Suite(28, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	if other[1].Topology.RandomSeed == other[0].Topology.RandomSeed {
		t.Errorf("without one-system, two cases share a topology")
	}
}
