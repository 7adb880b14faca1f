package rca

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seerops/seer/internal/eval/cases"
)

// writeCase writes a metric-only case in seer's layout: b's cpu jumps at
// the onset, a stays flat.
func writeCase(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC).Unix()
	var b strings.Builder
	b.WriteString("time,entity,name,value\n")
	for i := range int64(600) {
		v := 0.2 + 0.01*float64(i%5)
		if i >= 400 {
			v = 0.95
		}
		fmt.Fprintf(&b, "%d,b,cpu_utilization,%g\n%d,a,cpu_utilization,%g\n", start+i, v, start+i, 0.3+0.01*float64(i%3))
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf(`{"system":"test","onset":%d,"end":%d,"root_cause":{"entity":"b","kind":"cpu"},"affected":["a"]}`, start+400, start+599)
	if err := os.WriteFile(filepath.Join(dir, "case.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "topology.json"), []byte(`{"edges":[["a","b"]]}`), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSeerLayout(t *testing.T) {
	dir := t.TempDir()
	writeCase(t, filepath.Join(dir, "c1"))
	cs, layout, err := cases.Load(dir)
	if err != nil || layout != cases.LayoutSeer || len(cs) != 1 {
		t.Fatalf("Load = %d cases, %q, %v", len(cs), layout, err)
	}
	if c := cs[0]; c.Root != "b" || len(c.Samples) != 1200 || len(c.Topology.Edges) != 1 {
		t.Fatalf("case %+v", c.Root)
	}
	rep, err := Run(context.Background(), cs, layout, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cases != 1 || rep.AC1 != 1 || rep.Avg5 != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestScore(t *testing.T) {
	s := Score([]Result{{Rank: 1}, {Rank: 3}, {Rank: 0}, {Rank: 6}})
	if s.AC1 != 0.25 || s.AC3 != 0.5 || s.Avg5 != (0.25+0.25+0.5+0.5+0.5)/5 {
		t.Fatalf("%+v", s)
	}

	// Timing counts the replayed cases only, and a case is on time when
	// its root cause was ranked top within 30 s: of the onset, or of the
	// fault taking effect (a deploy's regression 30 s after its event).
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	s = Score([]Result{
		{Rank: 1, DiagnosedAfter: sec(10)},                       // on time
		{Rank: 2, DiagnosedAfter: sec(10)},                       // fast but wrong
		{Rank: 1, DiagnosedAfter: sec(50), EffectAfter: sec(30)}, // a deploy, 20 s after its effect
		{Rank: 1, DiagnosedAfter: sec(90)},                       // late
		{Rank: 1, DiagnosedAfter: -1},                            // not replayed
	})
	if s.DiagnosedIn30s != 0.25 || s.DiagnosedIn30sEffect != 0.5 || s.DiagnosisMedianS != 50 {
		t.Fatalf("timing %+v", s)
	}
}

// TestPublicSets checks the done-when figures on the public cases.
func TestPublicSets(t *testing.T) {
	root := "/work/shared/data/rca"
	if d := os.Getenv("SEER_RCA_DATA"); d != "" {
		root = d
	}
	dir := filepath.Join(root, "sockshop-rcd")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the RCA data is not at %s (set SEER_RCA_DATA): %v", root, err)
	}
	cs, layout, err := cases.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), cs, layout, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cases != 50 || rep.Avg5 < 0.99 {
		t.Errorf("sockshop-rcd: %d cases, Avg@5 %.3f, want 50 and >= 0.99", rep.Cases, rep.Avg5)
	}
}

func BenchmarkDiagnoseMetricCase(b *testing.B) {
	dir := b.TempDir()
	t := &testing.T{}
	writeCase(t, filepath.Join(dir, "c"))
	cs, _, err := cases.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Diagnose(context.Background(), cs[0], Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
